"""The SQLite store's audit of consultations: written before each call, completed once after,
searched in SQL."""

from __future__ import annotations

import datetime as dt

from hub.ports import Consultation
from hub.store import sql
from hub.store.base import (
    ABANDONED,
    AUDIT_COLUMNS,
    AuditRecord,
    consultation_row,
    store_safe_text,
)
from hub.store.queries import AuditQuery, Page
from hub.store.sqlite.connection import DIALECT, SqliteBase

__all__ = ["SqliteAudit"]

_INSERT = sql.audit_insert("?")
_STARTED_AT, _JOB_ID = AUDIT_COLUMNS.index("started_at"), AUDIT_COLUMNS.index("job_id")


class SqliteAudit(SqliteBase):
    # -- audit of consultations -------------------------------------------------------------

    async def consultation_started(self, consultation: Consultation) -> None:
        row = list(consultation_row(consultation))
        row[_STARTED_AT] = consultation.started_at.astimezone(dt.UTC).isoformat()
        row.append(row[_JOB_ID])
        await self._run(lambda c: c.execute(_INSERT, row))

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        finished = dt.datetime.now(dt.UTC).isoformat()
        safe_reply = None if reply_reference is None else store_safe_text(reply_reference)
        await self._run(
            lambda c: c.execute(
                "UPDATE audit_consultations SET outcome = ?, reply_reference = ?,"
                " duration_ms = ?, finished_at = ? WHERE reference = ? AND outcome IS NULL",
                (store_safe_text(outcome), safe_reply, duration_ms, finished,
                 store_safe_text(reference)),
            )
        )

    async def abandon_open_consultations(self, job_id: str) -> int:
        return await self._abandon("job_id = ?", store_safe_text(job_id))

    async def abandon_stale_consultations(self, started_before: dt.datetime) -> int:
        # started_at is ISO text in UTC (+00:00), so text order is time order.
        return await self._abandon("started_at < ?",
                                   started_before.astimezone(dt.UTC).isoformat())

    async def _abandon(self, where: str, value: str) -> int:
        finished = dt.datetime.now(dt.UTC).isoformat()
        cursor = await self._run(
            lambda c: c.execute(
                "UPDATE audit_consultations SET outcome = ?, finished_at = ?"
                f" WHERE {where} AND outcome IS NULL",
                (ABANDONED, finished, value),
            )
        )
        return int(cursor.rowcount)

    async def audit_records(
        self, *, job_id: str | None = None, tenant: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        clauses, params = [], []
        for column, value in (("job_id", job_id), ("tenant", tenant)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(store_safe_text(value))  # as it was stored
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._run(
            lambda c: c.execute(
                f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_consultations{where}"
                " ORDER BY started_at DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        )
        return [_audit_record(row) for row in rows]

    async def search_audit(self, query: AuditQuery) -> Page[AuditRecord]:
        search = sql.audit_search(query, DIALECT)
        return await self._page(search, sql.AUDIT_ORDER, _audit_record)

    async def purge_audit(self, older_than: dt.datetime) -> int:
        cursor = await self._run(
            lambda c: c.execute(
                "DELETE FROM audit_consultations WHERE started_at < ?", (older_than.isoformat(),)
            )
        )
        return int(cursor.rowcount)


def _audit_record(row: tuple[object, ...]) -> AuditRecord:
    values = dict(zip(AUDIT_COLUMNS, row, strict=True))
    for key in ("started_at", "finished_at"):
        raw = values[key]
        values[key] = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    return AuditRecord(**values)  # type: ignore[arg-type]
