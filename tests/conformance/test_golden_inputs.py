"""Our golden answer files are in MAGDA's structure: each validates against MAGDA's response XSD.

They are hand-written (the official answers are never copied into the project), so this is what
keeps them honest: the mapping's golden tests read only what MAGDA can send.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conformance.reference import schema_errors

GOLDEN = Path(__file__).resolve().parent.parent / "golden/population"
SERVICES = {
    "person": ("GeefPersoon", "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02"),
    "history": ("GeefHistoriekPersoon",
                "http://magda.vlaanderen.be/persoon/soap/geefhistoriekpersoon/v02_02"),
    "household": ("GeefGezinssamenstelling",
                  "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"),
}
_CONTEXT = (
    "<Context><Naam>{name}</Naam><Versie>02.02.0000</Versie><Bericht><Type>ANTWOORD</Type>"
    "<Tijdstip><Datum>2026-01-05</Datum><Tijd>10:00:00.000</Tijd></Tijdstip>"
    "<Afzender><Identificatie>vip.vlaanderen.be</Identificatie><Naam>MagdaGateway</Naam>"
    "<Referte>reply-1</Referte></Afzender><Ontvanger><Identificatie>loket-hub</Identificatie>"
    "<Referte>request-1</Referte></Ontvanger></Bericht></Context>"
)


def as_response(kind: str, inhoud: etree._Element) -> tuple[etree._Element, str]:
    """``inhoud`` in the Response of its service, as MAGDA would send it."""
    name, namespace = SERVICES[kind]
    root = etree.Element(f"{{{namespace}}}{name}Response")
    repliek = etree.SubElement(root, "Repliek")
    repliek.append(etree.fromstring(_CONTEXT.format(name=name)))
    antwoord = etree.SubElement(etree.SubElement(repliek, "Antwoorden"), "Antwoord")
    etree.SubElement(antwoord, "Referte").text = "request-1"
    antwoord.append(inhoud)
    return root, name


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.xml")), ids=lambda p: p.stem)
def test_every_golden_answer_is_valid_for_magda(path: Path) -> None:
    inhoud = etree.parse(str(path)).getroot()
    root, service = as_response(path.stem.split("-")[0], inhoud)
    assert schema_errors(root, service, "response") == []
