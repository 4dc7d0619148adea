"""The repertorium: which client registered which INSZ (RegistreerInschrijving).

MAGDA answers GeefPersoon and GeefHistoriekPersoon only about people the calling client has
registered; the client is the request's ``Context/Bericht/Afzender/Identificatie``, matched to the
``Inschrijving/Identificatie`` it registered with (MAGDA refuses a registration for another
client). A subject is a person (``PERS``, by INSZ) or a company (``OND``, by KBO number).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Registration", "Repertorium"]


@dataclass(frozen=True)
class Registration:
    """One registered (client, INSZ) pair with what the client sent along."""

    client: str
    insz: str
    begin: str
    einde: str | None = None
    hoedanigheid: str | None = None
    afzender: str | None = None
    """``Afzender/Identificatie`` of the registering request (equal to ``client``)."""
    subject_type: str = "PERS"
    """``PERS`` (``insz`` is an INSZ) or ``OND`` (``insz`` is then a KBO number)."""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        """The registration as the control API shows it."""
        return asdict(self)


class Repertorium:
    """Registrations by (client, INSZ); the first registration of a pair is the one kept.

    The period is recorded, not enforced: a registration counts from the moment it is made.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Registration] = {}

    def register(self, registration: Registration) -> bool:
        """Record a registration; False when this client had already registered this INSZ."""
        key = (registration.client, registration.insz)
        if key in self._entries:
            return False
        self._entries[key] = registration
        return True

    def is_registered(self, client: str | None, insz: str) -> bool:
        """Whether ``client`` registered ``insz``."""
        return client is not None and (client, insz) in self._entries

    def registrations(self) -> list[Registration]:
        """Every registration, oldest first."""
        return list(self._entries.values())

    def clear(self) -> int:
        """Forget every registration; return how many there were."""
        count = len(self._entries)
        self._entries.clear()
        return count
