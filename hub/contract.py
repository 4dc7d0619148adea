"""Message contract v1: the job a front office publishes and the result the hub replies with.

The result's types (:class:`Result`, :class:`Document`, :class:`ErrorInfo`, :class:`Outcome`,
``CONTRACT_VERSION``) live in the front offices' client, :mod:`loket_hub.contract`, which needs
nothing of the hub; they are re-exported here. This module adds the hub's side: the validated
:class:`Job`. The JSON Schemas in ``hub/schemas/`` are the normative text; ``docs/contract.md``
explains them. :mod:`hub.contract_decoding` reads a job off the wire.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from loket_hub.contract import CONTRACT_VERSION, Document, ErrorInfo, Outcome, Result

__all__ = [
    "CONTRACT_VERSION",
    "Document",
    "ErrorInfo",
    "Job",
    "Outcome",
    "Requester",
    "Result",
    "Subject",
]


@dataclass(frozen=True)
class Requester:
    """Who asks: a capacity and the identifier that goes with it (normalised)."""

    capacity: str
    identifier: str
    authenticated: bool
    basis: str | None = None
    acting_person: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Subject:
    """About whom or what: a person (INSZ), company (KBO) or association."""

    kind: str
    identifier: str


@dataclass(frozen=True)
class Job:
    """A validated job. Identifiers are normalised (digits only)."""

    job_id: str
    type: str
    tenant: str
    requester: Requester
    subject: Subject
    product_id: int
    dossier_id: str
    parameters: dict[str, Any]
    purpose: str | None = None
    created_at: str | None = None

    @property
    def capability(self) -> str:
        """The part of the type before the first dot: it names the work queue."""
        return self.type.split(".", 1)[0]

    @cached_property
    def fingerprint(self) -> str:
        """What was asked, as a hash: tenant, type, requester (with acting person, basis and
        login), subject, product and parameters, identifiers normalised. A stored result is
        bound to it: the same job id with another fingerprint is another request, which never
        receives the first one's documents. Not in it: the dossier, purpose and timestamps,
        which do not change who sees what."""
        asked = {
            "tenant": self.tenant, "type": self.type,
            "requester": [self.requester.capacity, self.requester.identifier,
                          self.requester.authenticated, self.requester.basis,
                          self.requester.acting_person],
            "subject": [self.subject.kind, self.subject.identifier],
            "product_id": self.product_id, "parameters": self.parameters,
        }
        canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

