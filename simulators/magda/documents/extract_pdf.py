"""The PDF of a criminal-record extract (uittreksel uit het strafregister)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from simulators.magda.documents.layout import PdfWriter, dutch_date
from simulators.population_judicial import ACTIVITIES, EXTRACT_TYPES, Conviction

__all__ = ["VERIFICATION_BASE", "ExtractDocument", "extract_file_name", "render_extract_pdf",
           "valid_until"]

VERIFICATION_BASE = "https://verificatie.strafregister.example/uittreksel/"
"""Where the (fake) QR code points; ``.example`` never resolves."""
_VALID_MONTHS = 3


@dataclass(frozen=True)
class ExtractDocument:
    """Everything printed on one extract."""

    number: str
    type: str
    activity: str | None
    language: str
    insz: str
    insz_on_extract: bool
    first_names: tuple[str, ...]
    last_name: str
    birth_date: date
    birth_place: str | None
    nis_code: str
    municipality: str | None
    requested: date
    remark: str | None
    convictions: tuple[Conviction, ...]


def extract_file_name(number: str) -> str:
    """Bestandsnaam of an extract."""
    return f"uittreksel-strafregister-{number}.pdf"


def valid_until(day: date) -> date:
    """Three months after ``day``, on the last day of a shorter month where needed."""
    month = day.month - 1 + _VALID_MONTHS
    year, month = day.year + month // 12, month % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, last)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _verification_url(document: ExtractDocument) -> str:
    code = hashlib.sha256(f"{document.number}|{document.insz}".encode()).hexdigest()[:12]
    return f"{VERIFICATION_BASE}{document.number}?code={code.upper()}"


def render_extract_pdf(document: ExtractDocument) -> bytes:
    """A one-page A4 extract; the same extract always gives the same bytes."""
    title = f"Uittreksel uit het strafregister — model {document.type}"
    writer = PdfWriter(title, dated=document.requested, fingerprint=repr(document))
    writer.title(title)
    writer.text(f"{EXTRACT_TYPES[document.type]} (artikel {document.type} van het Wetboek van "
                "strafvordering)")
    writer.gap(3)
    writer.field("Identificatienummer", document.number)
    writer.field("Naam", " ".join((*document.first_names, document.last_name)))
    writer.field("Geboren", dutch_date(document.birth_date)
                 + (f" te {document.birth_place}" if document.birth_place else ""))
    if document.insz_on_extract:
        writer.field("INSZ", document.insz)
    if document.activity is not None:
        description = ACTIVITIES[document.type][document.activity]
        writer.field("Activiteit", f"{description} ({document.activity})")
    if document.remark:
        writer.field("Opmerking", document.remark)
    where = document.municipality or "gemeente"
    writer.field("Aangevraagd via", f"{where} (NIS {document.nis_code})")
    writer.field("Datum van afgifte", dutch_date(document.requested))
    writer.field("Taal", document.language)
    writer.heading("Veroordelingen")
    if not document.convictions:
        writer.text("Geen veroordelingen.")
    for conviction in document.convictions:
        writer.text(f"{dutch_date(conviction.day)} – {conviction.court}: {conviction.offence}. "
                    f"{conviction.sentence}.")
    writer.heading("Echtheid")
    url = _verification_url(document)
    writer.text("Dit uittreksel draagt een elektronisch zegel. Controleer de echtheid met de "
                "QR-code of op:")
    writer.text(url)
    writer.field("Geldig tot", dutch_date(valid_until(document.requested)))
    writer.gap(2)
    writer.qr_code(url)
    return writer.finish()
