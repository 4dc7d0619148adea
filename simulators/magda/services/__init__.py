"""The simulated MAGDA services, one handler and one WSDL each, dispatched from :data:`SERVICES`.

Adding a service (GeefPersoon, GeefHistoriekPersoon, GeefAttest, ...) means writing a handler
module next to ``household.py``, its WSDL/XSD under ``wsdl/magda/<Naam>-<vv.vv>/``, and one
:class:`ServiceSpec` line in :data:`SERVICES`. The server does everything that is the same for
every MAGDA service: parsing, signature, schema validation, faults, Context and Repliek.
"""

from __future__ import annotations

from simulators.magda.services.base import Answer, Question, ServiceHandler, ServiceSpec
from simulators.magda.services.household import HOUSEHOLD

__all__ = ["SERVICES", "Answer", "Question", "ServiceHandler", "ServiceSpec"]

SERVICES: dict[str, ServiceSpec] = {spec.name: spec for spec in (HOUSEHOLD,)}
"""Service name (Context/Naam) -> its specification."""
