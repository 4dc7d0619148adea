"""Form prefill (``prefill.form``): login claims, and register data where the tenant has a link."""

from __future__ import annotations

from adapters.magda import ContextAudit
from adapters.population.client import PERSON, PopulationClients
from adapters.population.mapping import person_from_inhoud, require_subject
from adapters.prefill.form import PrefillRequest, load_prefill_table, prefill_form, register_values
from hub.config import BackendSettings, MagdaSettings, TenantSettings
from hub.ports import AdapterAnswer, CallContext

__all__ = ["PrefillAdapter"]


class PrefillAdapter:
    name = "prefill"
    job_types = frozenset({"prefill.form"})

    def __init__(
        self, magda: MagdaSettings, backend: BackendSettings, tenants: dict[str, TenantSettings],
        *, population: PopulationClients | None = None,
    ) -> None:
        """``population``: the register's shared client (see :class:`PopulationAdapter`)."""
        self._table = load_prefill_table()
        self._owns_population = population is None
        self._population = population or PopulationClients(magda, backend, tenants)

    def check_config(self) -> list[str]:
        return self._population.check_config()

    async def start(self) -> None:
        if self._owns_population:
            await self._population.start()

    async def close(self) -> None:
        if self._owns_population:
            await self._population.close()

    async def handle(self, context: CallContext) -> AdapterAnswer:
        job = context.job
        requester = job.requester
        question_ids = list(job.parameters["question_ids"])
        register = None
        person_insz = requester.identifier if requester.capacity == "person" \
            else requester.acting_person
        if (
            context.tenant.register_link
            and person_insz
            and self._table.needs_register(requester.capacity, question_ids)
        ):
            services = self._population.for_tenant(job.tenant)
            audit = ContextAudit(
                context,
                client_identification=services.profile.identity.client_identification,
                purpose=f"prefill of a form (product {job.product_id})",
            )
            answer = await self._population.person_data(
                services, PERSON, person_insz,
                references=(context.reference(PERSON.name),
                            context.reference("RegistreerInschrijving"),
                            context.reference(PERSON.name, "after-registration")),
                audit=audit,
            )
            person = person_from_inhoud(answer.inhoud)
            require_subject(person.insz, person_insz, [w.code for w in answer.warnings])
            register = register_values(person)
        result = prefill_form(PrefillRequest(
            capacity=requester.capacity, claims=dict(job.parameters.get("claims", {})),
            register=register, question_ids=question_ids,
        ), self._table)
        return AdapterAnswer(data=result.to_dict())
