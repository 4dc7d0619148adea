"""Searches for staff: the audit of consultations, the register of requests, saved searches.

    GET    /api/audit            consultations, newest first, a page at a time (``cursor``)
    GET    /api/requests         the requests the hub handled, newest first, paged the same way
           ?format=csv|xlsx      either as an export of every match (streamed, no cap)
    GET    /api/saved-filters    ?kind=audit|requests: the operator's searches and shared ones
    POST   /api/saved-filters    {"kind", "name", "shared", "filters": {parameter: value}}
    DELETE /api/saved-filters/{id}  the operator's own only

The filters are query parameters (see :data:`AUDIT_FILTERS`, :data:`REQUEST_FILTERS`); a saved
search holds the same parameters. Dates are ISO 8601; a date alone in ``to`` includes that day.
A bad parameter is a 400 that names it. Every search is logged with the operator's name and
the filters, an INSZ masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import structlog
from aiohttp import web

from hub.admin import export, guard
from hub.admin.auth import OPERATOR
from hub.contract import Outcome
from hub.identifiers import IdentifierError, mask_insz, normalize_insz
from hub.store import OutcomeStore
from hub.store.base import AUDIT_COLUMNS, AuditRecord
from hub.store.queries import (
    AuditQuery,
    BadCursor,
    Cursor,
    Page,
    RequestQuery,
    RequestRecord,
    SavedFilter,
    decode_cursor,
    encode_cursor,
)

__all__ = ["AUDIT_FILTERS", "REQUEST_FILTERS", "STORE", "audit_query", "request_query",
           "routes"]

log = structlog.get_logger("hub.admin.server")
STORE = web.AppKey("store", OutcomeStore)
routes = web.RouteTableDef()
T = TypeVar("T")

PAGE_DEFAULT = 100
PAGE_MAX = 1000
EXPORT_BATCH = 2000
FORMATS = {"json", "csv", "xlsx"}
AUDIT_FILTERS = frozenset({"from", "to", "type", "tenant", "service", "requester", "subject",
                           "purpose", "reference", "outcome"})
REQUEST_FILTERS = frozenset({"from", "to", "type", "product", "tenant", "dossier", "outcome",
                             "state"})
STATES = frozenset({"in-progress", "released", "waiting", "done"})
REQUEST_COLUMNS = ("job_id", "job_type", "product_id", "tenant", "dossier_id", "applicant",
                   "state", "outcome", "status", "received_at", "updated_at", "completed_at")
_MASKED = frozenset({"subject", "requester"})


def _subject(value: str | None) -> str | None:
    """An INSZ as the audit stores it (its eleven digits); anything else as given."""
    if value is None:
        return None
    try:
        return normalize_insz(value)
    except IdentifierError:
        return value


def _cursor(params: guard.Params) -> Cursor | None:
    text = guard.query_text(params, "cursor")
    try:
        return decode_cursor(text) if text is not None else None
    except BadCursor as exc:
        guard.bad_request(f"cursor: {exc}")


def audit_query(params: guard.Params) -> AuditQuery:
    """The audit search the parameters ask for; a bad one is a 400 that names it."""
    return AuditQuery(
        since=guard.query_time(params, "from"),
        until=guard.query_time(params, "to", end_of_day=True),
        job_type=guard.query_text(params, "type"), tenant=guard.query_text(params, "tenant"),
        service=guard.query_text(params, "service"),
        requester=guard.query_text(params, "requester"),
        subject=_subject(guard.query_text(params, "subject")),
        purpose=guard.query_text(params, "purpose"),
        reference=guard.query_text(params, "reference"),
        outcome=guard.query_text(params, "outcome"),
        limit=guard.query_limit(params, default=PAGE_DEFAULT, maximum=PAGE_MAX),
        after=_cursor(params))


def request_query(params: guard.Params) -> RequestQuery:
    return RequestQuery(
        since=guard.query_time(params, "from"),
        until=guard.query_time(params, "to", end_of_day=True),
        job_type=guard.query_text(params, "type"),
        product_id=guard.query_whole(params, "product"),
        tenant=guard.query_text(params, "tenant"),
        dossier_id=guard.query_text(params, "dossier"),
        outcome=guard.query_choice(params, "outcome", {o.value for o in Outcome}),
        state=guard.query_choice(params, "state", STATES),
        limit=guard.query_limit(params, default=PAGE_DEFAULT, maximum=PAGE_MAX),
        after=_cursor(params))


def _logged(params: Mapping[str, str], names: frozenset[str]) -> dict[str, str]:
    """The filters for the log: an identifier of a person masked."""
    return {k: (mask_insz(v) if k in _MASKED else v[:80]) for k, v in params.items()
            if k in names and v}


def _cells(values: Sequence[Any]) -> list[Any]:
    return [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]


def _audit_values(record: AuditRecord) -> list[Any]:
    return [getattr(record, column) for column in AUDIT_COLUMNS]


def _request_values(record: RequestRecord) -> list[Any]:
    values = [getattr(record, column) for column in REQUEST_COLUMNS if column != "received_at"]
    values.insert(REQUEST_COLUMNS.index("received_at"), record.received_at)
    return values


async def _searched(pending: Awaitable[Page[T]]) -> Page[T]:
    try:
        return await pending
    except BadCursor as exc:
        guard.bad_request(f"cursor: {exc}")


async def _batches(search: Callable[[Cursor | None], Awaitable[Page[T]]],
                   values: Callable[[T], list[Any]]) -> AsyncIterator[list[Sequence[Any]]]:
    after: Cursor | None = None
    while True:
        page = await _searched(search(after))
        yield [values(row) for row in page.rows]
        if page.next is None:
            return
        after = page.next


async def _answer(request: web.Request, *, name: str, title: str, what: str,
                  columns: Sequence[str],
                  search: Callable[[Cursor | None, int, bool], Awaitable[Page[T]]],
                  values: Callable[[T], list[Any]], names: frozenset[str],
                  first: Cursor | None, limit: int) -> web.StreamResponse:
    fmt = guard.query_choice(request, "format", FORMATS) or "json"
    log.info(f"admin.{name}.search", operator=request[OPERATOR], format=fmt,
             filters=_logged(request.query, names))
    if fmt != "json":
        return await export.stream(
            request, fmt=fmt, title=title, header=columns, filename=name,
            batches=_batches(lambda after: search(after, EXPORT_BATCH, False), values))
    page = await _searched(search(first, limit, True))
    return web.json_response({
        what: [dict(zip(columns, _cells(values(row)), strict=True)) for row in page.rows],
        "total": page.total, "next": encode_cursor(page.next) if page.next else None})


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.StreamResponse:
    query, store = audit_query(request), request.app[STORE]

    def search(after: Cursor | None, limit: int, total: bool) -> Awaitable[Page[AuditRecord]]:
        return store.search_audit(replace(query, after=after, limit=limit, with_total=total))

    return await _answer(request, name="audit", title="consultations", what="records",
                         columns=AUDIT_COLUMNS, search=search,
                         values=_audit_values, names=AUDIT_FILTERS, first=query.after,
                         limit=query.limit)


@routes.get("/api/requests")
async def requests(request: web.Request) -> web.StreamResponse:
    query, store = request_query(request), request.app[STORE]

    def search(after: Cursor | None, limit: int, total: bool) -> Awaitable[Page[RequestRecord]]:
        return store.search_requests(replace(query, after=after, limit=limit,
                                             with_total=total))

    return await _answer(request, name="requests", title="requests", what="requests",
                         columns=REQUEST_COLUMNS, search=search,
                         values=_request_values, names=REQUEST_FILTERS, first=query.after,
                         limit=query.limit)


_KINDS: dict[str, tuple[frozenset[str], Callable[[guard.Params], object]]] = {
    "audit": (AUDIT_FILTERS, audit_query), "requests": (REQUEST_FILTERS, request_query)}
MAX_NAME = 120


def _filters(kind: str, raw: object) -> dict[str, str]:
    """A saved search's filters, checked as the same search's query parameters would be."""
    names, parse = _KINDS[kind]
    if not isinstance(raw, dict):
        guard.bad_request("filters: expected an object of parameter names and texts")
    filters: dict[str, str] = {}
    for name, value in raw.items():
        if name not in names:
            guard.bad_request(f"filters: {name!r} is not one of {', '.join(sorted(names))}")
        if not isinstance(value, str):
            guard.bad_request(f"filters: {name} must be a text")
        if value:
            filters[name] = value
    parse(filters)
    return filters


def _kind(value: object) -> str:
    if not isinstance(value, str) or value not in _KINDS:
        guard.bad_request(f"kind: expected one of {', '.join(sorted(_KINDS))}")
    return value


def _shown(saved: SavedFilter) -> dict[str, Any]:
    return {"id": saved.id, "kind": saved.kind, "name": saved.name, "owner": saved.owner,
            "shared": saved.shared, "filters": saved.filters,
            "saved_at": saved.saved_at.isoformat() if saved.saved_at else None}


@routes.get("/api/saved-filters")
async def list_filters(request: web.Request) -> web.Response:
    kind = _kind(guard.query_text(request, "kind"))
    found = await request.app[STORE].saved_filters(kind, request[OPERATOR])
    return web.json_response([_shown(saved) for saved in found])


@routes.post("/api/saved-filters")
async def save_filter(request: web.Request) -> web.Response:
    body = await guard.json_object_body(request)
    kind = _kind(body.get("kind"))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        guard.bad_request(f"name: expected a text of 1 to {MAX_NAME} characters")
    name = guard.checked_text("name", name.strip())
    shared = body.get("shared", False)
    if not isinstance(shared, bool):
        guard.bad_request("shared: expected true or false")
    filters = _filters(kind, body.get("filters", {}))
    operator = request[OPERATOR]
    filter_id = await request.app[STORE].save_filter(
        SavedFilter(kind, name, operator, shared, filters))
    log.info("admin.filter.saved", operator=operator, kind=kind, name=name, shared=shared,
             filters=_logged(filters, _KINDS[kind][0]))
    return web.json_response({"id": filter_id}, status=201)


@routes.delete("/api/saved-filters/{id}")
async def delete_filter(request: web.Request) -> web.Response:
    filter_id, operator = guard.path_id(request), request[OPERATOR]
    if not await request.app[STORE].delete_filter(filter_id, operator):
        guard.not_found(f"no saved search {filter_id} of {operator}")
    log.info("admin.filter.deleted", operator=operator, id=filter_id)
    return web.json_response({"deleted": filter_id})
