"""Pure: DABS answers → act synopses, the entitlement rule, the act document. No I/O.

The answers are read in MAGDA's structure (``persoon:AkteBurgerlijkeStandSynopsisType`` and
``persoon:AkteBurgerlijkeStandType``, Persoon-02.00). A synopsis names no one and gives the
municipality as a NIS code only; what it leaves out (a reference, a day, the municipality, an
INSZ) stays absent here. The rules are data (``mappings/civil-status.toml``); this module only
reads and applies them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from adapters.civil_status.errors import ActNotDigitised, ActNotFound, AmbiguousAct, NotEntitled
from adapters.magda.xmlread import required, text
from hub.errors import ApprovalRequired, ConfigurationError, MappingError

__all__ = [
    "ActDocument",
    "ActRules",
    "ActSynopsis",
    "PartialDate",
    "Person",
    "act_document",
    "acts_of",
    "decide_before_search",
    "decide_entitlement",
    "load_rules",
    "not_in_any_act",
    "pick_act",
    "synopses_from_inhoud",
]

RULES_FILE = Path(__file__).resolve().parents[2] / "mappings/civil-status.toml"
CONCERNED = "concerned"
LISTED_RIGHT = "listed-right"
FORMS = {"extract": "Uittreksel", "copy": "Afschrift"}
"""Our form → the element DABS delivers it in."""


@dataclass(frozen=True)
class PartialDate:
    """MAGDA's PartieelDatum: the year, and the month and day when the answer gives them."""

    year: int
    month: int | None = None
    day: int | None = None

    def isoformat(self) -> str:
        """``2015``, ``2015-06`` or ``2015-06-14``."""
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)


@dataclass(frozen=True)
class Person:
    """A BetrokkenPersoon: an INSZ when the person has one, a role code, the INSZ's origin."""

    insz: str | None
    role: str
    role_description: str | None
    insz_origin: str


@dataclass(frozen=True)
class ActSynopsis:
    reference: str | None
    """DocumentReferte; an act without one cannot be fetched."""
    type_code: str
    type_description: str | None
    status: str
    origin: str
    """HerkomstAkte/Code."""
    created: PartialDate
    """DatumCreatie."""
    municipality_nis: str | None
    """GemeenteVanOpmaak: a NIS code."""
    persons: tuple[Person, ...]

    def summary(self) -> dict[str, str]:
        """How a candidate act is shown to the front office: what DABS said of it."""
        shown = {"reference": self.reference, "type": self.type_code,
                 "drawn_up_on": self.created.isoformat(), "municipality": self.municipality_nis}
        return {key: value for key, value in shown.items() if value is not None}


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


def _number(element: etree._Element, path: str) -> int | None:
    value = text(element, path)
    if value is None:
        return None
    if not value.isdigit():
        raise MappingError(f"answer has an unreadable {path}", details={"path": path})
    return int(value)


def _partial_date(element: etree._Element, path: str) -> PartialDate:
    found = element.find(path)
    if found is None:
        raise MappingError(f"answer lacks {path}", details={"path": path})
    year = _number(found, "Jaar")
    if year is None:
        raise MappingError(f"answer lacks {path}/Jaar", details={"path": f"{path}/Jaar"})
    month = _number(found, "Maand")
    return PartialDate(year, month, _number(found, "Dag") if month is not None else None)


def _synopsis(akte: etree._Element) -> ActSynopsis:
    persons = tuple(
        Person(
            insz=text(p, "INSZ"),
            role=required(p, "Rol/Code"),
            role_description=text(p, "Rol/Omschrijving"),
            insz_origin=required(p, "HerkomstINSZ/Code"),
        )
        for p in akte.findall("BetrokkenPersonen/BetrokkenPersoon")
    )
    return ActSynopsis(
        reference=text(akte, "DocumentReferte"),
        type_code=required(akte, "DocumentType/Code"),
        type_description=text(akte, "DocumentType/Omschrijving"),
        status=required(akte, "DocumentStatus/Code"),
        origin=required(akte, "HerkomstAkte/Code"),
        created=_partial_date(akte, "DatumCreatie"),
        municipality_nis=text(akte, "GemeenteVanOpmaak"),
        persons=persons,
    )


def synopses_from_inhoud(inhoud: etree._Element | None) -> tuple[ActSynopsis, ...]:
    """``Antwoord/Inhoud`` of ZoekAktenBurgerlijkeStand → the acts found (maybe none)."""
    if inhoud is None:
        return ()
    return tuple(_synopsis(a) for a in inhoud.findall(
        "AkteBurgerlijkeStandSynopsisLijst/AkteBurgerlijkeStandSynopsis"))


@dataclass(frozen=True)
class ActDocument:
    """What GeefAkteBurgerlijkeStand delivered: the act, its form and its ``Document``."""

    reference: str
    form: str
    format: str
    language: str | None
    model: str | None
    document: etree._Element
    """The ``Document`` element (base64 text); its bytes: ``adapters.magda.xop``."""


def act_document(inhoud: etree._Element | None, *, form: str, reference: str) -> ActDocument:
    """``Antwoord/Inhoud`` of GeefAkteBurgerlijkeStand → the document asked for.

    The act must be the one asked for, in the form asked for, as a PDF (the only format the hub
    seals and delivers).
    """
    akte = inhoud.find("AkteBurgerlijkeStand") if inhoud is not None else None
    if akte is None:
        raise MappingError("the act answer has no AkteBurgerlijkeStand")
    answered = required(akte, "DocumentReferte")
    if answered != reference:
        raise MappingError("the act answer is about another act",
                           details={"asked": reference, "answered": answered})
    document = akte.find(f"{FORMS[form]}/Document")
    if document is None:
        raise MappingError(f"the act answer has no {FORMS[form]}/Document")
    document_format = (document.get("Formaat") or "").strip()
    if document_format.upper() != "PDF":
        raise MappingError(f"the act came as {document_format or 'an unnamed format'}, not PDF",
                           details={"format": document_format})
    return ActDocument(
        reference=answered,
        form=form,
        format=document_format,
        language=document.get("Taal"),
        model=document.get("Model"),
        document=document,
    )


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
    if act.status not in rules.available or act.reference is None:
        # Without a DocumentReferte GeefAkteBurgerlijkeStand cannot be asked for it either.
        raise ActNotDigitised(
            "this act cannot be delivered from DABS; the civil registry of "
            f"{act.municipality_nis or 'the municipality that drew it up'} can deliver it",
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
            details={"rule": f"forms.{form}.approval", "relation": relation,
                     "act": act.reference},
        )
    raise NotEntitled(
        f"a {form} of this act can only be delivered to "
        + ", ".join(sorted(rules.automatic[form] | rules.approval[form])),
        details={"rule": f"forms.{form}", "relation": relation or "none", "act": act.reference},
    )


def decide_before_search(
    form: str,
    *,
    requester_persons: set[str],
    subject: str,
    declared_relationship: str | None,
    listed_right: bool,
    rules: ActRules,
) -> str | None:
    """What the job alone decides, before DABS is asked anything.

    Returns the relation under which the requester receives the act without looking at it
    (``concerned``: the requester is the subject, whom every act the search finds is about;
    ``listed-right``: the policy let a listed right through and the rules deliver that form to
    it; a declared relation the rules deliver at once), or None when only the act can tell (the
    requester is not the subject and declares no relation: is the requester in the act?).
    Raises :class:`ApprovalRequired` for a declared relation an employee must confirm and
    :class:`NotEntitled` for one the rules never accept: DABS is not consulted for either.
    """
    if subject in requester_persons and CONCERNED in rules.automatic[form]:
        return CONCERNED
    if listed_right:
        if LISTED_RIGHT in rules.automatic[form]:
            return LISTED_RIGHT
        if LISTED_RIGHT in rules.approval[form]:
            raise ApprovalRequired(
                f"a {form} of an act for a company or association with a listed right needs an "
                "employee's approval",
                details={"rule": f"forms.{form}.approval", "relation": LISTED_RIGHT},
            )
    relation = declared_relationship
    if not relation or relation == CONCERNED:
        # Appearing in the act is never taken on the requester's word: the act must show it,
        # and without a natural person (a company naming no acting person) nobody can be in it.
        if not requester_persons:
            raise not_in_any_act(form, rules)
        return None
    if relation in rules.automatic[form]:
        return relation
    if relation in rules.approval[form]:
        raise ApprovalRequired(
            f"a {form} of an act for a requester with relation {relation!r} needs an employee's "
            "approval",
            details={"rule": f"forms.{form}.approval", "relation": relation},
        )
    raise NotEntitled(
        f"a {form} of an act can only be delivered to "
        + ", ".join(sorted(rules.automatic[form] | rules.approval[form])),
        details={"rule": f"forms.{form}", "relation": relation},
    )


def not_in_any_act(form: str, rules: ActRules) -> NotEntitled:
    """The refusal of a requester in none of the acts: it says nothing of what DABS found."""
    return NotEntitled(
        f"a {form} of an act can only be delivered to "
        + ", ".join(sorted(rules.automatic[form] | rules.approval[form])),
        details={"rule": f"forms.{form}", "relation": "none"},
    )


def acts_of(acts: tuple[ActSynopsis, ...], persons: set[str]) -> tuple[ActSynopsis, ...]:
    """The acts in which one of ``persons`` (the requester, the acting person) appears."""
    return tuple(a for a in acts if persons & {p.insz for p in a.persons if p.insz})
