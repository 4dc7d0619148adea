"""The one exception tree of loket-hub. The retry decision keys off the class alone.

::

    HubError                          code, message, retryable
    ├── TransientError                retryable = True  → delayed retry queue, then ``failed``
    │   ├── BrokerError               publish not confirmed, channel closed, confirm timeout
    │   ├── BackendError              HTTP 5xx, transport error, MAGDA technical exception
    │   │   └── BackendTimeout        connect/read/total deadline passed
    │   ├── TimestampUnavailable      the time-stamping authority did not answer (B-T and up)
    │   └── RevocationUnavailable     no current OCSP/CRL answer for a B-LT signature
    ├── PermanentError                retryable = False → ``rejected``
    │   ├── InvalidInput              bad JSON, schema violation, check digits
    │   ├── ApprovalRequired          a human must decide → ``awaiting-approval``
    │   ├── NotAllowed                the requester may not ask this for this subject
    │   ├── NotFound                  the back end knows no such person or document
    │   └── FactsDoNotHold            e.g. a deceased head of household
    └── OurFault                      retryable = False → ``failed`` + dead letter + alert
        ├── ConfigurationError        access not set up at MAGDA (13001, 40005 …), bad settings
        ├── SignatureError            our document or envelope could not be signed
        └── MappingError              an answer we cannot map (a bug or a schema change)

Adapters raise these; the pipeline turns them into the result's structured error.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ApprovalRequired",
    "BackendError",
    "BackendTimeout",
    "BrokerError",
    "ConfigurationError",
    "FactsDoNotHold",
    "HubError",
    "InvalidInput",
    "MappingError",
    "NotAllowed",
    "NotFound",
    "OurFault",
    "PermanentError",
    "RevocationUnavailable",
    "SignatureError",
    "TimestampUnavailable",
    "TransientError",
]


class HubError(Exception):
    """Base of every error the hub reports: a stable ``code`` and a human ``message``."""

    retryable: ClassVar[bool] = False
    default_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: dict[str, object] = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class TransientError(HubError):
    """Worth another attempt later through the delayed retry queues."""

    retryable = True
    default_code = "TRANSIENT_ERROR"


class BrokerError(TransientError):
    default_code = "BROKER_UNAVAILABLE"


class BackendError(TransientError):
    default_code = "BACKEND_UNAVAILABLE"


class BackendTimeout(BackendError):
    default_code = "BACKEND_TIMEOUT"


class TimestampUnavailable(TransientError):
    """A document that must carry a time stamp is never delivered without one: retried."""

    default_code = "TIMESTAMP_UNAVAILABLE"


class RevocationUnavailable(TransientError):
    """A long-term signature needs current OCSP/CRL answers for its chain: retried."""

    default_code = "REVOCATION_UNAVAILABLE"


class PermanentError(HubError):
    """Another attempt would give the same answer: the job is rejected."""

    retryable = False
    default_code = "REJECTED"


class InvalidInput(PermanentError):
    default_code = "INVALID_INPUT"


class ApprovalRequired(PermanentError):
    """Not refused, not automatic: an employee decides. ``details`` say which rule applied."""

    default_code = "APPROVAL_REQUIRED"


class NotAllowed(PermanentError):
    default_code = "NOT_ALLOWED"


class NotFound(PermanentError):
    default_code = "NOT_FOUND"


class FactsDoNotHold(PermanentError):
    default_code = "FACTS_DO_NOT_HOLD"


class OurFault(HubError):
    """A defect on our side: the job fails, is dead-lettered and an operator is alerted."""

    retryable = False
    default_code = "INTERNAL_ERROR"


class ConfigurationError(OurFault):
    default_code = "CONFIGURATION_ERROR"


class SignatureError(OurFault):
    default_code = "SIGNATURE_ERROR"


class MappingError(OurFault):
    default_code = "MAPPING_ERROR"
