"""Transport side of the civil-status adapter: the two DABS services through MAGDA, and the
questions the hub asks them, in the shape of MAGDA's schemas (``wsdl/magda/``).

Both questions carry ``GemeenteVanAfgifte`` (the tenant's NIS code: the municipality that asks
and delivers) and ``Taal`` (the job's language: DABS delivers its documents in the official
languages, a two-letter code).
"""

from __future__ import annotations

from adapters.magda import ServiceSpec

__all__ = ["FETCH", "SEARCH", "SERVICES", "fetch_inhoud", "search_inhoud"]

SEARCH = ServiceSpec(
    "ZoekAktenBurgerlijkeStand", "02.00.0000",
    "ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.wsdl",
)
FETCH = ServiceSpec(
    "GeefAkteBurgerlijkeStand", "02.00.0000",
    "GeefAkteBurgerlijkeStand-02.00/GeefAkteBurgerlijkeStand.wsdl",
)
SERVICES = (SEARCH, FETCH)


def search_inhoud(
    *, document_type: str, insz: str, nis_code: str, language: str
) -> dict[str, object]:
    """``Vraag/Inhoud`` of ZoekAktenBurgerlijkeStand: the acts of this type about this person.

    MAGDA's search has no act reference among its criteria: an act named by reference is found
    among the person's acts of its type (the adapter picks it from the answer).
    ``ZoekInRijksregister`` is 0: the acts the hub delivers are DABS's own documents, found by
    the INSZ in the act; the national register is not asked to widen the search.
    """
    return {
        "Criteria": {"DocumentType": document_type, "INSZ": insz, "ZoekInRijksregister": "0"},
        "GemeenteVanAfgifte": nis_code,
        "Taal": language,
    }


def fetch_inhoud(
    *, reference: str, form: str, model: str, nis_code: str, language: str
) -> dict[str, object]:
    """``Vraag/Inhoud`` of GeefAkteBurgerlijkeStand: an extract (``extract``) or a copy.

    An extract needs its ``Model``; DABS has one extract model per act type, so the hub names
    the act's own type code (the exact model list is not published: unconfirmed).
    """
    criteria: dict[str, object]
    if form == "extract":
        criteria = {"CriteriaUittreksel": {"DocumentReferte": reference, "Taal": language,
                                           "Model": model}}
    else:
        criteria = {"CriteriaAfschrift": {"DocumentReferte": reference, "Taal": language}}
    return {"Criteria": criteria, "GemeenteVanAfgifte": nis_code, "Taal": language}
