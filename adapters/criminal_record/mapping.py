"""Pure: the model rules (data), the answers, the journal. No I/O.

The questions are built in ``adapters.criminal_record.client``. The answers are read in MAGDA's
structure (Justitie-02.00): ``UittrekselStrafregister{INSZ, Status, Identificatienummer?,
Bestand?{Naam?, xop:Include}}`` for a request and a fetch,
``StatusUittrekselStrafregister{Pagina, InformatieUittreksels?}`` for a status query.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from adapters.criminal_record.errors import NotEntitled, UnknownActivity
from adapters.magda.xmlread import required, text
from hub.contract import Job
from hub.errors import ConfigurationError, MappingError

__all__ = [
    "READY",
    "REFUSED",
    "Extract",
    "ModelRule",
    "check_request",
    "extract_from_inhoud",
    "load_models",
    "next_poll_s",
    "status_of",
]

RULES_FILE = Path(__file__).resolve().parents[2] / "mappings/criminal-record.toml"
READY = "KLAAR"
REFUSED = "GEWEIGERD"


@dataclass(frozen=True)
class ModelRule:
    model: str
    name: str
    requesters: frozenset[str]
    activities: frozenset[str]
    police_check: bool
    first_poll_s: float
    max_poll_s: float
    max_wait: dt.timedelta


@cache
def load_models(path: Path = RULES_FILE) -> dict[str, ModelRule]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        return {
            model: ModelRule(
                model=model,
                name=entry["name"],
                requesters=frozenset(entry["requesters"]),
                activities=frozenset(entry.get("activities", [])),
                police_check=bool(entry.get("police_check", False)),
                first_poll_s=float(entry["first_poll_s"]),
                max_poll_s=float(entry["max_poll_s"]),
                max_wait=dt.timedelta(days=float(entry["max_wait_days"])),
            )
            for model, entry in data["models"].items()
        }
    except KeyError as exc:
        raise ConfigurationError(f"{path.name}: missing {exc}") from exc


def check_request(job: Job, rule: ModelRule) -> None:
    """Who may ask (data), and a known activity where the model needs one."""
    requester = job.requester
    asking_for_self = (
        requester.capacity == "person"
        and requester.authenticated
        and requester.identifier == job.subject.identifier
    )
    if not ("self" in rule.requesters and asking_for_self):
        raise NotEntitled(
            f"only the person concerned, logged in, may ask for a {rule.name}",
            details={"rule": f"models.{rule.model}.requesters"},
        )
    activity = job.parameters.get("activity")
    if rule.activities and activity not in rule.activities:
        raise UnknownActivity(
            f"model {rule.model} needs one of the activities {sorted(rule.activities)}",
            details={"activity": activity},
        )


@dataclass(frozen=True)
class Extract:
    """``UittrekselStrafregister``: the answer to a request and to a fetch."""

    insz: str
    status: str
    number: str | None
    file_name: str | None
    document: etree._Element | None
    """``Bestand``, holding the ``xop:Include`` of the PDF; absent until it is fetched ready."""


def extract_from_inhoud(inhoud: etree._Element | None) -> Extract:
    """``Antwoord/Inhoud`` of GeefUittrekselStrafregister → the extract it speaks of."""
    element = inhoud.find("UittrekselStrafregister") if inhoud is not None else None
    if element is None:
        raise MappingError("the extract answer has no UittrekselStrafregister")
    bestand = element.find("Bestand")
    return Extract(
        insz=required(element, "INSZ"),
        status=required(element, "Status"),
        number=text(element, "Identificatienummer"),
        file_name=text(bestand, "Naam") if bestand is not None else None,
        document=bestand,
    )


def status_of(inhoud: etree._Element | None, number: str) -> str:
    """The Status of extract ``number`` in a GeefStatusUittrekselStrafregister answer."""
    if inhoud is not None:
        for info in inhoud.findall(
            "StatusUittrekselStrafregister/InformatieUittreksels/InformatieUittreksel"
        ):
            if text(info, "Identificatienummer") == number:
                return required(info, "Status")
    raise MappingError(f"the status answer does not mention extract {number}")


def next_poll_s(rule: ModelRule, polls: int) -> float:
    """Waits double from the model's first poll up to its cap."""
    # Cap the exponent too: 2**polls alone would overflow a float after ~1000 polls.
    doublings = min(polls, 64)
    return float(min(rule.first_poll_s * (2.0**doublings), rule.max_poll_s))
