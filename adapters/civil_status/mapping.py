"""Pure: DABS answers → act synopses, the entitlement rule, the act document. No I/O.

The rules are data (``mappings/civil-status.toml``); this module only reads and applies them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from adapters.civil_status.errors import ActNotDigitised, ActNotFound, AmbiguousAct, NotEntitled
from adapters.magda.xmlread import date_at, required, text
from hub.errors import ApprovalRequired, ConfigurationError

__all__ = [
    "ActRules",
    "ActSynopsis",
    "Person",
    "decide_entitlement",
    "load_rules",
    "pick_act",
    "synopses_from_inhoud",
]

RULES_FILE = Path(__file__).resolve().parents[2] / "mappings/civil-status.toml"
CONCERNED = "concerned"


@dataclass(frozen=True)
class Person:
    insz: str | None
    name: str
    role: str


@dataclass(frozen=True)
class ActSynopsis:
    reference: str
    type_code: str
    type_description: str | None
    status: str
    drawn_up_on: dt.date
    municipality_nis: str
    municipality: str | None
    persons: tuple[Person, ...]

    def summary(self) -> dict[str, str]:
        return {
            "reference": self.reference,
            "type": self.type_code,
            "drawn_up_on": self.drawn_up_on.isoformat(),
            "municipality": self.municipality or self.municipality_nis,
        }


@dataclass(frozen=True)
class ActRules:
    acts: dict[str, tuple[str, str]]  # act id → (DABS code, file-name word)
    automatic: dict[str, frozenset[str]]  # form → relations delivered at once
    approval: dict[str, frozenset[str]]  # form → relations an employee decides on
    available: frozenset[str]

    def code_of(self, act: str) -> str:
        return self.acts[act][0]


@cache
def load_rules(path: Path = RULES_FILE) -> ActRules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        return ActRules(
            acts={act: (v["code"], v["name"]) for act, v in data["acts"].items()},
            automatic={f: frozenset(v["automatic"]) for f, v in data["forms"].items()},
            approval={f: frozenset(v.get("approval", [])) for f, v in data["forms"].items()},
            available=frozenset(data["status"]["available"]),
        )
    except KeyError as exc:
        raise ConfigurationError(f"{path.name}: missing {exc}") from exc


def _synopsis(akte: etree._Element) -> ActSynopsis:
    persons = tuple(
        Person(
            insz=text(p, "INSZ"),
            name=" ".join(
                [*(v.text or "" for v in p.findall("Naam/Voornamen/Voornaam")),
                 text(p, "Naam/Achternaam") or ""]
            ).strip(),
            role=required(p, "Rol/Code"),
        )
        for p in akte.findall("BetrokkenPersonen/BetrokkenPersoon")
    )
    return ActSynopsis(
        reference=required(akte, "DocumentReferte"),
        type_code=required(akte, "DocumentType/Code"),
        type_description=text(akte, "DocumentType/Omschrijving"),
        status=required(akte, "DocumentStatus/Code"),
        drawn_up_on=date_at(akte, "DatumOpmaak"),
        municipality_nis=required(akte, "GemeenteVanOpmaak/NISCode"),
        municipality=text(akte, "GemeenteVanOpmaak/Naam"),
        persons=persons,
    )


def synopses_from_inhoud(inhoud: etree._Element | None) -> tuple[ActSynopsis, ...]:
    """``Antwoord/Inhoud`` of ZoekAktenBurgerlijkeStand → the acts found (maybe none)."""
    if inhoud is None:
        return ()
    return tuple(_synopsis(a) for a in inhoud.findall("Akten/Akte"))


def pick_act(acts: tuple[ActSynopsis, ...], rules: ActRules) -> ActSynopsis:
    """Exactly one act that can be fetched, or the outcome that says why not."""
    if not acts:
        raise ActNotFound("no civil-status act matches the request")
    if len(acts) > 1:
        raise AmbiguousAct(
            f"{len(acts)} acts match; ask again with one act_reference",
            details={"candidates": [a.summary() for a in acts]},
        )
    act = acts[0]
    if act.status not in rules.available:
        raise ActNotDigitised(
            "this act exists on paper only; the civil registry of "
            f"{act.municipality or act.municipality_nis} can deliver it",
            details={"act": act.summary()},
        )
    return act


def decide_entitlement(
    act: ActSynopsis,
    form: str,
    *,
    requester_persons: set[str],
    declared_relationship: str | None,
    rules: ActRules,
) -> str:
    """The relation under which the requester receives the act; raises when not automatic."""
    in_act = {p.insz for p in act.persons if p.insz}
    relation = CONCERNED if requester_persons & in_act else declared_relationship
    if relation in rules.automatic[form]:
        return relation
    if relation in rules.approval[form]:
        raise ApprovalRequired(
            f"a {form} of this act for a requester with relation {relation!r} needs an employee's "
            "approval",
            details={"rule": f"forms.{form}.approval", "relation": relation, "act": act.reference},
        )
    raise NotEntitled(
        f"a {form} of this act can only be delivered to "
        + ", ".join(sorted(rules.automatic[form] | rules.approval[form])),
        details={"rule": f"forms.{form}", "relation": relation or "none", "act": act.reference},
    )
