"""Transport side of the civil-status adapter: the two DABS services through MAGDA."""

from __future__ import annotations

from adapters.magda import ServiceSpec

__all__ = ["FETCH", "SEARCH", "SERVICES"]

SEARCH = ServiceSpec(
    "ZoekAktenBurgerlijkeStand", "02.00.0000",
    "ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.wsdl",
)
FETCH = ServiceSpec(
    "GeefAkteBurgerlijkeStand", "02.00.0000",
    "GeefAkteBurgerlijkeStand-02.00/GeefAkteBurgerlijkeStand.wsdl",
)
SERVICES = (SEARCH, FETCH)
