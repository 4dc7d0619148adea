"""A set of MAGDA services per MAGDA identity: the client of one back end.

Tenants that present the same MAGDA identity share one connection (one TLS session pool) and
one loaded WSDL per service; a tenant with its own identity gets its own. The set holds the back
end's one concurrency limit and (given by the composition root) its one breaker; every adapter
that calls the back end is given the same set (see ``hub.app.build_backends``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from adapters.magda.client import MagdaServiceClient, ServiceSpec
from adapters.magda.connection import (
    MagdaConnection,
    MagdaProfile,
    hoedanigheid_problems,
    profile_for,
)
from hub.breaker import CircuitBreaker
from hub.config import BackendSettings, MagdaSettings, TenantSettings

__all__ = ["IdentityServices", "MagdaServiceSet"]


class IdentityServices:
    """The given services over one MAGDA identity."""

    def __init__(
        self,
        profile: MagdaProfile,
        specs: Iterable[ServiceSpec],
        magda: MagdaSettings,
        backend: BackendSettings,
        limit: asyncio.Semaphore,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.profile = profile
        self._connection = MagdaConnection(profile, backend)
        self._clients = {
            spec.name: MagdaServiceClient(
                spec,
                base_url=magda.base_url,
                wsdl_dir=magda.wsdl_dir,
                connection=self._connection,
                limit=limit,
                total_timeout_s=backend.total_timeout_s,
                connect_retries=backend.connect_retries,
                breaker=breaker,
            )
            for spec in specs
        }

    def client(self, spec: ServiceSpec) -> MagdaServiceClient:
        return self._clients[spec.name]

    async def start(self) -> None:
        await self._connection.open()
        for client in self._clients.values():
            client.load()

    async def close(self) -> None:
        await self._connection.close()


class MagdaServiceSet:
    """One :class:`IdentityServices` per distinct MAGDA identity among the tenants."""

    def __init__(
        self,
        specs: Iterable[ServiceSpec],
        magda: MagdaSettings,
        backend: BackendSettings,
        tenants: dict[str, TenantSettings],
        *,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.specs = tuple(specs)
        self.breaker = breaker
        self._magda = magda
        self._backend = backend
        # One limit for the whole back end, whichever identity calls it.
        self._limit = asyncio.Semaphore(backend.concurrency)
        self._by_profile: dict[MagdaProfile, IdentityServices] = {}
        self._tenants = tenants
        self._default = self._services(profile_for(magda, None, backend))
        self._by_tenant = {
            slug: self._services(profile_for(magda, tenant, backend))
            for slug, tenant in tenants.items()
        }

    def _services(self, profile: MagdaProfile) -> IdentityServices:
        if profile not in self._by_profile:
            self._by_profile[profile] = IdentityServices(
                profile, self.specs, self._magda, self._backend, self._limit, self.breaker
            )
        return self._by_profile[profile]

    @property
    def limit(self) -> asyncio.Semaphore:
        """The back end's one concurrency limit (``backends.<name>.concurrency``)."""
        return self._limit

    def for_tenant(self, slug: str) -> IdentityServices:
        return self._by_tenant.get(slug, self._default)

    def check_config(self) -> list[str]:
        """Missing WSDLs, key/certificate files and Hoedanigheid, for ``check-config`` and
        start-up."""
        problems = hoedanigheid_problems(self._magda, self._tenants) + [
            f"WSDL not found: {self._magda.wsdl_dir / spec.wsdl}"
            for spec in self.specs
            if not (self._magda.wsdl_dir / spec.wsdl).is_file()
        ]
        for profile in self._by_profile:
            problems += [
                f"{label} not found: {path}" for label, path in profile.files()
                if not path.is_file()
            ]
        if not self._magda.base_url.startswith(("http://", "https://")):
            problems.append("magda.base_url must be an http(s) URL")
        return sorted(set(problems))

    async def start(self) -> None:
        for services in self._by_profile.values():
            await services.start()

    async def close(self) -> None:
        for services in self._by_profile.values():
            await services.close()
