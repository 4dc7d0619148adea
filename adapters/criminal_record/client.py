"""Transport side of the criminal-record adapter: the services through MAGDA."""

from __future__ import annotations

from adapters.magda import ServiceSpec

__all__ = ["EXTRACT", "SERVICES", "STATUS"]

EXTRACT = ServiceSpec(
    "GeefUittrekselStrafregister", "02.00.0000",
    "GeefUittrekselStrafregister-02.00/GeefUittrekselStrafregister.wsdl",
)
STATUS = ServiceSpec(
    "GeefStatusUittrekselStrafregister", "02.00.0000",
    "GeefStatusUittrekselStrafregister-02.00/GeefStatusUittrekselStrafregister.wsdl",
)
SERVICES = (EXTRACT, STATUS)
