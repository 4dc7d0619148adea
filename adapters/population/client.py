"""Transport side of the population adapter: the MAGDA services it uses and the repertorium.

Every question carries what MAGDA's schema requires of it (see ``wsdl/magda/``):

- ``Bron`` (GeefPersoon, GeefHistoriekPersoon) is ``RR``, the national register: every
  certificate and prefill the hub makes states the register's own facts (main residence,
  household, nationality, civil status), and the register is their authentic source. ``KSZ``
  would add the social-security data sets (``OpvragingenKSZ``), which the hub never uses.
- ``Taal`` is the language MAGDA writes its descriptions in (a nationality's or a civil
  status's ``Omschrijving``): the job's language where MAGDA offers it (nl, fr, de, en), else
  ``nl``, the language of the Flemish administrations the hub serves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import structlog

from adapters.magda import ConsultationHook, MagdaAnswer, NotRegistered, ServiceSpec
from adapters.magda.envelope import RequestIdentity
from adapters.magda.services import IdentityServices, MagdaServiceSet
from adapters.population.errors import RegistrationRefused
from hub.breaker import CircuitBreaker
from hub.config import BackendSettings, MagdaSettings, TenantSettings
from hub.errors import HubError, MappingError

__all__ = [
    "HISTORY",
    "HOUSEHOLD",
    "PERSON",
    "REGISTER",
    "SERVICES",
    "PopulationClients",
    "Registration",
    "check_registration",
    "inschrijving",
    "magda_language",
    "person_inhoud",
]

log = structlog.get_logger(__name__)

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
SOURCE = "RR"
LANGUAGES = frozenset({"nl", "fr", "de", "en"})
ALREADY_REGISTERED = "40143"

SubjectType = Literal["PERS", "OND"]
"""A repertorium subject: a person (PERS, by INSZ) or a company (OND, by KBO number)."""


def magda_language(language: str | None) -> str:
    """``Taal`` for a person service: the job's language where MAGDA has it, else ``nl``."""
    return language if language in LANGUAGES else "nl"


def person_inhoud(spec: ServiceSpec, insz: str, *, language: str = "nl") -> dict[str, object]:
    """``Vraag/Inhoud`` of GeefPersoon, GeefHistoriekPersoon or GeefGezinssamenstelling."""
    criteria: dict[str, object] = {"INSZ": insz}
    if spec is HISTORY:
        criteria["Datum"] = {"_value_1": _ALL_HISTORY_FROM, "Op": "0"}
    if spec is HOUSEHOLD:
        # GeefGezinssamenstelling has no Bron: MAGDA's schema refuses one.
        return {"Criteria": criteria, "Taal": magda_language(language)}
    return {"Criteria": criteria, "Bron": SOURCE, "Taal": magda_language(language)}


def inschrijving(
    identity: RequestIdentity, key: str, *, subject: SubjectType, today: dt.date
) -> dict[str, object]:
    """``Vraag/Inhoud`` of RegistreerInschrijving 02.01 for one subject.

    The period is the day of the consultation only (Begin = Einde = today), as MAGDA's own
    client does for a one-off question: the hub registers a subject to answer one job, not to
    follow them. An open end would keep the person in our repertorium, and bring us their
    mutations, long after the certificate was delivered; a retry on a later day that meets
    40003 simply registers again.
    """
    return {
        "Inschrijving": {
            "Identificatie": identity.client_identification,
            "Hoedanigheid": identity.hoedanigheid,
            "BetrokkenSubject": {
                "Type": subject,
                "Subjecten": {"Subject": [{"Type": subject, "Sleutel": key}]},
            },
            "Periode": {"Begin": today.isoformat(), "Einde": today.isoformat()},
        }
    }


@dataclass(frozen=True)
class Registration:
    """What MAGDA answered to a registration: registered, or already registered (40143)."""

    already_registered: bool
    description: str | None


def check_registration(answer: MagdaAnswer) -> Registration:
    """Read ``Inhoud/Resultaat`` of a RegistreerInschrijving answer; raise when it failed.

    ``Resultaat`` 1 ("Wel geslaagd") is a registration; 40143 (already registered, with any
    Resultaat) is one too. ``Resultaat`` 0 ("Niet geslaagd") is :class:`RegistrationRefused`
    with MAGDA's reason.
    """
    already = any(w.code == ALREADY_REGISTERED for w in answer.warnings)
    resultaat = answer.inhoud.find("Resultaat") if answer.inhoud is not None else None
    if resultaat is None:
        if already:
            return Registration(True, None)
        raise MappingError("RegistreerInschrijving answered no Inhoud/Resultaat",
                           details={"magda_reference": answer.request_reference})
    code = (resultaat.text or "").strip()
    description = resultaat.get("Beschrijving")
    if code == "1" or already:
        return Registration(already, description)
    if code == "0":
        raise RegistrationRefused(
            "MAGDA did not register the subject in our repertorium: "
            + (description or "Niet geslaagd"),
            details={
                "service": REGISTER.name,
                "resultaat": code,
                "beschrijving": description,
                "magda_reference": answer.request_reference,
                "reply_reference": answer.reply_reference,
                "uitzonderingen": [w.as_details() for w in answer.warnings],
            },
        )
    raise MappingError(f"RegistreerInschrijving answered Resultaat {code!r}, not 0 or 1",
                       details={"magda_reference": answer.request_reference})


def _today() -> dt.date:
    # The local calendar day, as in the message's Tijdstip (adapters.magda.envelope).
    return dt.datetime.now(dt.UTC).astimezone().date()


class PopulationClients(MagdaServiceSet):
    """The population services per MAGDA identity, with the repertorium rule."""

    def __init__(
        self, magda: MagdaSettings, backend: BackendSettings, tenants: dict[str, TenantSettings],
        *, breaker: CircuitBreaker | None = None,
    ) -> None:
        super().__init__(SERVICES, magda, backend, tenants, breaker=breaker)

    async def household(
        self, services: IdentityServices, insz: str, *, referte: str, audit: ConsultationHook,
        language: str = "nl",
    ) -> MagdaAnswer:
        return await services.client(HOUSEHOLD).call(
            person_inhoud(HOUSEHOLD, insz, language=language), referte=referte, audit=audit
        )

    async def register(
        self, services: IdentityServices, key: str, *, referte: str, audit: ConsultationHook,
        subject: SubjectType = "PERS",
    ) -> Registration:
        """Register ``key`` (an INSZ, or a KBO number for ``OND``) in our repertorium."""
        identity = services.profile.identity
        try:
            answer = await services.client(REGISTER).call(
                inschrijving(identity, key, subject=subject, today=_today()),
                referte=referte, audit=audit,
            )
        except HubError as error:
            # 40143 as a FOUT still means the subject is in our repertorium.
            if error.details.get("magda_code") != ALREADY_REGISTERED:
                raise
            registration = Registration(True, None)
        else:
            registration = check_registration(answer)
        if registration.already_registered:
            log.info("magda.repertorium.already_registered", referte=referte)
        return registration

    async def person_data(
        self,
        services: IdentityServices,
        spec: ServiceSpec,
        insz: str,
        *,
        references: tuple[str, str, str],
        audit: ConsultationHook,
        language: str = "nl",
    ) -> MagdaAnswer:
        """GeefPersoon or GeefHistoriekPersoon, registering the INSZ first when MAGDA asks.

        ``references``: for the first question, the registration, and the question after it.
        """
        inhoud = person_inhoud(spec, insz, language=language)
        first, registration, after = references
        try:
            return await services.client(spec).call(inhoud, referte=first, audit=audit)
        except NotRegistered:
            # 40003: MAGDA only answers person services for INSZ numbers in our repertorium.
            await self.register(services, insz, referte=registration, audit=audit)
            return await services.client(spec).call(inhoud, referte=after, audit=audit)

