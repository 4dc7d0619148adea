"""MAGDA ``Uitzondering`` → typed hub error, by the code table in ``mappings/magda-errors.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import structlog

from hub.errors import (
    BackendError,
    FactsDoNotHold,
    HubError,
    InvalidInput,
    NotAllowed,
    NotFound,
    OurFault,
)

__all__ = ["MagdaException", "NotRegistered", "error_for", "load_code_table"]

log = structlog.get_logger(__name__)

_TABLE = Path(__file__).resolve().parents[2] / "mappings/magda-errors.toml"


@dataclass(frozen=True)
class MagdaException:
    """One ``Uitzondering`` as MAGDA sent it."""

    code: str
    origin: str
    type: str
    diagnosis: str

    @property
    def is_error(self) -> bool:
        return self.type == "FOUT"

    def as_details(self) -> dict[str, object]:
        return {
            "magda_code": self.code,
            "origin": self.origin,
            "type": self.type,
            "diagnosis": self.diagnosis,
        }


class NotRegistered(BackendError):
    """40003: the INSZ is not in our repertorium yet; register and try once more."""

    default_code = "BACKEND_NOT_REGISTERED"


@cache
def load_code_table(path: Path = _TABLE) -> tuple[dict[str, tuple[str, str | None]], str]:
    """MAGDA code → (kind, our result code or None for the kind's default)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table: dict[str, tuple[str, str | None]] = {}
    for code, entry in data.get("codes", {}).items():
        if isinstance(entry, dict):
            table[code] = (str(entry["kind"]), entry.get("code"))
        else:
            table[code] = (str(entry), None)
    return table, str(data.get("default", "transient"))


def error_for(exception: MagdaException, *, service: str) -> HubError:
    """The hub error for a FOUT. Our result codes are stable; MAGDA's code goes in details."""
    table, default = load_code_table()
    kind, own_code = table.get(exception.code, (default, None))
    details = {"service": service, **exception.as_details()}
    text = f"{service}: {exception.code} {exception.diagnosis}".strip()
    match kind:
        case "not-found":
            return NotFound(text, code=own_code or "SUBJECT_UNKNOWN", details=details)
        case "invalid-input":
            return InvalidInput(
                text, code=own_code or "BACKEND_REFUSED_IDENTIFIER", details=details
            )
        case "not-allowed":
            # Access not set up at MAGDA: no retry can fix it, so an operator must hear of it.
            log.error("magda.access.refused", service=service, magda_code=exception.code)
            return NotAllowed(text, code="BACKEND_NOT_AUTHORISED", details=details)
        case "facts":
            return FactsDoNotHold(text, code=own_code or "FACTS_DO_NOT_HOLD", details=details)
        case "not-registered":
            return NotRegistered(text, details=details)
        case "our-fault":
            return OurFault(text, code="BACKEND_REQUEST_INVALID", details=details)
        case _:
            return BackendError(text, code="BACKEND_UNAVAILABLE", details=details)
