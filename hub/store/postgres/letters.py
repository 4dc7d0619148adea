"""The PostgreSQL store's dead letters: messages kept for an operator."""

from __future__ import annotations

import datetime as dt

from hub.store.base import DeadLetter
from hub.store.postgres.connection import PostgresBase
from hub.store.sql import dead_letter_where

__all__ = ["PostgresLetters"]

_DL_COLS = (
    "received_at, reason, error, message_id, correlation_id, reply_to, headers, body, state,"
    " handled_by"
)


class PostgresLetters(PostgresBase):
    # -- dead letters ------------------------------------------------------------------------

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"INSERT INTO dead_letters ({_DL_COLS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (letter.received_at, letter.reason, letter.error, letter.message_id,
                 letter.correlation_id, letter.reply_to, letter.headers, letter.body,
                 letter.state, letter.handled_by),
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def dead_letters(self, *, state: str | None = None, reason: str | None = None,
                           message_id: str | None = None, before_id: int | None = None,
                           limit: int = 500) -> list[DeadLetter]:
        where, params = dead_letter_where("%s", state=state, reason=reason,
                                          message_id=message_id, before_id=before_id)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters {where} ORDER BY id DESC LIMIT %s",
                (*params, limit),
            )
            rows = await cursor.fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), r[9],
                           r[10]) for r in rows]

    async def count_dead_letters(self, *, state: str | None = None,
                                 reason: str | None = None) -> int:
        where, params = dead_letter_where("%s", state=state, reason=reason)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(f"SELECT count(*) FROM dead_letters {where}", params)
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def dead_letter(self, letter_id: int) -> DeadLetter | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters WHERE id = %s", (letter_id,)
            )
            r = await cursor.fetchone()
        return DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), r[9],
                          r[10]) if r else None

    async def mark_dead_letter(self, letter_id: int, state: str, operator: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE dead_letters SET state = %s, handled_by = %s, handled_at = now()"
                " WHERE id = %s",
                (state, operator, letter_id),
            )

    async def purge_dead_letters(self, received_before: dt.datetime) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM dead_letters WHERE received_at < %s", (received_before,))
            return cursor.rowcount
