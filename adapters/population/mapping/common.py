"""Small pure readers shared by the population mappings."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from adapters.magda.xmlread import date_at, optional_date, required, text

__all__ = ["Address", "Place", "address", "date_at", "optional_date", "required", "text"]


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str
    box: str | None
    postal_code: str
    municipality_nis: str
    municipality_name: str

    def one_line(self) -> str:
        box = f" bus {self.box}" if self.box else ""
        return (
            f"{self.street} {self.house_number}{box}, {self.postal_code} {self.municipality_name}"
        )


@dataclass(frozen=True)
class Place:
    nis_code: str | None
    name: str | None


def address(element: etree._Element) -> Address:
    return Address(
        street=required(element, "Straat"),
        house_number=required(element, "Huisnummer"),
        box=text(element, "Busnummer"),
        postal_code=required(element, "Postcode"),
        municipality_nis=required(element, "Gemeente/NISCode"),
        municipality_name=required(element, "Gemeente/Naam"),
    )


def place(element: etree._Element | None) -> Place | None:
    if element is None:
        return None
    return Place(nis_code=text(element, "NISCode"), name=text(element, "Naam"))
