"""The simulated MAGDA services, one handler and one WSDL each, dispatched from :data:`SERVICES`.

Adding a service (GeefAttest, ...) means writing a handler module next to ``household.py``, its
WSDL/XSD under ``wsdl/magda/<Naam>-<vv.vv>/``, and one :class:`ServiceSpec` line in
:data:`SERVICES`. The server does everything that is the same for every MAGDA service: parsing,
signature, schema validation, faults, Context and Repliek, reply signing.
"""

from __future__ import annotations

from simulators.magda.services.base import (
    Answer,
    Question,
    Registers,
    ServiceHandler,
    ServiceSpec,
)
from simulators.magda.services.history import HISTORY
from simulators.magda.services.household import HOUSEHOLD
from simulators.magda.services.person import PERSON
from simulators.magda.services.registration import REGISTRATION

__all__ = ["SERVICES", "Answer", "Question", "Registers", "ServiceHandler", "ServiceSpec"]

SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec for spec in (HOUSEHOLD, PERSON, HISTORY, REGISTRATION)
}
"""Service name (Context/Naam) -> its specification."""
