"""loket-hub: the integration hub between a municipal e-counter and the government back ends."""

__version__ = "0.1.0"
