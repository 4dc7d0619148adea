"""The mutable state of one running simulator: population, repertorium, criminal-record
requests, faults, calls log; and the document factory."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from lxml import etree

from simulators.magda.documents import DocumentFactory
from simulators.magda.faults import FaultPlan
from simulators.magda.official import OfficialAnswers
from simulators.magda.repertorium import Repertorium
from simulators.magda.services import Registers, ServiceSpec
from simulators.magda.settings import MagdaSimulatorSettings
from simulators.magda.signing import ReplySigner
from simulators.magda.strafregister import Strafregister
from simulators.population_data import Population
from simulators.wssecurity import SignatureVerifier

__all__ = ["STATE", "CallRecord", "LoadedService", "SimulatorState"]


@dataclass(frozen=True)
class CallRecord:
    """One call that passed parsing: who asked what about whom, and what happened."""

    service: str
    insz: str | None
    referte: str | None
    afzender_referte: str | None
    signed: bool
    outcome: str
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        """The record as the control API shows it."""
        return asdict(self)


@dataclass(frozen=True)
class LoadedService:
    """A service spec with its compiled schema, loaded once at start-up."""

    spec: ServiceSpec
    schema: etree.XMLSchema


@dataclass
class SimulatorState:
    """Everything the handlers share; one per application."""

    settings: MagdaSimulatorSettings
    population: Population
    services: dict[str, LoadedService]
    verifier: SignatureVerifier
    latency_ms: int
    signer: ReplySigner | None = None
    official: OfficialAnswers | None = None
    repertorium: Repertorium = field(default_factory=Repertorium)
    strafregister: Strafregister = field(default_factory=Strafregister)
    documents: DocumentFactory = field(default_factory=DocumentFactory)
    faults: FaultPlan = field(default_factory=FaultPlan)
    calls: list[CallRecord] = field(default_factory=list)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    # Requests being answered now, and the most at once since the last reset: what a load
    # test reads to know how many calls a client really had in flight.
    in_progress: int = 0
    peak_in_progress: int = 0

    @property
    def registers(self) -> Registers:
        """What the service handlers consult."""
        return Registers(self.population, self.repertorium, self.settings.enforce_repertorium,
                         self.strafregister, self.documents)

    async def pause(self, milliseconds: int) -> None:
        """Sleep, but wake at once when the simulator shuts down."""
        if milliseconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), milliseconds / 1000)


STATE = web.AppKey("magda_simulator_state", SimulatorState)
