"""The simulated MAGDA services, one handler and one WSDL each, dispatched from :data:`SERVICES`.

Adding a service (GeefAttest, ...) means writing a handler module next to ``household.py``, its
WSDL/XSD under ``wsdl/magda/<Naam>-<vv.vv>/``, and one :class:`ServiceSpec` line in
:data:`SERVICES`. The server does everything that is the same for every MAGDA service: parsing,
signature, schema validation, faults, Context and Repliek, documents (PDFs made off the event
loop, inline or as MTOM attachments), reply signing.
"""

from __future__ import annotations

from simulators.magda.services.base import (
    Answer,
    PendingDocument,
    Question,
    Registers,
    ServiceHandler,
    ServiceSpec,
)
from simulators.magda.services.civil_act import CIVIL_ACT
from simulators.magda.services.civil_search import CIVIL_SEARCH
from simulators.magda.services.criminal_extract import CRIMINAL_EXTRACT
from simulators.magda.services.criminal_status import CRIMINAL_STATUS, CRIMINAL_TYPES
from simulators.magda.services.history import HISTORY
from simulators.magda.services.household import HOUSEHOLD
from simulators.magda.services.person import PERSON
from simulators.magda.services.registration import REGISTRATION

__all__ = [
    "SERVICES",
    "Answer",
    "PendingDocument",
    "Question",
    "Registers",
    "ServiceHandler",
    "ServiceSpec",
]

SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec for spec in (
        HOUSEHOLD, PERSON, HISTORY, REGISTRATION,
        CIVIL_SEARCH, CIVIL_ACT, CRIMINAL_EXTRACT, CRIMINAL_STATUS, CRIMINAL_TYPES,
    )
}
"""Service name (Context/Naam) -> its specification."""
