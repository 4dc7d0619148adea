"""The PostgreSQL store's tables and statements. Every start runs the schema script: each
statement makes what does not exist yet (``IF NOT EXISTS``), which is how a database of an
earlier version is brought up to date."""

from __future__ import annotations

from hub.store.sql import AUDIT_INDEXES, REGISTER_COLUMNS, REQUEST_INDEXES, audit_table

__all__ = ["CLAIM", "PURGE", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    owner        TEXT,
    lease_until  TIMESTAMPTZ,
    result       BYTEA,
    published    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ
);
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS journal JSONB;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS interim BYTEA;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS message BYTEA;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS fingerprint TEXT;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS purged_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS outcomes_by_age ON job_outcomes (state, created_at);
CREATE TABLE IF NOT EXISTS task_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until TIMESTAMPTZ NOT NULL
);
ALTER TABLE job_outcomes DROP CONSTRAINT IF EXISTS job_outcomes_state_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_state_check
    CHECK (state IN ('in-progress', 'released', 'waiting', 'done'));
""" + audit_table("TIMESTAMPTZ", "DOUBLE PRECISION") + """
ALTER TABLE audit_consultations ADD COLUMN IF NOT EXISTS decided_by TEXT;
ALTER TABLE audit_consultations ADD COLUMN IF NOT EXISTS job_type TEXT;
CREATE TABLE IF NOT EXISTS status_pushes (
    upload_id  TEXT PRIMARY KEY,
    seq        BIGSERIAL,
    job_id     TEXT NOT NULL,
    dossier_id TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    status     TEXT NOT NULL,
    pushed_at  TIMESTAMPTZ NOT NULL,
    result     TEXT,
    reason     TEXT
);
CREATE INDEX IF NOT EXISTS pushes_pending ON status_pushes (result, pushed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id             BIGSERIAL PRIMARY KEY,
    received_at    TIMESTAMPTZ NOT NULL,
    reason         TEXT NOT NULL,
    error          TEXT,
    message_id     TEXT,
    correlation_id TEXT,
    reply_to       TEXT,
    headers        TEXT NOT NULL,
    body           BYTEA NOT NULL,
    state          TEXT NOT NULL DEFAULT 'new',
    handled_by     TEXT,
    handled_at     TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS audit_by_job ON audit_consultations (job_id);
CREATE TABLE IF NOT EXISTS saved_filters (
    id       BIGSERIAL PRIMARY KEY,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    owner    TEXT NOT NULL,
    shared   BOOLEAN NOT NULL DEFAULT FALSE,
    filters  JSONB NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kind, owner, name)
);
""" + "".join(f"ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS {name} {kinds[1]};\n"
              for name, kinds in REGISTER_COLUMNS.items()
              ) + "".join(f"{statement};\n" for statement in (*AUDIT_INDEXES, *REQUEST_INDEXES))

# Take the row when it is new, released, its lease ran out, or (for its own poll) waiting;
# otherwise leave it untouched and RETURNING yields nothing, which tells us to read why.
CLAIM = """
INSERT INTO job_outcomes (job_id, state, owner, lease_until, message, fingerprint, updated_at,
                          job_type, product_id, tenant, dossier_id, applicant)
VALUES (%(job_id)s, 'in-progress', %(owner)s, now() + make_interval(secs => %(lease)s),
        %(message)s, %(fingerprint)s, now(), %(job_type)s, %(product_id)s, %(tenant)s,
        %(dossier_id)s, %(applicant)s)
ON CONFLICT (job_id) DO UPDATE
   SET state = 'in-progress', owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
       message = COALESCE(EXCLUDED.message, job_outcomes.message),
       fingerprint = COALESCE(job_outcomes.fingerprint, EXCLUDED.fingerprint),
       updated_at = now()
 WHERE (job_outcomes.state = 'released'
        OR (job_outcomes.state = 'in-progress' AND job_outcomes.lease_until < now())
        OR (job_outcomes.state = 'waiting' AND %(continuation)s))
   AND (job_outcomes.fingerprint IS NULL OR EXCLUDED.fingerprint IS NULL
        OR job_outcomes.fingerprint = EXCLUDED.fingerprint)
RETURNING job_id, journal
"""
# What retention removes of a done job (see SqliteStore): the row stays as a tombstone.
PURGE = ("UPDATE job_outcomes SET result = NULL, message = NULL, journal = NULL,"
          " interim = NULL, purged_at = now()")
