"""The SQLite store's dead letters: messages kept for an operator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.store.base import DeadLetter
from hub.store.sql import dead_letter_where
from hub.store.sqlite.connection import SqliteBase

__all__ = ["SqliteLetters"]

_DL_COLS = (
    "received_at, reason, error, message_id, correlation_id, reply_to, headers, body, state,"
    " handled_by"
)


class SqliteLetters(SqliteBase):
    # -- dead letters ------------------------------------------------------------------------

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        cursor = await self._run(
            lambda c: c.execute(
                f"INSERT INTO dead_letters ({_DL_COLS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (letter.received_at.isoformat(), letter.reason, letter.error, letter.message_id,
                 letter.correlation_id, letter.reply_to, letter.headers, letter.body,
                 letter.state, letter.handled_by),
            )
        )
        return int(cursor.lastrowid or 0)

    async def dead_letters(self, *, state: str | None = None, reason: str | None = None,
                           message_id: str | None = None, before_id: int | None = None,
                           limit: int = 500) -> list[DeadLetter]:
        where, params = dead_letter_where("?", state=state, reason=reason,
                                          message_id=message_id, before_id=before_id)
        rows = await self._run(
            lambda c: c.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters {where} ORDER BY id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        )
        return [_dead_letter(r) for r in rows]

    async def count_dead_letters(self, *, state: str | None = None,
                                 reason: str | None = None) -> int:
        where, params = dead_letter_where("?", state=state, reason=reason)
        row = await self._run(lambda c: c.execute(
            f"SELECT count(*) FROM dead_letters {where}", params).fetchone())
        return int(row[0]) if row else 0

    async def dead_letter(self, letter_id: int) -> DeadLetter | None:
        row = await self._run(
            lambda c: c.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters WHERE id = ?", (letter_id,)
            ).fetchone()
        )
        return _dead_letter(row) if row else None

    async def mark_dead_letter(self, letter_id: int, state: str, operator: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        await self._run(
            lambda c: c.execute(
                "UPDATE dead_letters SET state = ?, handled_by = ?, handled_at = ? WHERE id = ?",
                (state, operator, now, letter_id),
            )
        )

    async def purge_dead_letters(self, received_before: dt.datetime) -> int:
        cursor = await self._run(lambda c: c.execute(
            "DELETE FROM dead_letters WHERE received_at < ?", (received_before.isoformat(),)))
        return int(cursor.rowcount)


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(row[0], dt.datetime.fromisoformat(row[1]), row[2], row[3], row[4], row[5],
                      row[6], row[7], bytes(row[8]), row[9], row[10])
