"""Back-end adapters: one package per back end, each implementing :class:`hub.ports.Adapter`."""
