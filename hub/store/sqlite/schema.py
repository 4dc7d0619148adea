"""The SQLite store's tables, and how a file of an earlier version is brought up to date."""

from __future__ import annotations

import sqlite3

from hub.store.sql import AUDIT_INDEXES, REGISTER_COLUMNS, REQUEST_INDEXES, audit_table

__all__ = ["PURGE", "SCHEMA", "VERSION", "migrate"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('in-progress', 'released', 'waiting', 'done')),
    owner        TEXT,
    lease_until  REAL,
    result       BLOB,
    published    INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    completed_at REAL,
    journal      TEXT,
    interim      BLOB,
    message      BLOB,
    fingerprint  TEXT,
    purged_at    REAL,
    job_type     TEXT,
    product_id   INTEGER,
    tenant       TEXT,
    dossier_id   TEXT,
    applicant    TEXT,
    outcome      TEXT,
    updated_at   REAL
);
CREATE INDEX IF NOT EXISTS outcomes_by_age ON job_outcomes (state, created_at);
CREATE TABLE IF NOT EXISTS task_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
""" + audit_table("TEXT", "REAL") + """
CREATE INDEX IF NOT EXISTS audit_by_job ON audit_consultations (job_id);
-- The audit is append-only from the hub's side: a finished record never changes again.
CREATE TABLE IF NOT EXISTS status_pushes (
    upload_id  TEXT PRIMARY KEY,
    job_id     TEXT NOT NULL,
    dossier_id TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    status     TEXT NOT NULL,
    pushed_at  TEXT NOT NULL,
    result     TEXT,
    reason     TEXT
);
CREATE INDEX IF NOT EXISTS pushes_pending ON status_pushes (result, pushed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    error          TEXT,
    message_id     TEXT,
    correlation_id TEXT,
    reply_to       TEXT,
    headers        TEXT NOT NULL,
    body           BLOB NOT NULL,
    state          TEXT NOT NULL DEFAULT 'new',
    handled_by     TEXT,
    handled_at     TEXT
);
CREATE TABLE IF NOT EXISTS saved_filters (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    owner    TEXT NOT NULL,
    shared   INTEGER NOT NULL DEFAULT 0,
    filters  TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (kind, owner, name)
);
CREATE TRIGGER IF NOT EXISTS audit_finished_is_final
BEFORE UPDATE ON audit_consultations WHEN OLD.outcome IS NOT NULL
BEGIN SELECT RAISE(IGNORE); END;
"""



VERSION = 5

# What retention removes of a done job: everything about the person; the row stays, so the job
# id keeps its fingerprint and a replay is told the documents expired. The register's columns
# stay too (the applicant is masked): staff can still find that the request was handled.
PURGE = ("UPDATE job_outcomes SET result = NULL, message = NULL, journal = NULL,"
         " interim = NULL, purged_at = ?")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_missing(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Add the columns a table of an older version lacks (a table not made yet is left)."""
    present = _columns(conn, table)
    for name, kind in columns.items():
        if present and name not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the tables of any earlier version to this one, then make what is missing.

    Version 1 tables had no journal and no 'waiting' state: they are rebuilt in place; later
    versions gained columns (added here) and indexes (made by the schema script, which only
    creates what does not exist). ``PRAGMA user_version`` says which version wrote the file.
    """
    _upgrade(conn)
    conn.executescript(SCHEMA)
    for statement in (*AUDIT_INDEXES, *REQUEST_INDEXES):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {VERSION}")


def _upgrade(conn: sqlite3.Connection) -> None:
    _add_missing(conn, "audit_consultations", {"decided_by": "TEXT", "job_type": "TEXT"})
    columns = _columns(conn, "job_outcomes")
    if columns and "journal" in columns and "message" not in columns:
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN message BLOB")
    if columns and "journal" in columns and "fingerprint" not in columns:
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN fingerprint TEXT")
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN purged_at REAL")
    if "journal" in columns:
        _add_missing(conn, "job_outcomes",
                     {name: kinds[0] for name, kinds in REGISTER_COLUMNS.items()})
    if not columns or "journal" in columns:
        return
    conn.executescript(
        "BEGIN;"
        " ALTER TABLE job_outcomes RENAME TO job_outcomes_v1;"
        + SCHEMA.split(";", 1)[0] + ";"
        " INSERT INTO job_outcomes (job_id, state, owner, lease_until, result, published,"
        "   created_at, completed_at)"
        " SELECT job_id, state, owner, lease_until, result, published, created_at, completed_at"
        "   FROM job_outcomes_v1;"
        " DROP TABLE job_outcomes_v1;"
        " COMMIT;"
    )
