"""Broker topology: exchange and queue names, the delay queues' routes, and declaring them.

::

    loket.jobs (topic) ──<capability>.#──▶ jobs.<capability> (quorum, delivery limit → loket.dead)
    default exchange ──▶ retry.<capability>.<n>.<ms>ms (quorum, TTL)
                         ──dead-letters (at least once)──▶ jobs.<capability>
    default exchange ──▶ poll.<capability>.<ms>ms (quorum, TTL: the next look at an
                         asynchronous back end) ──dead-letters (at least once)──▶ jobs.<capability>
    loket.status (topic) ──#──▶ status.outbox (quorum, single active consumer)
    loket.backoffice (topic) ──approval.#──▶ backoffice.approvals (employees' tasks; or
                             ──approval.<tenant>.#──▶ backoffice.approvals.<tenant> each)
                             ──decision.#──▶ backoffice.decisions (their answers, to the hub)
                             ──action.#──▶ backoffice.actions (forwarded requests' progress)
    loket.dead (fanout) ──▶ dead.letters (quorum)

Declaring is idempotent; the worker calls :func:`declare` on every (re)connect.

The delay queues are quorum queues with the ``at-least-once`` dead-letter strategy: a classic
queue dead-letters at most once, so a message whose delay runs out while the work queue is
unavailable (a broker restart) can be dropped. Quorum dead-lettering keeps the message until the
work queue has taken it. A delay queue left from an older version (classic)
is replaced when it is empty; one that still holds messages stops the start with
:class:`TopologyConflict` and drains by itself within its delay.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue
from aio_pika.exceptions import ChannelPreconditionFailed
from pamqp.common import FieldTable

__all__ = [
    "ATTEMPT_HEADER",
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "JOBS_EXCHANGE",
    "STATUS_EXCHANGE",
    "STATUS_QUEUE",
    "Topology",
    "TopologyConflict",
    "action_address",
    "approval_queue_name",
    "declare",
    "declared_queue_names",
    "declared_queues",
    "poll_queue_names",
    "retry_queue_name",
    "retry_queue_names",
    "work_queue_name",
]

JOBS_EXCHANGE = "loket.jobs"
STATUS_EXCHANGE = "loket.status"
# One active consumer at a time (x-single-active-consumer): statuses leave in the order they
# came, whichever worker pushes them.
STATUS_QUEUE = "status.outbox"
BACKOFFICE_EXCHANGE = "loket.backoffice"
APPROVAL_QUEUE = "backoffice.approvals"
DECISION_QUEUE = "backoffice.decisions"
ACTION_QUEUE = "backoffice.actions"
# A back office can answer before the job it answers has been parked (its attempt still runs):
# such an action waits here and comes back to the action queue.
ACTION_RETRY_DELAY_S = 0.25
ACTION_RETRY_QUEUE = f"retry.backoffice.actions.{round(ACTION_RETRY_DELAY_S * 1000)}ms"
DEAD_LETTER_EXCHANGE = "loket.dead"
DEAD_LETTER_QUEUE = "dead.letters"
# Our own attempt counter: x-death counting changed in RabbitMQ 3.13, so we do not rely on it.
ATTEMPT_HEADER = "x-loket-attempt"
ERROR_HEADER = "x-loket-error"
# Marks a job published again from the store (see hub.runtime.recovery).
RECOVERED_HEADER = "x-loket-recovered"
# Marks a scheduled poll of a job that waits on an asynchronous back end.
CONTINUATION_HEADER = "x-loket-continuation"
# How many times a copy found its job held by another worker ("busy elsewhere").
BUSY_HEADER = "x-loket-busy"
DEAD_REASON_HEADER = "x-loket-dead-reason"
"""Why a message is in the dead letters (a short reason, such as ``crashed``)."""
WORKER_HEADER = "x-loket-worker"
"""The worker that sent a message to the dead letters."""
TENANT_HEADER = "x-loket-tenant"
"""On our delayed copy of an early back-office action: the tenant its routing key named."""
ACTION_TRIES_HEADER = "x-loket-action-tries"
"""How often an early back-office action came back while its job was still running."""


log = structlog.get_logger(__name__)


class TopologyConflict(RuntimeError):
    """A queue exists with other arguments and cannot be replaced safely now."""


def work_queue_name(capability: str) -> str:
    return f"jobs.{capability}"


def action_address(tenant: str) -> dict[str, str]:
    """Where a back office answers a forwarded request of ``tenant`` (its ``answer_with``)."""
    return {"exchange": BACKOFFICE_EXCHANGE, "routing_key": f"action.{tenant}"}


def approval_queue_name(tenant: str) -> str:
    """The queue of one tenant's employees' tasks (``backoffice.approval_queues = per-tenant``)."""
    return f"{APPROVAL_QUEUE}.{tenant}"


def retry_queue_name(capability: str, index: int) -> str:
    return f"retry.{capability}.{index + 1}"


def retry_queue_names(capability: str, retry_delays_s: tuple[float, ...]) -> list[str]:
    """The delay queues before each next attempt. The delay lives in the queue's TTL, so a
    changed delay needs a new queue name: the name carries the delay in milliseconds."""
    return [f"{retry_queue_name(capability, index)}.{round(delay * 1000)}ms"
            for index, delay in enumerate(retry_delays_s)]


def poll_queue_names(
    capability: str, poll_delays_s: tuple[float, ...]
) -> list[tuple[float, str]]:
    """(delay, queue) of each next look at an asynchronous back end, shortest first."""
    return [(delay, f"poll.{capability}.{round(delay * 1000)}ms")
            for delay in sorted(poll_delays_s)]


def declared_queues(
    capabilities: list[str],
    retry_delays_s: tuple[float, ...],
    poll_delays_s: tuple[float, ...] = (),
    approval_tenants: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(name, kind) of every queue :func:`declare` declares for these arguments (the same
    ones). Kinds: ``dead-letters``, ``outbox``, ``approvals``, ``decisions``, ``actions``,
    ``work``, ``retry`` and ``poll``."""
    queues = [(DEAD_LETTER_QUEUE, "dead-letters"), (STATUS_QUEUE, "outbox"),
              (APPROVAL_QUEUE, "approvals")]
    queues += [(approval_queue_name(tenant), "approvals") for tenant in approval_tenants or []]
    queues += [(DECISION_QUEUE, "decisions"), (ACTION_QUEUE, "actions"),
               (ACTION_RETRY_QUEUE, "retry")]
    for capability in capabilities:
        queues.append((work_queue_name(capability), "work"))
        queues += [(name, "retry") for name in retry_queue_names(capability, retry_delays_s)]
        queues += [(name, "poll") for _, name in poll_queue_names(capability, poll_delays_s)]
    return queues


def declared_queue_names(
    capabilities: list[str],
    retry_delays_s: tuple[float, ...],
    poll_delays_s: tuple[float, ...] = (),
    approval_tenants: list[str] | None = None,
) -> list[str]:
    """Every queue :func:`declare` declares for these arguments (the same ones)."""
    return [name for name, _ in declared_queues(capabilities, retry_delays_s, poll_delays_s,
                                                approval_tenants)]


@dataclass(frozen=True)
class Routes:
    """The delayed queues of each capability, by name: where a retry, a busy copy or a poll
    waits. Pure (no broker): the publisher routes by it, tests build it without a broker."""

    retry_queues: dict[str, list[str]]
    retry_delays_s: tuple[float, ...]
    poll_queues: dict[str, list[tuple[float, str]]]

    def retry_queue_for(self, capability: str, attempt: int) -> str | None:
        """Queue that delays the next attempt after ``attempt`` failed; None when exhausted."""
        queues = self.retry_queues[capability]
        return queues[attempt - 1] if attempt - 1 < len(queues) else None

    def busy_queue_for(self, capability: str, times_busy: int, lease_s: float) -> str:
        """Where a copy waits whose job another worker holds, the ``times_busy``-th time.

        The first look comes after the shortest retry delay, as a live duplicate's answer is
        near. Each next look waits longer, up to the longest delay within a lease: a copy of a
        job held by a dead worker then comes round a few times until the lease ends, not every
        two seconds.
        """
        queues = self.retry_queues[capability]
        within = [q for q, d in zip(queues, self.retry_delays_s, strict=True) if d <= lease_s]
        usable = within or queues[:1]
        return usable[min(times_busy, len(usable) - 1)]

    def poll_queue_for(self, capability: str, delay_s: float) -> tuple[float, str]:
        """The poll queue with the longest delay not over ``delay_s`` (else the shortest)."""
        queues = self.poll_queues[capability]
        fitting = [q for q in queues if q[0] <= delay_s]
        return fitting[-1] if fitting else queues[0]

    def delay_queues(self) -> list[tuple[str, float, str]]:
        """Every delayed queue: (name, delay in seconds, the work queue it returns to)."""
        queues = [(name, delay, work_queue_name(capability))
                  for capability, names in self.retry_queues.items()
                  for name, delay in zip(names, self.retry_delays_s, strict=True)]
        queues += [(name, delay, work_queue_name(capability))
                   for capability, polls in self.poll_queues.items() for delay, name in polls]
        return queues


def routes_for(capabilities: list[str], retry_delays_s: tuple[float, ...],
               poll_delays_s: tuple[float, ...] = (10.0,)) -> Routes:
    """The delayed queues' names. The delay lives in a queue's TTL, so a changed delay needs a
    new queue name: the name carries the delay in milliseconds. One queue per poll delay: a
    per-message TTL in one queue would wait behind its head."""
    return Routes(
        retry_queues={c: retry_queue_names(c, retry_delays_s) for c in capabilities},
        retry_delays_s=tuple(retry_delays_s),
        poll_queues={c: poll_queue_names(c, poll_delays_s) for c in capabilities},
    )


@dataclass
class Topology:
    """Declared exchanges and queues, kept as strong references (aio-pika holds weak ones)."""

    jobs: AbstractExchange
    status: AbstractExchange
    dead: AbstractExchange
    backoffice: AbstractExchange
    decisions: AbstractQueue
    actions: AbstractQueue
    dead_queue: AbstractQueue
    work_queues: dict[str, AbstractQueue]
    routes: Routes

    def exchange(self, name: str) -> AbstractExchange:
        """A declared exchange by name."""
        return {JOBS_EXCHANGE: self.jobs, STATUS_EXCHANGE: self.status,
                DEAD_LETTER_EXCHANGE: self.dead, BACKOFFICE_EXCHANGE: self.backoffice}[name]


async def _delay_queue(channel: AbstractChannel, name: str, delay_s: float, target: str) -> None:
    arguments: FieldTable = {
        "x-queue-type": "quorum",
        "x-message-ttl": round(delay_s * 1000),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": target,
        # Quorum dead-lettering keeps the message until the target queue confirms it; the
        # strategy requires reject-publish overflow (no length limit is set, so it never acts).
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    try:
        await channel.declare_queue(name, durable=True, arguments=arguments)
        return
    except ChannelPreconditionFailed:
        await channel.reopen()  # the broker closed the channel with the refusal
    existing = await channel.declare_queue(name, passive=True)
    waiting = existing.declaration_result.message_count
    if waiting:
        raise TopologyConflict(
            f"queue {name} was declared with other arguments by an older version and still "
            f"holds {waiting} messages; they move on within {delay_s:g} s, then start again"
        )
    await channel.queue_delete(name)
    await channel.declare_queue(name, durable=True, arguments=arguments)
    log.warning("topology.delay_queue_replaced", queue=name)


def _limited(delivery_limit: int) -> FieldTable:
    """A quorum queue that dead-letters a message redelivered more than ``delivery_limit``."""
    return {"x-queue-type": "quorum", "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE}


async def _topic(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def _declare_approvals(channel: AbstractChannel, backoffice: AbstractExchange,
                             approval_tenants: list[str] | None) -> None:
    approvals = await channel.declare_queue(
        APPROVAL_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    if approval_tenants is None:
        await approvals.bind(backoffice, routing_key="approval.#")
        return
    # A queue per municipality: an employee's client reads its own tenant's tasks only.
    await approvals.unbind(backoffice, routing_key="approval.#")
    for tenant in approval_tenants:
        own = await channel.declare_queue(
            approval_queue_name(tenant), durable=True, arguments={"x-queue-type": "quorum"})
        await own.bind(backoffice, routing_key=f"approval.{tenant}.#")


async def _declare_inbound(channel: AbstractChannel, backoffice: AbstractExchange,
                           name: str, routing_key: str, delivery_limit: int) -> AbstractQueue:
    """A queue the back offices and employees fill (decisions, actions)."""
    queue = await channel.declare_queue(name, durable=True,
                                        arguments=_limited(delivery_limit))
    await queue.bind(backoffice, routing_key=routing_key)
    return queue


async def declare(
    channel: AbstractChannel,
    capabilities: list[str],
    retry_delays_s: tuple[float, ...],
    delivery_limit: int = 5,
    poll_delays_s: tuple[float, ...] = (10.0,),
    approval_tenants: list[str] | None = None,
) -> Topology:
    """Declare everything the hub uses. Safe to call again with the same arguments.

    ``approval_tenants``: a queue of employees' tasks per tenant (``backoffice.approvals.<t>``)
    instead of the shared one (None)."""
    jobs = await _topic(channel, JOBS_EXCHANGE)
    status = await _topic(channel, STATUS_EXCHANGE)
    dead = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead_queue = await channel.declare_queue(
        DEAD_LETTER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead_queue.bind(dead, routing_key="")
    status_queue = await channel.declare_queue(
        STATUS_QUEUE,
        durable=True,
        arguments={"x-queue-type": "quorum", "x-single-active-consumer": True},
    )
    await status_queue.bind(status, routing_key="#")
    backoffice = await _topic(channel, BACKOFFICE_EXCHANGE)
    await _declare_approvals(channel, backoffice, approval_tenants)
    decisions = await _declare_inbound(channel, backoffice, DECISION_QUEUE, "decision.#",
                                       delivery_limit)
    actions = await _declare_inbound(channel, backoffice, ACTION_QUEUE, "action.#",
                                     delivery_limit)
    await _delay_queue(channel, ACTION_RETRY_QUEUE, ACTION_RETRY_DELAY_S, ACTION_QUEUE)

    routes = routes_for(capabilities, retry_delays_s, poll_delays_s)
    work_queues: dict[str, AbstractQueue] = {}
    for capability in capabilities:
        work = await channel.declare_queue(
            work_queue_name(capability), durable=True, arguments=_limited(delivery_limit))
        await work.bind(jobs, routing_key=f"{capability}.#")
        work_queues[capability] = work
    for name, delay, target in routes.delay_queues():
        await _delay_queue(channel, name, delay, target)
    return Topology(
        jobs=jobs,
        status=status,
        dead=dead,
        backoffice=backoffice,
        decisions=decisions,
        actions=actions,
        dead_queue=dead_queue,
        work_queues=work_queues,
        routes=routes,
    )
