"""Settings of the simulated back office."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.hmac_signing import DEFAULT_TOLERANCE_S

__all__ = ["DEFAULT_ACTIONS", "BackofficeSimulatorSettings"]

DEFAULT_ACTIONS: tuple[str, ...] = ("received", "completed")


@dataclass(frozen=True)
class BackofficeSimulatorSettings:
    """Where the simulated back office listens, how it checks requests, and how it answers.

    ``secret``: the HMAC key shared with the hub for ``POST /requests`` (required), which
    also signs the answers (the hub authenticates every action); ``tenant_secrets`` per tenant.
    ``amqp_url``: the broker for the answers (exchange ``exchange``, routing key
    ``action.<tenant>``) and, with ``queue``, for forwarded requests; without it, answers are
    only recorded. ``declare_queue``: declare ``queue`` (durable) or expect it to exist.
    ``actions``: the default script, run for every new request: the first action at once, each
    next one ``action_delay_ms`` later. ``employee``: the name in the answers.
    ``tolerance_s``: how far ``X-Loket-Timestamp`` may be from the simulator's clock.
    ``publish_attempts``: tries per answer while the broker is away or the answer is unroutable.
    ``port`` 0 picks a free port; the started simulator reports the real one.
    """

    secret: bytes
    host: str = "127.0.0.1"
    port: int = 8703
    amqp_url: str | None = None
    queue: str | None = None
    declare_queue: bool = True
    exchange: str = "loket.backoffice"
    actions: tuple[str, ...] = DEFAULT_ACTIONS
    action_delay_ms: int = 200
    employee: str = "Sam Simulant"
    tolerance_s: int = DEFAULT_TOLERANCE_S
    publish_attempts: int = 5
    publish_timeout_s: float = 5.0
    # A tenant's own secret where it has one (the hub gives every tenant its own); ``secret``
    # for the others. It checks that tenant's forwards and signs the actions sent for it.
    tenant_secrets: Mapping[str, bytes] = field(default_factory=dict)

    def secret_for(self, tenant: str) -> bytes:
        return self.tenant_secrets.get(tenant, self.secret)
