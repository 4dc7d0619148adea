"""A MAGDA look-alike: the same WSDL/SOAP, a synthetic population, injectable faults.

Start it with :func:`start_magda_simulator` (or mount :func:`create_magda_app`); steer it through
the JSON control API under ``/_control``. Services are table-driven: see
:mod:`simulators.magda.services` (population register, repertorium, civil-status acts from DABS,
the asynchronous criminal record with MTOM delivery). Optional: reply signatures
(``reply_signing``), HTTPS with mutual TLS (``tls``), the repertorium rule
(``enforce_repertorium``, on by default), sealed PDFs (``seal_documents``, on by default).
"""

from simulators.magda.server import MagdaSimulator, create_magda_app, start_magda_simulator
from simulators.magda.settings import MagdaSimulatorSettings, TlsSettings

__all__ = [
    "MagdaSimulator",
    "MagdaSimulatorSettings",
    "TlsSettings",
    "create_magda_app",
    "start_magda_simulator",
]
