"""SQL both stores share: the searches of the audit and of the request register, and the
indexes that keep them fast over years of records.

A search is built once for a :class:`Dialect` (SQLite's ``?`` and ISO-text times, or
PostgreSQL's ``%s`` and ``timestamptz``) and runs as two statements: the page (one row more than
asked, to know whether another page follows) and the count of all matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from hub.store.base import AUDIT_COLUMNS, STARTED_COLUMNS, store_safe_text
from hub.store.queries import AuditQuery, BadCursor, Cursor, Page, RequestQuery

__all__ = [
    "AUDIT_INDEXES",
    "AUDIT_ORDER",
    "FILTER_COLUMNS",
    "REQUEST_COLUMNS",
    "REQUEST_INDEXES",
    "REQUEST_ORDER",
    "Dialect",
    "Search",
    "audit_insert",
    "audit_search",
    "audit_table",
    "dead_letter_where",
    "page_of",
    "request_search",
    "where_equal",
]

T = TypeVar("T")

# Each filter that staff use alone has an index that also gives the order (newest first), so a
# page is read straight from the index, however many years the table holds.
AUDIT_INDEXES = (
    "DROP INDEX IF EXISTS audit_by_time",
    "CREATE INDEX IF NOT EXISTS audit_by_start ON audit_consultations (started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_tenant"
    " ON audit_consultations (tenant, started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_type"
    " ON audit_consultations (job_type, started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_subject"
    " ON audit_consultations (subject_identifier, started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_requester"
    " ON audit_consultations (requester_identifier, started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_acting"
    " ON audit_consultations (acting_person, started_at, reference)",
    "CREATE INDEX IF NOT EXISTS audit_by_reply ON audit_consultations (reply_reference)",
)
_REGISTERED = "WHERE job_type IS NOT NULL"
REQUEST_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS requests_by_time ON job_outcomes (created_at, job_id)"
    f" {_REGISTERED}",
    f"CREATE INDEX IF NOT EXISTS requests_by_type ON job_outcomes (job_type, created_at, job_id)"
    f" {_REGISTERED}",
    f"CREATE INDEX IF NOT EXISTS requests_by_tenant ON job_outcomes (tenant, created_at, job_id)"
    f" {_REGISTERED}",
    f"CREATE INDEX IF NOT EXISTS requests_by_dossier ON job_outcomes (dossier_id) {_REGISTERED}",
    "CREATE INDEX IF NOT EXISTS pushes_by_job ON status_pushes (job_id, pushed_at)",
    # A dead letter's history: the other letters of the same message (each replay that failed
    # again made one).
    "CREATE INDEX IF NOT EXISTS dead_letters_by_message ON dead_letters (message_id, id)",
)
# The register's columns of job_outcomes (filled by the first claim of a job, from its message;
# the outcome by each result), with their SQLite and PostgreSQL types.
REGISTER_COLUMNS = {
    "job_type": ("TEXT", "TEXT"), "product_id": ("INTEGER", "BIGINT"), "tenant": ("TEXT", "TEXT"),
    "dossier_id": ("TEXT", "TEXT"), "applicant": ("TEXT", "TEXT"), "outcome": ("TEXT", "TEXT"),
    "updated_at": ("REAL", "TIMESTAMPTZ"),
}
REQUEST_COLUMNS = (
    "job_id", "job_type", "product_id", "tenant", "dossier_id", "applicant", "state", "outcome",
    "(SELECT p.status FROM status_pushes p WHERE p.job_id = job_outcomes.job_id"
    " ORDER BY p.pushed_at DESC LIMIT 1)", "created_at", "updated_at", "completed_at",
)
FILTER_COLUMNS = "id, kind, name, owner, shared, filters, saved_at"


def audit_table(time: str, real: str) -> str:
    """The audit's table in a dialect's types for a time and a floating-point number."""
    text = ("reference TEXT PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
            " tenant TEXT NOT NULL, service TEXT NOT NULL, service_version TEXT NOT NULL,"
            " client_identification TEXT NOT NULL, requester_capacity TEXT NOT NULL,"
            " requester_identifier TEXT NOT NULL, acting_person TEXT,"
            " subject_identifier TEXT NOT NULL, purpose TEXT NOT NULL,"
            f" started_at {time} NOT NULL, decided_by TEXT, finished_at {time}, outcome TEXT,"
            f" reply_reference TEXT, duration_ms {real}, job_type TEXT")
    return f"CREATE TABLE IF NOT EXISTS audit_consultations ({text});\n"


def audit_insert(mark: str) -> str:
    """The statement that records a consultation before its call, with the parameters
    ``consultation_row`` and then the job id: a record without a job type (the hub's own
    events) takes the type the request register holds for its job."""
    assert AUDIT_COLUMNS[STARTED_COLUMNS - 1] == "job_type"
    values = [mark] * (STARTED_COLUMNS - 1) + [
        f"COALESCE(NULLIF({mark}, ''), (SELECT job_type FROM job_outcomes WHERE job_id = {mark}))"]
    return (f"INSERT INTO audit_consultations ({', '.join(AUDIT_COLUMNS[:STARTED_COLUMNS])})"
            f" VALUES ({', '.join(values)}) ON CONFLICT (reference) DO NOTHING")


@dataclass(frozen=True)
class Dialect:
    mark: str  # the parameter placeholder
    audit_time: Callable[[dt.datetime], object]  # a datetime as audit_consultations holds it
    job_time: Callable[[dt.datetime], object]  # … as job_outcomes.created_at holds it
    ilike: str  # a case-insensitive LIKE
    # A cursor's time (Cursor.at) as a parameter, and a stored time as a cursor's: exact, so a
    # page starts right after the last row of the one before.
    audit_cursor: Callable[[str], object]
    job_cursor: Callable[[str], object]
    cursor_text: Callable[[object], str]

    def from_cursor(self, convert: Callable[[str], object], text: str) -> object:
        try:
            return convert(text)
        except (ValueError, TypeError) as exc:
            raise BadCursor("not a cursor this server gave") from exc


@dataclass(frozen=True)
class Search:
    select: str
    select_params: tuple[object, ...]
    count: str | None  # None: no total wanted
    count_params: tuple[object, ...]
    limit: int


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Where:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self.clauses: list[str] = []
        self.params: list[object] = []

    def mark(self, clause: str) -> str:
        return clause.replace("?", self._dialect.mark)

    def add(self, clause: str, *values: object) -> None:
        self.clauses.append(self.mark(clause))
        self.params.extend(values)

    def equal(self, pairs: Sequence[tuple[str, object]]) -> None:
        for column, value in pairs:
            if value is not None:
                self.add(f"{column} = ?", store_safe_text(value) if isinstance(value, str)
                         else value)

    def sql(self, extra: str = "") -> str:
        clauses = [*self.clauses, extra] if extra else self.clauses
        return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _search(table: str, columns: Sequence[str], where: _Where, after: Cursor | None,
            order: tuple[str, str], at_of: Callable[[str], object], limit: int,
            with_total: bool) -> Search:
    keyset = ""
    keyset_params: tuple[object, ...] = ()
    if after is not None:
        at = at_of(after.at)
        keyset = where.mark(f"({order[0]} < ? OR ({order[0]} = ? AND {order[1]} < ?))")
        keyset_params = (at, at, after.key)
    select = (f"SELECT {', '.join(columns)} FROM {table}{where.sql(keyset)}"
              f" ORDER BY {order[0]} DESC, {order[1]} DESC LIMIT {where.mark('?')}")
    return Search(select, (*where.params, *keyset_params, limit + 1),
                  f"SELECT count(*) FROM {table}{where.sql()}" if with_total else None,
                  tuple(where.params), limit)


def audit_search(query: AuditQuery, dialect: Dialect) -> Search:
    where = _Where(dialect)
    if query.since is not None:
        where.add("started_at >= ?", dialect.audit_time(query.since))
    if query.until is not None:
        where.add("started_at < ?", dialect.audit_time(query.until))
    where.equal([("job_type", query.job_type), ("tenant", query.tenant),
                 ("service", query.service), ("subject_identifier", query.subject)])
    if query.requester is not None:
        requester = store_safe_text(query.requester)
        where.add("(requester_identifier = ? OR acting_person = ?)", requester, requester)
    if query.reference is not None:
        reference = store_safe_text(query.reference)
        where.add("(reference = ? OR reply_reference = ?)", reference, reference)
    if query.purpose is not None:
        where.add(f"purpose {dialect.ilike} ? ESCAPE '\\'",
                  f"%{_escape_like(store_safe_text(query.purpose))}%")
    if query.outcome is not None:
        where.add("outcome LIKE ? ESCAPE '\\'", f"{_escape_like(query.outcome)}%")
    return _search("audit_consultations", AUDIT_COLUMNS, where, query.after,
                   ("started_at", "reference"),
                   lambda text: dialect.from_cursor(dialect.audit_cursor, text), query.limit,
                   query.with_total)


def request_search(query: RequestQuery, dialect: Dialect) -> Search:
    where = _Where(dialect)
    where.add("job_type IS NOT NULL")
    if query.since is not None:
        where.add("created_at >= ?", dialect.job_time(query.since))
    if query.until is not None:
        where.add("created_at < ?", dialect.job_time(query.until))
    where.equal([("job_type", query.job_type), ("product_id", query.product_id),
                 ("tenant", query.tenant), ("dossier_id", query.dossier_id),
                 ("outcome", query.outcome), ("state", query.state)])
    return _search("job_outcomes", REQUEST_COLUMNS, where, query.after,
                   ("created_at", "job_id"),
                   lambda text: dialect.from_cursor(dialect.job_cursor, text), query.limit,
                   query.with_total)


AUDIT_ORDER = (AUDIT_COLUMNS.index("started_at"), AUDIT_COLUMNS.index("reference"))
REQUEST_ORDER = (REQUEST_COLUMNS.index("created_at"), REQUEST_COLUMNS.index("job_id"))


def page_of(rows: Sequence[tuple[Any, ...]], total: int | None, search: Search, dialect: Dialect,
            order: tuple[int, int], convert: Callable[[tuple[Any, ...]], T]) -> Page[T]:
    """The page of a search's rows (one more than asked when another page follows); ``order``:
    the positions of the row's time and key."""
    shown = rows[:search.limit]
    after = None
    if len(rows) > search.limit and shown:
        last = shown[-1]
        after = Cursor(dialect.cursor_text(last[order[0]]), str(last[order[1]]))
    return Page([convert(row) for row in shown], total, after)


def where_equal(placeholder: str, **columns: object) -> tuple[str, list[object]]:
    """``WHERE a = ? AND b = ?`` for the columns given a value (None: no condition), and its
    parameters (``placeholder``: ``?`` for SQLite, ``%s`` for PostgreSQL)."""
    clauses: list[str] = []
    params: list[object] = []
    for column, value in columns.items():
        if value is not None:
            clauses.append(f"{column} = {placeholder}")
            params.append(value)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def dead_letter_where(placeholder: str, *, state: str | None, reason: str | None,
                      message_id: str | None = None,
                      before_id: int | None = None) -> tuple[str, list[object]]:
    """The WHERE clause of a dead-letter list (``placeholder``: ``?`` or ``%s``)."""
    where, params = where_equal(placeholder, state=state, reason=reason, message_id=message_id)
    if before_id is not None:
        where += f" {'AND' if where else 'WHERE'} id < {placeholder}"
        params.append(before_id)
    return where, params
