"""What every MAGDA-backed adapter shares: its services per MAGDA identity and their lifecycle."""

from __future__ import annotations

from adapters.magda.client import ServiceSpec
from adapters.magda.services import MagdaServiceSet
from hub.config import BackendSettings, MagdaSettings, TenantSettings

__all__ = ["MagdaAdapter"]


class MagdaAdapter:
    """Base of an adapter whose back end is reached through MAGDA services ``SERVICES``."""

    SERVICES: tuple[ServiceSpec, ...] = ()

    def __init__(
        self,
        magda: MagdaSettings,
        backend: BackendSettings,
        tenants: dict[str, TenantSettings] | None = None,
        *,
        services: MagdaServiceSet | None = None,
    ) -> None:
        """``services``: the back end's shared client (with its breaker and limit), which its
        owner starts and closes; without it the adapter has a client of its own."""
        self._owns_services = services is None
        self._services = services or MagdaServiceSet(self.SERVICES, magda, backend, tenants or {})

    def check_config(self) -> list[str]:
        return self._services.check_config()

    async def start(self) -> None:
        if self._owns_services:
            await self._services.start()

    async def close(self) -> None:
        if self._owns_services:
            await self._services.close()
