"""Pure: the model rules (data), the status answer, the journal. No I/O.

The questions are built in ``adapters.criminal_record.client``.
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
    "ModelRule",
    "check_request",
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


def status_of(inhoud: etree._Element | None, number: str) -> str:
    """The status code of extract ``number`` in a GeefStatusUittrekselStrafregister answer."""
    if inhoud is not None:
        for info in inhoud.findall("InformatieUittreksel"):
            if text(info, "Identificatienummer") == number:
                return required(info, "Status/Code")
    raise MappingError(f"the status answer does not mention extract {number}")


def next_poll_s(rule: ModelRule, polls: int) -> float:
    """Waits double from the model's first poll up to its cap."""
    # Cap the exponent too: 2**polls alone would overflow a float after ~1000 polls.
    doublings = min(polls, 64)
    return float(min(rule.first_poll_s * (2.0**doublings), rule.max_poll_s))
