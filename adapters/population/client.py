"""Transport side of the population adapter: the MAGDA services it uses and the repertorium."""

from __future__ import annotations

import datetime as dt

from adapters.magda import ConsultationHook, MagdaAnswer, NotRegistered, ServiceSpec
from adapters.magda.services import IdentityServices, MagdaServiceSet
from hub.config import BackendSettings, MagdaSettings, TenantSettings

__all__ = ["HISTORY", "HOUSEHOLD", "PERSON", "REGISTER", "SERVICES", "PopulationClients"]

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


class PopulationClients(MagdaServiceSet):
    """The population services per MAGDA identity, with the repertorium rule."""

    def __init__(
        self, magda: MagdaSettings, backend: BackendSettings, tenants: dict[str, TenantSettings]
    ) -> None:
        super().__init__(SERVICES, magda, backend, tenants)
        # (client identification, INSZ) registered; lost on restart, which only costs one
        # registration that MAGDA answers with 40143 (already registered).
        self._registered: set[tuple[str, str]] = set()

    async def household(
        self, services: IdentityServices, insz: str, *, referte: str, audit: ConsultationHook
    ) -> MagdaAnswer:
        return await services.client(HOUSEHOLD).call(
            {"Criteria": {"INSZ": insz}}, referte=referte, audit=audit
        )

    async def register(
        self, services: IdentityServices, insz: str, *, referte: str, audit: ConsultationHook
    ) -> None:
        identity = services.profile.identity
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
        await services.client(REGISTER).call(
            {"Inschrijving": inschrijving}, referte=referte, audit=audit
        )
        self._registered.add((identity.client_identification, insz))

    async def person_data(
        self,
        services: IdentityServices,
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
        first, registration, after = references
        try:
            return await services.client(spec).call(inhoud, referte=first, audit=audit)
        except NotRegistered:
            # 40003: MAGDA only answers person services for INSZ numbers in our repertorium.
            await self.register(services, insz, referte=registration, audit=audit)
            return await services.client(spec).call(inhoud, referte=after, audit=audit)
