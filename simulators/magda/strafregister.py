"""The simulated criminal record's requests: extracts, their progress, and their numbers.

Progress is counted in status queries, not in time, so tests need no clock: an extract turns
final (KLAAR, or GEWEIGERD after a refused police check) once ``ready_after_polls`` status
queries about it were answered (``police_check_polls`` for model 596.2). With the defaults 1 and
3, the first status query about a 595 still says IN_BEHANDELING and the second says KLAAR; with
0 an extract is ready at once (the Aanvraag answer still says IN_BEHANDELING, and the first
status query KLAAR). A final status never changes again, even when the numbers are changed
afterwards. State lives in memory: a restart forgets every extract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulators.population_judicial import POLICE_CHECK_TYPE

__all__ = [
    "IN_PROGRESS",
    "READY",
    "REFUSED",
    "STATUSES",
    "Extract",
    "ExtractRequest",
    "Strafregister",
]

IN_PROGRESS = "IN_BEHANDELING"
READY = "KLAAR"
REFUSED = "GEWEIGERD"
STATUSES: dict[str, str] = {
    IN_PROGRESS: "In behandeling",
    READY: "Klaar voor download",
    REFUSED: "Geweigerd",
}
"""Status (a plain text in MAGDA's answers, the simulator's own values) -> what it means."""
_FIRST_NUMBER = 24_000_001


def belgian_now() -> datetime:
    """The time in Belgium (UTC on a machine without time-zone data), as DatumAanvraag has it."""
    now = datetime.now(UTC)
    try:
        return now.astimezone(ZoneInfo("Europe/Brussels"))
    except ZoneInfoNotFoundError:
        return now


@dataclass(frozen=True)
class ExtractRequest:
    """What an Aanvraag asks for, as the simulator keeps it."""

    insz: str
    type: str
    language: str
    insz_on_extract: bool
    nis_code: str
    requester: str
    """Gemeente/Aanvrager/INSZ: the official who asked."""
    activity: str | None = None
    remark: str | None = None
    reference: str | None = None
    """Referentie: the client's own reference, a status-query criterion."""
    client: str | None = None
    refuse: bool = False
    """The police check will be refused (596.2 only)."""


@dataclass
class Extract:
    """One requested extract and how far it got."""

    number: str
    """Identificatienummer, ``NNNNNNNN-N``."""
    request: ExtractRequest
    requested: datetime
    """When it was asked for, in Belgian local time (DatumAanvraag)."""
    polls: int = 0
    """Status queries about it answered so far."""
    downloads: int = 0
    final: str | None = None

    def to_json(self, status: str) -> dict[str, Any]:
        """The extract as the control API shows it."""
        return {
            "identificatienummer": self.number,
            "status": status,
            "insz": self.request.insz,
            "type": self.request.type,
            "activiteit": self.request.activity,
            "referentie": self.request.reference,
            "gemeente": self.request.nis_code,
            "client": self.request.client,
            "datum_aanvraag": self.requested.isoformat(timespec="seconds"),
            "polls": self.polls,
            "gedownload": self.downloads > 0,
        }


@dataclass
class Strafregister:
    """Every extract requested from this simulator, by Identificatienummer."""

    ready_after_polls: int = 1
    police_check_polls: int = 3
    _extracts: dict[str, Extract] = field(default_factory=dict, init=False, repr=False)
    _next: int = field(default=_FIRST_NUMBER, init=False, repr=False)

    def __post_init__(self) -> None:
        self.configure(ready_after_polls=self.ready_after_polls,
                       police_check_polls=self.police_check_polls)

    def request(self, request: ExtractRequest, now: datetime | None = None) -> Extract:
        """Register a new extract under the next number (numbers are never reused in a run)."""
        number = f"{self._next:08d}-{self._next % 7}"
        self._next += 1
        extract = Extract(number, request, (now or belgian_now()).replace(microsecond=0))
        self._extracts[number] = extract
        return extract

    def get(self, number: str) -> Extract | None:
        """The extract with this Identificatienummer, or None."""
        return self._extracts.get(number.strip())

    def status(self, extract: Extract) -> str:
        """The extract's status now; a final one is kept for good."""
        if extract.final is not None:
            return extract.final
        police = extract.request.type == POLICE_CHECK_TYPE
        needed = self.police_check_polls if police else self.ready_after_polls
        if extract.polls < needed:
            return IN_PROGRESS
        extract.final = REFUSED if police and extract.request.refuse else READY
        return extract.final

    def poll(self, extract: Extract) -> str:
        """Answer one status query about the extract: its status, then count the query."""
        status = self.status(extract)
        extract.polls += 1
        return status

    def fetched(self, extract: Extract) -> None:
        """Record a download (a fetch by Identificatienummer) of a ready extract."""
        extract.downloads += 1

    def matching(
        self, *, insz: str | None = None, reference: str | None = None
    ) -> list[Extract]:
        """The extracts that meet every criterion given, oldest first."""
        return [
            e for e in self._extracts.values()
            if (insz is None or e.request.insz == insz)
            and (reference is None or e.request.reference == reference)
        ]

    def configure(self, *, ready_after_polls: int | None = None,
                  police_check_polls: int | None = None) -> None:
        """Change the progress model for every extract not yet final (numbers are >= 0)."""
        for value in (ready_after_polls, police_check_polls):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError("ready_after_polls and police_check_polls are integers >= 0")
        if ready_after_polls is not None:
            self.ready_after_polls = ready_after_polls
        if police_check_polls is not None:
            self.police_check_polls = police_check_polls

    def to_json(self) -> dict[str, Any]:
        """The progress model and every extract, for the control API."""
        return {
            "ready_after_polls": self.ready_after_polls,
            "police_check_polls": self.police_check_polls,
            "extracts": [e.to_json(self.status(e)) for e in self._extracts.values()],
        }

    def clear(self) -> int:
        """Forget every extract; return how many there were."""
        count = len(self._extracts)
        self._extracts.clear()
        return count
