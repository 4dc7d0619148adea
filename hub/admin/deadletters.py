"""Dead letters for operators: list, show, replay (one or all matching), discard.

A replayed job starts afresh: its stored outcome is dropped and its attempt counter reset, and
the replay is logged with the operator's name. A replayed status goes back to the outbox.

Any dead letter can be listed and shown, however odd its body (not UTF-8, not JSON, nested
deeper than a decoder goes, huge, NUL bytes, lone surrogates in JSON escapes, empty) or its
headers; a replay of one that cannot go back answers 409 with the reason, never a 500.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web

from hub.admin import guard
from hub.admin.auth import OPERATOR
from hub.admin.ports import HUB, AdminHub, BrokerUnavailable, NotReplayable, Republish, Target
from hub.contract_decoding import peek_job_fields
from hub.messages import StatusEvent, UnreadableMessage
from hub.store.base import DeadLetter

__all__ = ["BrokerUnavailable", "NotReplayable", "replay", "routes"]

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

STATES = frozenset({"new", "replayed", "discarded"})
LIST_LIMIT = 100
"""Letters per page of the list (``limit`` up to 1,000; ``before`` = the page's ``next``)."""
HISTORY_LIMIT = 50
REPLAY_AFTER_FIX = frozenset({"our-fault", "crashed", "unexpected", "delivery_limit"})
"""Reasons that are a defect or an outage on our side: replayed once it is fixed, whatever the
error says. Any other letter whose cause is not retryable (a body that is not a valid job, a
message without reply_to, a refused signature, a status DOSIS refused) fails the same way
again, so it is replayed only with ``force``."""
PEEK_LIMIT = 1024 * 1024  # a listing peeks into bodies up to 1 MiB for the job type
SHOW_LIMIT = 1024 * 1024  # the detail shows the first MiB of a body
MAX_DEPTH = 16  # headers nested deeper are shown (and replayed) as text
_SHORTSTR = 255  # AMQP: message id, correlation id, reply-to, routing key, header names


def peek(body: bytes, *, limit: int | None = None) -> dict[str, Any]:
    """Job id/type/tenant of a body if it shows them; ``{}`` for anything odd, never raises."""
    if limit is not None and len(body) > limit:
        return {}
    try:
        return peek_job_fields(body)
    except (RecursionError, ValueError, TypeError):  # nesting deeper than the decoder goes
        return {}


def _text(value: str) -> str:
    """A string any encoder takes: lone surrogates (from JSON escapes) written as escapes."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def jsonable(value: Any, depth: int = 0) -> Any:
    """A value ``json.dumps`` writes as standard JSON (no NaN) and a browser parses."""
    if depth > MAX_DEPTH:
        return _text(repr(value))[:1000]
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {_text(str(k)): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    return _text(str(value))


def _amqp(value: Any, depth: int = 0) -> Any:
    """A header value pamqp can encode (the stored JSON may hold what AMQP cannot carry)."""
    if depth > MAX_DEPTH:
        return _text(json.dumps(jsonable(value)))[:1000]
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):  # RabbitMQ drops the connection on a NaN double
        return value if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, dict):
        return {key: _amqp(v, depth + 1) for k, v in value.items()
                if len((key := _text(str(k))).encode()) <= _SHORTSTR}
    if isinstance(value, list | tuple):
        return [_amqp(v, depth + 1) for v in value]
    return _text(str(value))


def stored_headers(letter: DeadLetter) -> dict[str, Any] | None:
    """The letter's headers as stored, or ``None`` when the stored text is no JSON object."""
    try:
        headers = json.loads(letter.headers)
    except (RecursionError, ValueError, TypeError):
        return None
    return headers if isinstance(headers, dict) else None


def _summary(letter: DeadLetter) -> dict[str, Any]:
    job_type = peek(letter.body, limit=PEEK_LIMIT).get("type")
    summary: dict[str, Any] = jsonable({
        "id": letter.id,
        "received_at": letter.received_at.isoformat(),
        "reason": letter.reason,
        "error": letter.error,
        "message_id": letter.message_id,
        "job_type": job_type,
        "state": letter.state,
        "handled_by": letter.handled_by,
    })
    return summary


def _detail(letter: DeadLetter) -> dict[str, Any]:
    headers = stored_headers(letter)
    body = letter.body
    try:
        body.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    shown = body[:SHOW_LIMIT]
    detail: dict[str, Any] = {
        **_summary(letter),
        "headers": jsonable(headers) if headers is not None else None,
        "reply_to": jsonable(letter.reply_to),
        "correlation_id": jsonable(letter.correlation_id),
        "body": shown.decode("utf-8", "replace"),
        "body_size": len(body),
        "body_utf8": utf8,
        "body_truncated": len(body) > SHOW_LIMIT,
    }
    if headers is None:
        detail["headers_raw"] = _text(letter.headers[:SHOW_LIMIT])
    if not utf8:
        detail["body_base64"] = base64.b64encode(shown).decode("ascii")
    return detail


def _shortstr(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = _text(value)
    if len(value.encode()) > _SHORTSTR:
        raise NotReplayable(f"its {name} is longer than AMQP allows ({_SHORTSTR} bytes)")
    return value


def _route(letter: DeadLetter) -> tuple[Target, str]:
    """The exchange (jobs or status) and routing key the letter goes back to."""
    if letter.reason.startswith("status-"):
        try:
            key = StatusEvent.decode(letter.body).routing_key
        except UnreadableMessage as exc:
            raise NotReplayable(f"the status event is unreadable ({exc}), so it cannot be "
                                "routed") from exc
        target = Target.STATUS
    else:
        job_type = peek(letter.body).get("type")
        if not job_type:
            raise NotReplayable("the message names no job type (or is no readable JSON "
                                "object), so it cannot be routed")
        key, target = job_type, Target.JOBS
    routed = _shortstr("routing key", key)
    assert routed is not None
    return target, routed


def cause(letter: DeadLetter) -> tuple[str | None, bool | None]:
    """The code and retryability of the letter's error (``x-loket-error``), when it says."""
    try:
        error = json.loads(letter.error or "")
    except (RecursionError, ValueError, TypeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    code, retryable = error.get("code"), error.get("retryable")
    return (code if isinstance(code, str) else None,
            retryable if isinstance(retryable, bool) else None)


async def replay(hub: AdminHub, letter: DeadLetter, operator: str, *,
                 force: bool = False) -> None:
    """Publish the dead letter where it belongs, with confirms; raise when it cannot go back
    (:class:`NotReplayable`, with the reason) or the broker cannot be reached
    (:class:`BrokerUnavailable`). A letter whose cause is not retryable goes back only with
    ``force`` (see :data:`REPLAY_AFTER_FIX`)."""
    if letter.reason == "unroutable-result":
        raise NotReplayable("a result whose reply queue is gone cannot be delivered again")
    if letter.state != "new":
        raise NotReplayable(f"this dead letter was {letter.state} already")
    code, retryable = cause(letter)
    if retryable is False and letter.reason not in REPLAY_AFTER_FIX and not force:
        raise NotReplayable(
            f"its cause {code or '?'} is not retryable: sent again it fails the same way "
            "(and comes back here); replay it with force to send it anyway", forceable=True)
    target, routing_key = _route(letter)
    headers = {k: v for k, v in _amqp(stored_headers(letter) or {}).items()
               if not k.startswith(("x-loket-", "x-death", "x-first-death", "x-last-death"))}
    headers["x-loket-replayed-by"] = operator
    message = Republish(
        target=target, routing_key=routing_key, body=letter.body, headers=headers,
        message_id=_shortstr("message id", letter.message_id),
        correlation_id=_shortstr("correlation id", letter.correlation_id),
        reply_to=_shortstr("reply-to", letter.reply_to),
    )
    async def forget_outcome() -> None:
        # The job runs again: its stored outcome would answer the replay with the old failure.
        if target is Target.JOBS and letter.message_id:
            await hub.store.forget_outcome(letter.message_id)

    try:
        await hub.broker.republish(message, before=forget_outcome)
    except NotReplayable:
        log.warning("admin.dead_letter.replay_refused", dead_letter=letter.id)
        raise
    assert letter.id is not None
    await hub.store.mark_dead_letter(letter.id, "replayed", operator)
    log.info("admin.dead_letter.replayed", operator=operator, dead_letter=letter.id,
             reason=letter.reason, forced=force)


async def _letter(request: web.Request) -> DeadLetter:
    letter_id = guard.path_id(request)
    letter = await request.app[HUB].store.dead_letter(letter_id)
    if letter is None:
        guard.not_found(f"no dead letter {letter_id}")
    return letter


@routes.get("/api/dead-letters")
async def list_letters(request: web.Request) -> web.Response:
    """A page of letters, newest first: ``{"letters", "total", "next"}`` (``next``: pass it
    as ``before`` for the page after; null on the last)."""
    store = request.app[HUB].store
    state = guard.query_choice(request, "state", STATES)
    reason = guard.query_text(request, "reason")
    limit = guard.query_limit(request, default=LIST_LIMIT, maximum=1000)
    letters = await store.dead_letters(state=state, reason=reason, limit=limit + 1,
                                       before_id=guard.query_whole(request, "before"))
    page = letters[:limit]
    more = len(letters) > limit
    return web.json_response({
        "letters": [_summary(letter) for letter in page],
        "total": await store.count_dead_letters(state=state, reason=reason),
        "next": page[-1].id if more and page else None,
    })


@routes.get("/api/dead-letters/{id}")
async def show_letter(request: web.Request) -> web.Response:
    """One letter in full, with its history: the other letters of the same message (each
    replay that failed again made one), newest first."""
    letter = await _letter(request)
    history: list[DeadLetter] = []
    if letter.message_id:
        history = [other for other in await request.app[HUB].store.dead_letters(
            message_id=letter.message_id, limit=HISTORY_LIMIT + 1) if other.id != letter.id]
    code, retryable = cause(letter)
    return web.json_response({
        **_detail(letter), "cause": {"code": code, "retryable": retryable},
        "needs_force": retryable is False and letter.reason not in REPLAY_AFTER_FIX,
        "history": [_summary(other) for other in history[:HISTORY_LIMIT]],
    })


def _force(body: dict[str, Any]) -> bool:
    force = body.get("force", False)
    if not isinstance(force, bool):
        guard.bad_request("force: expected true or false")
    return force


@routes.post("/api/dead-letters/{id}/replay")
async def replay_one(request: web.Request) -> web.Response:
    """Replay one letter; ``{"force": true}`` sends one whose cause is not retryable too."""
    force = _force(await guard.json_object_body(request))
    letter = await _letter(request)
    try:
        await replay(request.app[HUB], letter, request[OPERATOR], force=force)
    except NotReplayable as exc:
        return guard.json_error(409, str(exc), id=letter.id, forceable=exc.forceable)
    except BrokerUnavailable as exc:
        return guard.json_error(503, str(exc), id=letter.id)
    return web.json_response({"replayed": [letter.id]})


async def _new_letters(hub: AdminHub, reason: str | None) -> AsyncIterator[DeadLetter]:
    """Every new letter (matching ``reason``), page by page: no cap."""
    before: int | None = None
    while True:
        page = await hub.store.dead_letters(state="new", reason=reason, before_id=before,
                                            limit=LIST_LIMIT)
        for letter in page:
            yield letter
        if len(page) < LIST_LIMIT:
            return
        before = page[-1].id


@routes.post("/api/dead-letters/replay")
async def replay_matching(request: web.Request) -> web.Response:
    """Replay every new dead letter matching ``{"reason": …}`` (all new ones without); those
    whose cause is not retryable are skipped unless ``"force": true``."""
    body = await guard.json_object_body(request)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        guard.bad_request("reason: expected a string")
    if reason:
        guard.checked_text("reason", reason)
    force = _force(body)
    hub = request.app[HUB]
    replayed: list[int | None] = []
    skipped: list[dict[str, Any]] = []
    async for letter in _new_letters(hub, reason or None):
        try:
            await replay(hub, letter, request[OPERATOR], force=force)
            replayed.append(letter.id)
        except NotReplayable as exc:
            skipped.append({"id": letter.id, "why": str(exc), "forceable": exc.forceable})
        except BrokerUnavailable as exc:
            return guard.json_error(503, str(exc), replayed=replayed, skipped=skipped)
    return web.json_response({"replayed": replayed, "skipped": skipped})


@routes.post("/api/dead-letters/{id}/discard")
async def discard(request: web.Request) -> web.Response:
    await guard.json_object_body(request)
    letter = await _letter(request)
    assert letter.id is not None
    if letter.state != "new":
        return guard.json_error(409, f"this dead letter was {letter.state} already",
                                id=letter.id)
    await request.app[HUB].store.mark_dead_letter(letter.id, "discarded", request[OPERATOR])
    log.info("admin.dead_letter.discarded", operator=request[OPERATOR], dead_letter=letter.id)
    return web.json_response({"discarded": letter.id})
