"""The population adapter: implements :class:`hub.ports.Adapter` for ``population.attest``.

Each certificate is built from one MAGDA answer (see ``mappings/population-certificates.toml``):
the household, the person now, or the person's history.
"""

from __future__ import annotations

from adapters.magda import ContextAudit, MagdaAnswer
from adapters.population.catalogue import CertificateSpec, load_catalogue
from adapters.population.client import HISTORY, PERSON, PopulationClients
from adapters.population.errors import UnsupportedAttest
from adapters.population.mapping import (
    Household,
    Issuer,
    Person,
    PersonHistory,
    build_certificate,
    history_from_inhoud,
    household_from_inhoud,
    person_from_inhoud,
)
from hub.config import BackendSettings, MagdaSettings, TenantSettings
from hub.ports import AdapterAnswer, CallContext

__all__ = ["PopulationAdapter"]


class PopulationAdapter:
    name = "population"
    job_types = frozenset({"population.attest"})

    def __init__(
        self,
        magda: MagdaSettings,
        backend: BackendSettings,
        tenants: dict[str, TenantSettings] | None = None,
        *,
        clients: PopulationClients | None = None,
    ) -> None:
        """``clients``: the population register's shared client (its breaker and limit), which
        its owner starts and closes; without it the adapter has a client of its own."""
        self._catalogue = load_catalogue()
        self._owns_clients = clients is None
        self._clients = clients or PopulationClients(magda, backend, tenants or {})

    def check_config(self) -> list[str]:
        return self._clients.check_config()

    async def start(self) -> None:
        if self._owns_clients:
            await self._clients.start()

    async def close(self) -> None:
        if self._owns_clients:
            await self._clients.close()

    def _spec(self, attest: str) -> CertificateSpec:
        spec = self._catalogue.get(attest)
        if spec is None:
            raise UnsupportedAttest(f"attest {attest!r} is not offered")
        return spec

    async def handle(self, context: CallContext) -> AdapterAnswer:
        job = context.job
        spec = self._spec(job.parameters["attest"])
        language = job.parameters.get("language", "nl")
        services = self._clients.for_tenant(job.tenant)
        insz = job.subject.identifier
        purpose = f"{spec.id} (product {job.product_id})"
        if job.purpose:
            purpose += f": {job.purpose}"
        audit = ContextAudit(
            context,
            client_identification=services.profile.identity.client_identification,
            purpose=purpose,
        )
        answer: MagdaAnswer
        model: Household | Person | PersonHistory
        if spec.source == "household":
            answer = await self._clients.household(
                services,
                insz, referte=context.reference("GeefGezinssamenstelling"), audit=audit,
                language=language,
            )
            model = household_from_inhoud(answer.inhoud)
        else:
            service = PERSON if spec.source == "person" else HISTORY
            answer = await self._clients.person_data(
                services,
                service,
                insz,
                references=(
                    context.reference(service.name),
                    context.reference("RegistreerInschrijving"),
                    context.reference(service.name, "after-registration"),
                ),
                audit=audit,
                language=language,
            )
            model = (person_from_inhoud if service is PERSON else history_from_inhoud)(
                answer.inhoud
            )
        certificate = build_certificate(
            spec,
            model,
            subject_insz=insz,
            issuer=Issuer(nis_code=context.tenant.nis_code, name=context.tenant.name),
            language=language,
            warning_codes=[w.code for w in answer.warnings],
        )
        return AdapterAnswer(
            certificate=certificate,
            backend_reference=answer.request_reference,
            warnings=tuple(f"{w.code} {w.diagnosis}" for w in answer.warnings),
        )
