"""The population adapter: implements :class:`hub.ports.Adapter` for ``population.attest``."""

from __future__ import annotations

from adapters.population.client import HOUSEHOLD, PopulationClients
from adapters.population.errors import UnsupportedAttest
from adapters.population.mapping import household_certificate, household_from_inhoud
from hub.config import BackendSettings, MagdaSettings
from hub.errors import ConfigurationError
from hub.ports import AdapterAnswer, CallContext

__all__ = ["PopulationAdapter"]


class PopulationAdapter:
    name = "population"
    job_types = frozenset({"population.attest"})

    def __init__(self, magda: MagdaSettings, backend: BackendSettings) -> None:
        self._magda = magda
        self._clients = PopulationClients(magda, backend)

    def check_config(self) -> list[str]:
        problems = [
            f"{label} not found: {path}"
            for label, path in (
                ("MAGDA signing key", self._magda.signing_key),
                ("MAGDA signing certificate", self._magda.signing_cert),
                ("WSDL", self._magda.wsdl_dir / HOUSEHOLD.wsdl),
            )
            if not path.is_file()
        ]
        if not self._magda.base_url.startswith(("http://", "https://")):
            problems.append("magda.base_url must be an http(s) URL")
        return problems

    async def start(self) -> None:
        await self._clients.start()

    async def close(self) -> None:
        await self._clients.close()

    async def handle(self, context: CallContext) -> AdapterAnswer:
        job = context.job
        attest = job.parameters["attest"]
        language = job.parameters.get("language", "nl")
        if attest != "household-composition":
            raise UnsupportedAttest(f"attest {attest!r} is not offered")
        if self._clients.household is None:
            raise ConfigurationError("population adapter used before start()")
        answer = await self._clients.household.call(
            {"Criteria": {"INSZ": job.subject.identifier}}
        )
        household = household_from_inhoud(answer.inhoud)
        return AdapterAnswer(
            certificate=household_certificate(
                household, subject_insz=job.subject.identifier, language=language
            ),
            backend_reference=answer.request_reference,
            warnings=tuple(f"{w.code} {w.diagnosis}" for w in answer.warnings),
        )
