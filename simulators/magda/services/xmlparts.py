"""XML pieces the person services share, in MAGDA's structure (``persoon-v3``/``generiek-v3``).

Every helper appends one element in the shape of MAGDA's response schemas: names as
``Naam{Achternamen/Achternaam+, Voornamen/Voornaam*}``, dates as ``DatumBegin``/``DatumEinde``
attributes (``OnvolledigeDatumType``: ``YYYY-MM-DD`` with ``00`` for what is unknown), coded
values as ``{Code, Omschrijving Taal="nl"}``, addresses as the OSLO ``AdresvoorstellingType``
with MAGDA's extension (``Straatnaam/String``, ``Gemeentenaam/String``, ``NISCodeGemeente``...),
places as ``{Gemeente{NISCode, Naam}, Land{NISCode, ISOCode, Naam}}``. The order of children is
the schema's sequence order; callers append whole elements in that order too.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.population_data import Population
from simulators.population_model import (
    BELGIAN,
    BURIAL_METHODS,
    BURIAL_RITES,
    COUNTRIES,
    Abroad,
    Address,
    BurialDeclaration,
    CodedPeriod,
    Cohabitation,
    Death,
    Household,
    Person,
    PersonFacts,
    Place,
    RegisterStatus,
    Residence,
)

__all__ = [
    "LANGUAGE",
    "abroad_parts",
    "beheerder",
    "burgerlijke_staat",
    "coded",
    "geboorte",
    "geslacht",
    "gezinslid",
    "hoofdverblijfplaats",
    "land",
    "lijkbezorging",
    "naam",
    "nationaliteit",
    "overlijden",
    "periods",
    "plaats",
    "register",
    "since_birth",
    "spouse",
    "status",
    "wettelijke_samenwoning",
]

LANGUAGE = "nl"
"""The language of every description and Taalstring the simulator writes."""

# The register's sex codes as MAGDA answers them (our model keeps M/V, as the INSZ does).
_SEXES = {"M": ("1", "Mannelijk"), "V": ("2", "Vrouwelijk")}
_REGISTERS: dict[str, tuple[str, str | None]] = {
    "population": ("2", "Bevolkingsregister"),
    "foreigners": ("1", "Vreemdelingenregister"),
    "bis": ("BIS", None),
}


def periods(element: etree._Element, begin: date | str | None, end: date | str | None = None,
            ) -> etree._Element:
    """Set ``DatumBegin``/``DatumEinde`` (dates or register dates); return ``element``."""
    if begin is not None:
        element.set("DatumBegin", begin if isinstance(begin, str) else begin.isoformat())
    if end is not None:
        element.set("DatumEinde", end if isinstance(end, str) else end.isoformat())
    return element


def coded(parent: etree._Element, tag: str, code: str, description: str | None
          ) -> etree._Element:
    """Append ``tag{Code, Omschrijving Taal="nl"?}`` (CodeOmschrijvingType)."""
    element = sub(parent, tag)
    sub(element, "Code", code)
    if description is not None:
        sub(element, "Omschrijving", description).set("Taal", LANGUAGE)
    return element


def _taalstring(parent: etree._Element, tag: str, text: str, *, language: bool = True) -> None:
    element = sub(parent, tag)
    sub(element, "String", text)
    if language:
        sub(element, "Taal", LANGUAGE)


def naam(parent: etree._Element, person: Person, *, since: bool = True) -> etree._Element:
    """Append ``Naam{Achternamen, Voornamen?}``; a person without first names has no Voornamen.

    With ``since`` the name carries ``DatumBegin``, the birth (as MAGDA answers for a name
    unchanged since birth).
    """
    element = sub(parent, "Naam")
    if since:
        periods(element, person.birth_date_text)
    achternamen = sub(element, "Achternamen")
    for last_name in person.last_names:
        sub(achternamen, "Achternaam", last_name)
    if person.first_names:
        voornamen = sub(element, "Voornamen")
        for first_name in person.first_names:
            sub(voornamen, "Voornaam", first_name)
    return element


def geslacht(parent: etree._Element, person: Person) -> etree._Element:
    """Append ``Geslacht{Code 1|2, Omschrijving}``."""
    code, description = _SEXES[person.sex]
    return coded(parent, "Geslacht", code, description)


def land(parent: etree._Element, country: str, tag: str = "Land") -> etree._Element:
    """Append ``Land{NISCode, ISOCode, Naam}`` (LandType) for a NIS country code."""
    iso, name = COUNTRIES[country]
    element = sub(parent, tag)
    sub(element, "NISCode", country)
    sub(element, "ISOCode", iso)
    sub(element, "Naam", name)
    return element


def _gemeente(parent: etree._Element, nis_code: str | None, name: str | None) -> None:
    gemeente = sub(parent, "Gemeente")
    if nis_code is not None:
        sub(gemeente, "NISCode", nis_code)
    if name is not None:
        sub(gemeente, "Naam", name)


def plaats(parent: etree._Element, tag: str, *, nis_code: str | None, name: str | None,
           country: str = BELGIAN) -> etree._Element:
    """Append ``tag{Gemeente{NISCode?, Naam?}, Land}`` (PlaatsType / PlaatsBeStAddType)."""
    element = sub(parent, tag)
    if nis_code is not None or name is not None:
        _gemeente(element, nis_code, name)
    land(element, country)
    return element


def _place(parent: etree._Element, value: Place | None) -> None:
    if value is not None:
        plaats(parent, "Plaats", nis_code=value.nis_code, name=value.name, country=value.country)


def hoofdverblijfplaats(
    parent: etree._Element, residence: Residence, *, end: bool = False
) -> etree._Element:
    """Append ``Hoofdverblijfplaats`` (HoofdverblijfplaatsType) with ``DatumBegin``.

    MAGDA answers a residence with its start only, also in the history (where the next period's
    start ends it); ``end`` adds ``DatumEinde`` where a caller has reason to.
    """
    element = periods(sub(parent, "Hoofdverblijfplaats"), residence.begin,
                      residence.end if end else None)
    adres = residence.address
    iso, country = COUNTRIES[BELGIAN]
    standardised = adres.street_code is None
    if standardised:
        _taalstring(element, "Straatnaam", adres.street)
    sub(element, "Huisnummer", adres.house_number)
    if adres.box is not None:
        sub(element, "Busnummer", adres.box)
    if standardised:
        _taalstring(element, "Gemeentenaam", adres.municipality)
    _taalstring(element, "Land", country)
    sub(element, "Postcode", adres.postcode)
    sub(element, "NISCodeLand", BELGIAN)
    sub(element, "ISOCodeLand", iso)
    sub(element, "NISCodeGemeente", adres.nis_code)
    if not standardised:
        # The register's own spelling, not checked against the address register.
        sub(element, "StraatCode", adres.street_code)
        _taalstring(element, "NietGestandaardiseerdeStraatnaam", adres.street, language=False)
        _taalstring(element, "NietGestandaardiseerdeGemeentenaam", adres.municipality,
                    language=False)
    if residence.reference is not None:
        reference = sub(element, "ReferentieAdres")
        sub(reference, "Begindatum", residence.reference.begin.isoformat())
        details = sub(reference, "Details")
        coded(details, "Situatie", residence.reference.situation_code,
              residence.reference.situation)
    return element


def abroad_parts(parent: etree._Element, abroad: Abroad) -> None:
    """Append ``VerblijfplaatsBuitenland`` (with a diplomatic post) and ``PostadresBuitenland``."""
    if abroad.post_code is not None:
        verblijf = periods(sub(parent, "VerblijfplaatsBuitenland"), abroad.begin)
        post = coded(verblijf, "DiplomatiekePost", abroad.post_code, abroad.post_name)
        land(post, abroad.country)
        land(verblijf, abroad.country)
    if abroad.lines:
        post_address = periods(sub(parent, "PostadresBuitenland"), abroad.begin)
        land(post_address, abroad.country)
        teksten = sub(post_address, "Teksten")
        for line in abroad.lines:
            sub(teksten, "Tekst", line)


def _address_of(address: Address) -> tuple[str, str]:
    return address.nis_code, address.municipality


def beheerder(parent: etree._Element, facts: PersonFacts) -> etree._Element | None:
    """Append ``Beheerder``: the municipality that keeps the file (of the last residence)."""
    last = facts.last_residence
    if last is None:
        return None
    element = periods(sub(parent, "Beheerder"), last.begin)
    nis_code, name = _address_of(last.address)
    plaats(element, "Plaats", nis_code=nis_code, name=name)
    return element


def register(parent: etree._Element, person: Person, facts: PersonFacts, *, bis: bool
             ) -> etree._Element:
    """Append ``Register``: the bis register, or the population or foreigners' register."""
    kind = "bis" if bis else ("population" if person.nationality_code == BELGIAN else "foreigners")
    code, description = _REGISTERS[kind]
    first = facts.residences[0].begin if facts.residences else None
    return periods(coded(parent, "Register", code, description), first)


def status(parent: etree._Element, value: RegisterStatus) -> etree._Element:
    """Append ``Status{Code, Omschrijving}`` since its date."""
    return periods(coded(parent, "Status", value.code, value.description), value.begin)


def since_birth(day: date, person: Person) -> date | str:
    """``day``, or the register's (maybe incomplete) birth date when it is the day of birth."""
    return person.birth_date_text if day == person.birth_date else day


def nationaliteit(parent: etree._Element, period: CodedPeriod, person: Person, *, end: bool
                  ) -> etree._Element:
    """Append ``Nationaliteit{Code, Omschrijving}`` with ``DatumBegin`` (and ``DatumEinde``)."""
    element = coded(parent, "Nationaliteit", period.code, period.description)
    return periods(element, since_birth(period.begin, person), period.end if end else None)


def geboorte(parent: etree._Element, person: Person, facts: PersonFacts) -> etree._Element:
    """Append ``Geboorte{Datum, Plaats?}`` (GeboorteType)."""
    element = periods(sub(parent, "Geboorte"), person.birth_date_text)
    sub(element, "Datum", person.birth_date_text)
    _place(element, facts.birth_place)
    return element


def overlijden(parent: etree._Element, death: Death) -> etree._Element:
    """Append ``Overlijden{Datum, Plaats?}`` (OverlijdenType)."""
    element = periods(sub(parent, "Overlijden"), death.date)
    sub(element, "Datum", death.date.isoformat())
    _place(element, death.place)
    return element


def _partner(parent: etree._Element, partner: Person) -> None:
    element = sub(parent, "Partner")
    sub(element, "INSZ", partner.insz)
    naam(element, partner, since=False)
    geslacht(element, partner)
    sub(element, "Geboortedatum", partner.birth_date_text)


def burgerlijke_staat(
    parent: etree._Element, period: CodedPeriod, person: Person, *, end: bool,
    partner: Person | None = None,
) -> etree._Element:
    """Append ``BurgerlijkeStaat{Code, Omschrijving, Partner?}`` with its dates."""
    element = coded(parent, "BurgerlijkeStaat", period.code, period.description)
    if partner is not None:
        _partner(element, partner)
    return periods(element, since_birth(period.begin, person), period.end if end else None)


def spouse(person: Person, population: Population) -> Person | None:
    """The spouse in the household (head and position 02), for a married period's Partner."""
    household = population.household_of(person.insz)
    if household is None:
        return None
    head = household.head
    partner = next((m for m in household.members if m.relation_code == "02"), None)
    if partner is None:
        return None
    if person.insz == head.insz:
        return partner
    return head if person.insz == partner.insz else None


def wettelijke_samenwoning(
    parent: etree._Element, cohabitation: Cohabitation, partner: Person
) -> etree._Element:
    """Append ``WettelijkeSamenwoning{Datum, Partner, Plaats}`` (WettelijkeSamenwoningType)."""
    element = periods(sub(parent, "WettelijkeSamenwoning"), cohabitation.begin)
    sub(element, "Datum", cohabitation.begin.isoformat())
    _partner(element, partner)
    plaats(element, "Plaats", nis_code=cohabitation.nis_code, name=cohabitation.municipality)
    return element


def lijkbezorging(parent: etree._Element, burial: BurialDeclaration) -> None:
    """Append ``Begraving`` and ``LijkbezorgingEnRitueel``, as MAGDA answers both.

    ``Begraving`` is the older element: its code has no leading zero.
    """
    begraving = periods(sub(parent, "Begraving"), burial.declared)
    coded(begraving, "WijzeVanLijkbezorging", burial.method.lstrip("0"),
          BURIAL_METHODS[burial.method])
    element = periods(sub(parent, "LijkbezorgingEnRitueel"), burial.declared)
    coded(element, "WijzeVanLijkbezorging", burial.method, BURIAL_METHODS[burial.method])
    if burial.rite is not None:
        coded(element, "Ritueel", burial.rite, BURIAL_RITES[burial.rite])
    registratie = sub(element, "PlaatsRegistratie")
    sub(registratie, "NISCode", burial.nis_code)
    sub(registratie, "Naam", burial.municipality)
    sub(element, "DatumDocument", burial.declared.isoformat())


def member_since(person: Person, facts: PersonFacts | None) -> date | None:
    """The day ``person`` joined their household: the start of their current residence."""
    current = None if facts is None else facts.residence
    return None if current is None else current.begin


def gezinslid(parent: etree._Element, tag: str, person: Person, facts: PersonFacts | None,
              *, position: Person | None = None) -> etree._Element:
    """Append a GezinslidBasisType element: INSZ, Naam, Geslacht, Geboortedatum, Positie.

    ``position`` is whose position the element shows (a Referentiepersoon shows the asked
    person's position in the head's household); by default ``person``'s own.
    """
    element = periods(sub(parent, tag), member_since(position or person, facts))
    sub(element, "INSZ", person.insz)
    naam(element, person)
    geslacht(element, person)
    sub(element, "Geboortedatum", person.birth_date_text)
    shown = position or person
    coded(element, "Positie", shown.relation_code or "01", shown.relation_description)
    return element


def household_member_list(parent: etree._Element, household: Household,
                          population: Population) -> None:
    """Append ``Gezinsleden`` of a head's GeefPersoon answer: the other members."""
    others = [m for m in household.members if m.insz != household.head.insz]
    if not others:
        return
    leden = sub(parent, "Gezinsleden")
    for member in others:
        gezinslid(leden, "Gezinslid", member, population.facts_of(member.insz))
