"""A DOSIS look-alike: the dossier-status service, its token endpoint and Mijn Burgerprofiel
notifications, with injectable faults.

Start it with :func:`start_dosis_simulator` (or mount :func:`create_dosis_app`); steer and inspect
it through the JSON control API under ``/_control``. Clients authenticate with OAuth2 client
credentials and a JWT client assertion signed by the key of a certificate in
:attr:`DosisSimulatorSettings.clients`. Built from ``../shared/domain/dosis.md`` only (never
from the hub's code): an upload is validated as the public client writes it, accepted with
``{"Status": "OK", "UploadId"}``, and its processing result (``Succes``, ``Fout``, ``Fouten``)
shows after ``process_delay_ms``; until then the read-back answers 404.
"""

from simulators.dosis.server import DosisSimulator, create_dosis_app, start_dosis_simulator
from simulators.dosis.settings import DEFAULT_PHASES, DosisSimulatorSettings

__all__ = [
    "DEFAULT_PHASES",
    "DosisSimulator",
    "DosisSimulatorSettings",
    "create_dosis_app",
    "start_dosis_simulator",
]
