"""The PDF of a civil-status act as DABS delivers it: an extract (uittreksel) or a copy
(afschrift)."""

from __future__ import annotations

from dataclasses import dataclass

from simulators.magda.documents.layout import PdfWriter, dutch_date
from simulators.population_acts import ACT_STATUSES, ROLES, CivilAct
from simulators.population_model import MUNICIPALITIES

__all__ = ["COPY", "EXTRACT", "ActDelivery", "act_file_name", "render_act_pdf"]

EXTRACT = "Uittreksel"
COPY = "Afschrift"


@dataclass(frozen=True)
class ActDelivery:
    """What was asked: ``kind`` (:data:`EXTRACT` or :data:`COPY`), language, model, issuer."""

    kind: str
    language: str
    issuing_nis_code: str
    model: str | None = None


def act_file_name(kind: str, reference: str) -> str:
    """Bestandsnaam: ``uittreksel-AKTE-….pdf`` or ``afschrift-AKTE-….pdf``."""
    return f"{kind.lower()}-{reference}.pdf"


def _title(kind: str, act: CivilAct) -> str:
    # "Akte van geboorte" -> "… de akte van geboorte"; proper names keep their capital.
    description = act.type_description
    phrase = description[0].lower() + description[1:]
    return f"Uittreksel uit de {phrase}" if kind == EXTRACT else f"Afschrift van de {phrase}"


def _municipality(nis_code: str) -> str:
    return next((f"{m.name} (NIS {m.nis_code})" for m in MUNICIPALITIES if m.nis_code == nis_code),
                f"NIS {nis_code}")


def render_act_pdf(act: CivilAct, delivery: ActDelivery) -> bytes:
    """A one-page A4 document; the same act and delivery always give the same bytes."""
    title = _title(delivery.kind, act)
    writer = PdfWriter(title, dated=act.drawn_up,
                       fingerprint=f"{act.reference}|{delivery}")
    writer.title(title)
    writer.field("Akte", act.reference)
    writer.field("Soort akte", f"{act.type_description} ({act.type})")
    writer.field("Opgemaakt op", dutch_date(act.drawn_up))
    writer.field("Opgemaakt te", f"{act.municipality} (NIS {act.nis_code})")
    writer.field("Status", ACT_STATUSES[act.status])
    writer.heading("Betrokken personen")
    for person in act.persons:
        details = [person.full_name]
        if person.insz is not None:
            details.append(f"INSZ {person.insz}")
        if person.birth_date is not None:
            details.append(f"geboren {dutch_date(person.birth_date)}")
        writer.field(ROLES[person.role], ", ".join(details))
    writer.heading("Aflevering")
    writer.field("Afgeleverd door", f"gemeente {_municipality(delivery.issuing_nis_code)}")
    writer.field("Taal", delivery.language)
    if delivery.kind == EXTRACT:
        writer.field("Model", delivery.model or "standaard")
        writer.gap(3)
        writer.text("Dit uittreksel vermeldt de actuele gegevens van de akte.")
    else:
        writer.gap(3)
        writer.text("Dit afschrift geeft de volledige akte weer, met haar latere vermeldingen; "
                    "het wordt enkel aan gerechtigde personen afgeleverd.")
    return writer.finish()
