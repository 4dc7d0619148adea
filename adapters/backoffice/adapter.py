"""Forwarding to back-office systems (``backoffice.forward``).

The applicant must live in the tenant's municipality (population register); otherwise the
request is refused automatically. Then it goes to the product's back office — an AMQP message on
its own queue, or an HTTP POST signed with an HMAC header — and the job waits for the employees'
actions, which come back through the hub (the worker relays each as a result and a status).
A tenant without a back office for the product (``mappings/backoffice.toml``) has the job wait
for an employee instead: the worker sends a task, the employee answers with the four actions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import aio_pika
import aiohttp

from adapters.backoffice.routes import Route, load_routes
from adapters.magda import ContextAudit
from adapters.population.client import PERSON, PopulationClients
from adapters.population.mapping import person_from_inhoud, require_subject
from hub.breaker import BackendGate
from hub.config import BackendSettings, BackofficeSettings, MagdaSettings, TenantSettings
from hub.errors import BackendError, ConfigurationError, FactsDoNotHold, InvalidInput, OurFault
from hub.hmac_signing import sign
from hub.ports import CallContext, Continuation

__all__ = ["BackofficeAdapter"]


class NotResident(FactsDoNotHold):
    default_code = "NOT_RESIDENT"


class BackofficeAdapter:
    name = "backoffice"
    job_types = frozenset({"backoffice.forward"})

    def __init__(
        self,
        settings: BackofficeSettings,
        *,
        broker_url: str,
        magda: MagdaSettings,
        backend: BackendSettings,
        tenants: dict[str, TenantSettings],
        population: PopulationClients | None = None,
        answer_with: Callable[[str], Mapping[str, str]],
        gates: Mapping[str, BackendGate] | None = None,
    ) -> None:
        """``answer_with``: a tenant's address for the back office's actions (exchange and
        routing key; the runtime's topology knows it, the composition root passes it on);
        ``population``: the register's shared client (see ``PopulationAdapter``);
        ``gates``: each back office's breaker and concurrency limit, by product (none: forwards
        are not guarded).
        """
        self._settings = settings
        self._broker_url = broker_url
        self._routes = load_routes(settings.routes_file)
        self._owns_population = population is None
        self._population = population or PopulationClients(magda, backend, tenants)
        self._gates = dict(gates or {})
        self._answer_with = answer_with
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tenants = tenants
        # Each tenant's own secret signs its forwards (and authenticates its back offices'
        # actions, see hub.backoffice_auth).
        self._secrets: dict[str, bytes] = {}

    def check_config(self) -> list[str]:
        problems = self._population.check_config()
        for slug, tenant in self._tenants.items():
            if not tenant.backoffice_secret_path.is_file():
                problems.append(f"tenant {slug}: back-office secret not found: "
                                f"{tenant.backoffice_secret_path} (it signs forwards, actions "
                                "and decisions)")
        return problems

    async def start(self) -> None:
        if self._owns_population:
            await self._population.start()
        for slug, tenant in self._tenants.items():
            try:
                self._secrets[slug] = tenant.backoffice_secret_path.read_bytes().strip()
            except OSError:
                continue  # check-config names it; a forward for this tenant fails loudly
        if any(r.transport == "http" for r in self._routes.values()):
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s))
        if any(r.transport == "amqp" for r in self._routes.values()):
            self._connection = await aio_pika.connect(self._broker_url, timeout=10)
            self._channel = await self._connection.channel(publisher_confirms=True,
                                                           on_return_raises=True)
            for route in self._routes.values():
                if route.queue:
                    await self._channel.declare_queue(route.queue, durable=True)

    async def close(self) -> None:
        if self._owns_population:
            await self._population.close()
        if self._http is not None:
            await self._http.close()
        if self._connection is not None:
            await self._connection.close()

    async def _check_resident(self, context: CallContext) -> dict[str, Any]:
        job = context.job
        services = self._population.for_tenant(job.tenant)
        audit = ContextAudit(
            context, client_identification=services.profile.identity.client_identification,
            purpose=f"residence check for {job.parameters['product']} (product {job.product_id})",
        )
        answer = await self._population.person_data(
            services, PERSON, job.subject.identifier,
            references=(context.reference(PERSON.name),
                        context.reference("RegistreerInschrijving"),
                        context.reference(PERSON.name, "after-registration")),
            audit=audit,
        )
        person = person_from_inhoud(answer.inhoud)
        require_subject(person.insz, job.subject.identifier, [w.code for w in answer.warnings])
        residence = person.current_residence
        if residence is None or residence.address.municipality_nis != context.tenant.nis_code:
            raise NotResident(
                f"the applicant does not live in {context.tenant.name}; this request is handled "
                "by the municipality where they live",
                details={"nis_code": context.tenant.nis_code},
            )
        return {"insz": person.insz, "name": person.full_name}

    async def _send(self, route: Route, request: dict[str, Any], secret: bytes) -> None:
        body = json.dumps(request).encode()
        if route.transport == "amqp":
            assert self._channel is not None and route.queue
            try:
                await self._channel.default_exchange.publish(
                    aio_pika.Message(body, content_type="application/json",
                                     message_id=request["request_id"],
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=route.queue, mandatory=True,
                )
            except (aio_pika.exceptions.AMQPError, RuntimeError, OSError) as exc:
                raise BackendError(f"forward to {route.queue} not confirmed: {exc!r}") from exc
            return
        assert self._http is not None and route.url
        headers = {"Content-Type": "application/json", **sign(body, secret)}
        try:
            async with self._http.post(route.url, data=body, headers=headers) as reply:
                if reply.status >= 500 or reply.status == 429:
                    raise BackendError(f"back office answered HTTP {reply.status}")
                if reply.status >= 400:
                    raise OurFault(f"back office refused the request: HTTP {reply.status}",
                                   code="BACKOFFICE_REFUSED")
        except TimeoutError as exc:
            raise BackendError("back office did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise BackendError(f"back office unreachable: {exc}") from exc

    async def handle(self, context: CallContext) -> Continuation:
        job = context.job
        product = job.parameters["product"]
        route = self._routes.get(product)
        if route is None:
            raise InvalidInput(f"no back office configured for {product!r}",
                               code="UNKNOWN_PRODUCT")
        applicant = await self._check_resident(context)
        if not route.serves(job.tenant):
            # No back-office link: an employee handles it from the task inbox. "received" goes
            # out when the job is parked, before the task.
            return Continuation(
                journal={"awaiting": "employee", "request_id": job.job_id, "product": product},
                poll_after_s=None,
                note=f"handled by an employee of {context.tenant.name} ({route.name})",
            )
        request = {
            "request_id": job.job_id,
            "job_id": job.job_id,
            "tenant": job.tenant,
            "dossier_id": job.dossier_id,
            "product": product,
            "applicant": applicant,
            "contact": job.parameters["contact"],
            "store_in_register": bool(job.parameters.get("store_in_register", False)),
            "language": job.parameters.get("language", "nl"),
            "submitted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "answer_with": dict(self._answer_with(job.tenant)),
        }
        secret = self._secrets.get(job.tenant, b"")
        if route.transport == "http" and not secret:
            raise ConfigurationError(f"tenant {job.tenant} has no back-office secret")
        await context.announce()  # the back office answers at once, after "received"
        gate = self._gates.get(product)
        async with gate.call() if gate is not None else contextlib.nullcontext():
            await self._send(route, request, secret)
        return Continuation(
            journal={"awaiting": "backoffice", "request_id": job.job_id, "product": product},
            poll_after_s=None,
            note=f"forwarded to the back office ({route.name})",
        )
