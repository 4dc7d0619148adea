"""The runtime ring: what turns broker deliveries into the core's work and back.

A handler per queue returns how its delivery ends (:mod:`hub.runtime.settle`); one publisher
sends everything (:mod:`hub.runtime.publisher`) through a transport (:mod:`hub.runtime.transport`:
AMQP, or in memory for tests); one path finishes a job (:mod:`hub.runtime.finish`). The
consumer itself is :class:`hub.worker.Worker`.
"""
