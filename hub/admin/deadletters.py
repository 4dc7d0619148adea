"""Dead letters for operators: list, show, replay (one or all matching), discard.

A replayed job starts afresh: its stored outcome is dropped and its attempt counter reset, and
the replay is logged with the operator's name. A replayed status goes back to the outbox.
"""

from __future__ import annotations

import json
from typing import Any

import aio_pika
import structlog
from aiohttp import web

from hub import topology
from hub.admin.auth import OPERATOR
from hub.app import Hub
from hub.contract import peek_job_fields
from hub.store.base import DeadLetter

__all__ = ["routes"]

log = structlog.get_logger(__name__)
HUB_KEY = web.AppKey("hub", Hub)
routes = web.RouteTableDef()


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "received_at": letter.received_at.isoformat(),
        "reason": letter.reason,
        "error": letter.error,
        "message_id": letter.message_id,
        "job_type": peek_job_fields(letter.body).get("type"),
        "state": letter.state,
        "handled_by": letter.handled_by,
    }


class NotReplayable(Exception):
    pass


async def replay(hub: Hub, letter: DeadLetter, operator: str) -> None:
    """Publish the dead letter where it belongs, with confirms; raise when it cannot go back."""
    if letter.reason == "unroutable-result":
        raise NotReplayable("a result whose reply queue is gone cannot be delivered again")
    if letter.state != "new":
        raise NotReplayable(f"this dead letter was {letter.state} already")
    headers = {k: v for k, v in json.loads(letter.headers).items()
               if not k.startswith(("x-loket-", "x-death", "x-first-death", "x-last-death"))}
    headers["x-loket-replayed-by"] = operator
    connection = await aio_pika.connect(hub.settings.broker.url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        if letter.reason.startswith("status-"):
            event = json.loads(letter.body)
            exchange = await channel.get_exchange(topology.STATUS_EXCHANGE)
            routing_key = f"{event['tenant']}.{event['status']}"
        else:
            job_type = peek_job_fields(letter.body).get("type")
            if not job_type:
                raise NotReplayable("the message names no job type, so it cannot be routed")
            if letter.message_id:
                await hub.store.forget_outcome(letter.message_id)
            exchange = await channel.get_exchange(topology.JOBS_EXCHANGE)
            routing_key = job_type
        await exchange.publish(
            aio_pika.Message(
                body=letter.body, headers=headers, message_id=letter.message_id,
                correlation_id=letter.correlation_id, reply_to=letter.reply_to,
                content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key, mandatory=True,
        )
    assert letter.id is not None
    await hub.store.mark_dead_letter(letter.id, "replayed", operator)
    log.info("admin.dead_letter.replayed", operator=operator, dead_letter=letter.id,
             reason=letter.reason)


async def _letter(request: web.Request) -> DeadLetter:
    letter = await request.app[HUB_KEY].store.dead_letter(int(request.match_info["id"]))
    if letter is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such dead letter"}),
                               content_type="application/json")
    return letter


@routes.get("/api/dead-letters")
async def list_letters(request: web.Request) -> web.Response:
    letters = await request.app[HUB_KEY].store.dead_letters(
        state=request.query.get("state"), reason=request.query.get("reason"))
    return web.json_response([_summary(letter) for letter in letters])


@routes.get("/api/dead-letters/{id:\\d+}")
async def show_letter(request: web.Request) -> web.Response:
    letter = await _letter(request)
    return web.json_response({**_summary(letter), "headers": json.loads(letter.headers),
                              "reply_to": letter.reply_to,
                              "correlation_id": letter.correlation_id,
                              "body": letter.body.decode("utf-8", "replace")})


@routes.post("/api/dead-letters/{id:\\d+}/replay")
async def replay_one(request: web.Request) -> web.Response:
    letter = await _letter(request)
    try:
        await replay(request.app[HUB_KEY], letter, request[OPERATOR])
    except NotReplayable as exc:
        return web.json_response({"error": str(exc)}, status=409)
    return web.json_response({"replayed": [letter.id]})


@routes.post("/api/dead-letters/replay")
async def replay_matching(request: web.Request) -> web.Response:
    """Replay every new dead letter matching ``{"reason": …}`` (all new ones without)."""
    body = await request.json() if request.can_read_body else {}
    hub = request.app[HUB_KEY]
    replayed, skipped = [], []
    for letter in await hub.store.dead_letters(state="new", reason=body.get("reason")):
        try:
            await replay(hub, letter, request[OPERATOR])
            replayed.append(letter.id)
        except NotReplayable as exc:
            skipped.append({"id": letter.id, "why": str(exc)})
    return web.json_response({"replayed": replayed, "skipped": skipped})


@routes.post("/api/dead-letters/{id:\\d+}/discard")
async def discard(request: web.Request) -> web.Response:
    letter = await _letter(request)
    assert letter.id is not None
    await request.app[HUB_KEY].store.mark_dead_letter(letter.id, "discarded", request[OPERATOR])
    log.info("admin.dead_letter.discarded", operator=request[OPERATOR], dead_letter=letter.id)
    return web.json_response({"discarded": letter.id})
