"""Transport side of the population adapter: the MAGDA services it uses, per MAGDA identity.

Tenants that present the same MAGDA identity share one connection (one TLS session pool).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from adapters.magda import (
    ConsultationHook,
    MagdaAnswer,
    MagdaConnection,
    MagdaProfile,
    MagdaServiceClient,
    NotRegistered,
    ServiceSpec,
    profile_for,
)
from hub.config import BackendSettings, MagdaSettings, TenantSettings

__all__ = ["HISTORY", "HOUSEHOLD", "PERSON", "REGISTER", "SERVICES", "PopulationClients",
           "PopulationServices"]

HOUSEHOLD = ServiceSpec(
    "GeefGezinssamenstelling", "02.02.0000",
    "GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.wsdl",
)
PERSON = ServiceSpec("GeefPersoon", "02.02.0000", "GeefPersoon-02.02/GeefPersoon.wsdl")
HISTORY = ServiceSpec(
    "GeefHistoriekPersoon", "02.02.0000", "GeefHistoriekPersoon-02.02/GeefHistoriekPersoon.wsdl"
)
REGISTER = ServiceSpec(
    "RegistreerInschrijving", "02.01.0000",
    "RegistreerInschrijving-02.01/RegistreerInschrijving.wsdl",
)
SERVICES = (HOUSEHOLD, PERSON, HISTORY, REGISTER)
# The start of "everything": GeefHistoriekPersoon's Datum with Op="0" means "from this date on".
_ALL_HISTORY_FROM = dt.date(1800, 1, 1)


class PopulationServices:
    """The four services over one MAGDA identity, and what it registered in the repertorium."""

    def __init__(
        self, profile: MagdaProfile, magda: MagdaSettings, backend: BackendSettings,
        limit: asyncio.Semaphore,
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
            )
            for spec in SERVICES
        }
        # INSZ numbers this identity registered; lost on restart, which only costs one
        # registration that MAGDA answers with 40143 (already registered).
        self._registered: set[str] = set()

    async def start(self) -> None:
        await self._connection.open()
        for client in self._clients.values():
            client.load()

    async def close(self) -> None:
        await self._connection.close()

    async def household(self, insz: str, *, referte: str, audit: ConsultationHook) -> MagdaAnswer:
        return await self._clients[HOUSEHOLD.name].call(
            {"Criteria": {"INSZ": insz}}, referte=referte, audit=audit
        )

    async def register(self, insz: str, *, referte: str, audit: ConsultationHook) -> None:
        identity = self.profile.identity
        inschrijving: dict[str, object] = {
            "Identificatie": identity.client_identification,
            "BetrokkenSubject": {
                "Type": "PERS",
                "Subjecten": {"Subject": [{"Type": "OND", "Sleutel": insz}]},
            },
            "Periode": {"Begin": dt.date.today()},
        }
        if identity.hoedanigheid:
            inschrijving["Hoedanigheid"] = identity.hoedanigheid
        await self._clients[REGISTER.name].call(
            {"Inschrijving": inschrijving}, referte=referte, audit=audit
        )
        self._registered.add(insz)

    async def person_data(
        self,
        spec: ServiceSpec,
        insz: str,
        *,
        references: tuple[str, str, str],
        audit: ConsultationHook,
    ) -> MagdaAnswer:
        """GeefPersoon or GeefHistoriekPersoon, registering the INSZ first when MAGDA asks.

        ``references``: for the first question, the registration, and the question after it.
        """
        criteria: dict[str, object] = {"INSZ": insz}
        if spec is HISTORY:
            criteria["Datum"] = {"_value_1": _ALL_HISTORY_FROM, "Op": "0"}
        inhoud = {"Criteria": criteria}
        client = self._clients[spec.name]
        first, registration, after = references
        try:
            return await client.call(inhoud, referte=first, audit=audit)
        except NotRegistered:
            # 40003: MAGDA only answers person services for INSZ numbers in our repertorium.
            await self.register(insz, referte=registration, audit=audit)
            return await client.call(inhoud, referte=after, audit=audit)


class PopulationClients:
    """One :class:`PopulationServices` per distinct MAGDA identity among the tenants."""

    def __init__(
        self, magda: MagdaSettings, backend: BackendSettings, tenants: dict[str, TenantSettings]
    ) -> None:
        limit = asyncio.Semaphore(backend.concurrency)
        self._by_profile: dict[MagdaProfile, PopulationServices] = {}
        self._by_tenant: dict[str, PopulationServices] = {}
        default = profile_for(magda, None)
        self._default = self._services(default, magda, backend, limit)
        for slug, tenant in tenants.items():
            self._by_tenant[slug] = self._services(
                profile_for(magda, tenant), magda, backend, limit
            )

    def _services(
        self, profile: MagdaProfile, magda: MagdaSettings, backend: BackendSettings,
        limit: asyncio.Semaphore,
    ) -> PopulationServices:
        if profile not in self._by_profile:
            self._by_profile[profile] = PopulationServices(profile, magda, backend, limit)
        return self._by_profile[profile]

    @property
    def profiles(self) -> list[MagdaProfile]:
        return list(self._by_profile)

    def for_tenant(self, slug: str) -> PopulationServices:
        return self._by_tenant.get(slug, self._default)

    async def start(self) -> None:
        for services in self._by_profile.values():
            await services.start()

    async def close(self) -> None:
        for services in self._by_profile.values():
            await services.close()
