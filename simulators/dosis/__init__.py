"""A DOSIS look-alike: the dossier-status service, its token endpoint and Mijn Burgerprofiel
notifications, with injectable faults.

Start it with :func:`start_dosis_simulator` (or mount :func:`create_dosis_app`); steer and inspect
it through the JSON control API under ``/_control``. Clients authenticate with OAuth2 client
credentials and a JWT client assertion signed by the key of a certificate in
:attr:`DosisSimulatorSettings.clients`. An accepted upload is judged in arrival order and its
result (Verwerkt or Geweigerd) shows after ``process_delay_ms``.
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
