"""Builders for the document tests: key pairs with chosen validity, models of every kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.population.catalogue import load_catalogue
from adapters.population.mapping.certificates import Issuer, build_certificate
from adapters.population.mapping.common import Address, PartialDate, Place
from adapters.population.mapping.household import Household, HouseholdMember
from adapters.population.mapping.person import (
    BurialDeclaration,
    CivilStatus,
    Cohabitation,
    Nationality,
    Person,
    PersonHistory,
    ResidencePeriod,
)
from hub.config import TenantSettings
from hub.devpki import KeyPair
from hub.ports import CertificateModel

GENT = TenantSettings("gent", "Stad Gent", "44021", "urn://gent.be/cs-connector/loket-hub")
ISSUED = dt.datetime.now(dt.UTC).replace(microsecond=0)
SUBJECT = "85073003328"
GENT_ADDRESS = Address("Korenmarkt", "3", "2B", "9000", "44021", "Gent", "België", "150")


def _d(year: int, month: int, day: int) -> PartialDate:
    return PartialDate(year, month, day)


def write_pair(
    directory: Path, name: str, *, not_before: dt.datetime, not_after: dt.datetime
) -> KeyPair:
    """A self-signed key pair with the validity window a test needs (expired, future …)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    pair = KeyPair(directory / f"{name}.key", directory / f"{name}.crt")
    pair.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _member(insz: str, first: str, last: str, born: str, sex: str, rel: tuple[str, str],
            address: Address = GENT_ADDRESS) -> HouseholdMember:
    return HouseholdMember(insz, tuple(first.split()), (last,),
                           PartialDate.parse(born), sex, rel[0], rel[1], address)


def household(extra_children: int = 0) -> Household:
    """A household of 4 + ``extra_children`` members (names with diacritics on purpose)."""
    members = [
        _member(SUBJECT, "Jan Pieter", "Peeters", "1985-07-30", "1", ("01", "Referentiepersoon")),
        _member("87021512345", "Zoë", "Van den Broeck", "1987-02-15", "2",
                ("02", "Echtgeno(o)t(e)")),
        _member("60010112345", "Łukasz", "Świątek", "1960-00-00", "1", ("99", "Niet verwant")),
        _member("12060312345", "Amélie", "Peeters", "2012-06-03", "2", ("03", "Zoon of dochter")),
    ]
    members += [
        _member(f"{14 + i:02d}0101{100 + i:03d}00", f"Kind{i}", "Peeters", f"{2014 + i}-01-01",
                "1", ("03", "Zoon of dochter"))
        for i in range(extra_children)
    ]
    return Household(GENT_ADDRESS, tuple(members))


def person(*, married: bool = False) -> Person:
    place = Place("44021", "Gent")
    return Person(
        insz=SUBJECT, first_names=("Jan", "Pieter"), last_names=("Peeters",),
        birth_date=_d(1985, 7, 30), birth_place=place, sex="1",
        nationalities=(Nationality("150", "Belg", _d(1985, 7, 30)),),
        civil_status=CivilStatus("20" if married else "10", "Ongehuwd", _d(1985, 7, 30)),
        residence=ResidencePeriod(GENT_ADDRESS, _d(2015, 3, 1)),
        death=None,
        cohabitation=Cohabitation("87021512345", "Zoë Van den Broeck", _d(2019, 5, 4), place),
        burial=BurialDeclaration("01", "Crematie", "02", "Vrijzinnig", _d(2020, 1, 1), place),
    )


def history(periods: int = 4) -> PersonHistory:
    places = [GENT_ADDRESS, Address("Bondgenotenlaan", "12", None, "3000", "24062", "Leuven")]
    residences = tuple(
        ResidencePeriod(
            places[i % 2], _d(1985 + i, 7, 30),
            None if i == periods - 1 else _d(1986 + i, 7, 29),
        )
        for i in range(periods)
    )
    return PersonHistory(SUBJECT, ("Jan", "Pieter"), ("Peeters",), _d(1985, 7, 30), None,
                         residences, (), ())


def model(
    kind: str, language: str = "nl", *, members: int = 4, periods: int = 4
) -> CertificateModel:
    """The certificate model of ``kind`` as the population adapter builds it."""
    spec = load_catalogue()[kind]
    answers: dict[str, Household | Person | PersonHistory] = {
        "household": household(members - 4), "person": person(), "history": history(periods),
    }
    answer = answers[spec.source]
    return build_certificate(spec, answer, subject_insz=SUBJECT,
                             issuer=Issuer(GENT.nis_code, GENT.name), language=language)


ALL_KINDS = sorted(load_catalogue())
