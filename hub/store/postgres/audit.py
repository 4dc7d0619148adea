"""The PostgreSQL store's audit of consultations: written before each call, completed once
after, searched in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.ports import Consultation
from hub.store import sql
from hub.store.base import (
    ABANDONED,
    AUDIT_COLUMNS,
    AuditRecord,
    consultation_row,
    store_safe_text,
)
from hub.store.postgres.connection import DIALECT, PostgresBase
from hub.store.queries import AuditQuery, Page

__all__ = ["PostgresAudit"]

_INSERT = sql.audit_insert("%s")
_JOB_ID = AUDIT_COLUMNS.index("job_id")


def _audit_record(row: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(**dict(zip(AUDIT_COLUMNS, row, strict=True)))


class PostgresAudit(PostgresBase):
    # -- audit of consultations -------------------------------------------------------------

    async def consultation_started(self, consultation: Consultation) -> None:
        async with self._pool.connection() as conn:
            row = consultation_row(consultation)
            await conn.execute(_INSERT, (*row, row[_JOB_ID]))

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        async with self._pool.connection() as conn:
            # Only the first completion counts: the audit is append-only from the hub's side.
            await conn.execute(
                "UPDATE audit_consultations SET outcome = %s, reply_reference = %s,"
                " duration_ms = %s, finished_at = now() WHERE reference = %s AND outcome IS NULL",
                (store_safe_text(outcome),
                 None if reply_reference is None else store_safe_text(reply_reference),
                 duration_ms, store_safe_text(reference)),
            )

    async def abandon_open_consultations(self, job_id: str) -> int:
        return await self._abandon("job_id = %s", store_safe_text(job_id))

    async def abandon_stale_consultations(self, started_before: dt.datetime) -> int:
        return await self._abandon("started_at < %s", started_before)

    async def _abandon(self, where: str, value: object) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE audit_consultations SET outcome = %s, finished_at = now()"
                f" WHERE {where} AND outcome IS NULL",
                (ABANDONED, value),
            )
            return cursor.rowcount

    async def audit_records(
        self, *, job_id: str | None = None, tenant: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("job_id", job_id), ("tenant", tenant)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(store_safe_text(value))  # as it was stored
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_consultations{where}"
                " ORDER BY started_at DESC LIMIT %s",
                (*params, limit),
            )
            rows = await cursor.fetchall()
        return [_audit_record(row) for row in rows]

    async def search_audit(self, query: AuditQuery) -> Page[AuditRecord]:
        return await self._page(sql.audit_search(query, DIALECT), sql.AUDIT_ORDER,
                                _audit_record)

    async def purge_audit(self, older_than: dt.datetime) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM audit_consultations WHERE started_at < %s", (older_than,)
            )
            return cursor.rowcount
