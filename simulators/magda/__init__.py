"""A MAGDA look-alike: the same WSDL/SOAP, a synthetic population, injectable faults.

Start it with :func:`start_magda_simulator` (or mount :func:`create_magda_app`); steer it through
the JSON control API under ``/_control``. Services are table-driven: see
:mod:`simulators.magda.services`.
"""

from simulators.magda.server import MagdaSimulator, create_magda_app, start_magda_simulator
from simulators.magda.settings import MagdaSimulatorSettings

__all__ = [
    "MagdaSimulator",
    "MagdaSimulatorSettings",
    "create_magda_app",
    "start_magda_simulator",
]
