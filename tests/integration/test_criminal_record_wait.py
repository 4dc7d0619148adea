"""A criminal-record extract that is not ready within its model's ``max_wait_days`` ends as
``EXTRACT_TIMED_OUT`` (rejected, with the extract's number); until then the job keeps waiting.

The adapter against the MAGDA simulator, over real SOAP; no broker. The time waited is the
journal's ``requested_at`` (written when the request was made), so the test writes one from
long ago instead of waiting weeks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.criminal_record.errors import ExtractTimedOut
from adapters.criminal_record.mapping import load_models
from hub.app import build_backends, build_registry
from hub.config import load_tenants
from hub.contract_decoding import decode_job
from hub.devpki import KeyPair
from hub.ports import CallContext, Continuation
from hub.store import OutcomeStore, open_store
from simulators.population_data import WELL_KNOWN
from tests.integration.test_civil_status_and_criminal_record import extract_job
from tests.integration.test_end_to_end import control, hub_settings

TENANTS = load_tenants(Path(__file__).resolve().parents[2] / "mappings/tenants")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


async def test_an_extract_not_ready_within_its_wait_times_out(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, store: OutcomeStore
) -> None:
    settings = hub_settings(simulator, pki, tmp_path)
    backends = build_backends(settings, TENANTS)
    adapter = build_registry(settings, TENANTS, backends).for_type("criminal-record.extract")
    assert adapter is not None
    await control(simulator, "POST", "strafregister", {"police_check_polls": 1000})
    body = extract_job(WELL_KNOWN["single"], "596.2", activity="JEUGDWERK")
    job = decode_job(json.dumps(body).encode(), body["job_id"])
    max_wait = load_models()["596.2"].max_wait
    await backends.start()
    try:
        requested = await adapter.handle(CallContext(job=job, tenant=TENANTS["gent"],
                                                     attempt=1, audit=store))
        assert isinstance(requested, Continuation)
        journal = dict(requested.journal)
        # Within the wait: still waiting for the police check.
        within = dt.datetime.now(dt.UTC) - max_wait + dt.timedelta(hours=1)
        waiting = await adapter.handle(CallContext(
            job=job, tenant=TENANTS["gent"], attempt=1, audit=store,
            journal=journal | {"requested_at": within.isoformat()}))
        assert isinstance(waiting, Continuation)
        # Past it: the job ends, with the number the criminal record gave.
        past = dt.datetime.now(dt.UTC) - max_wait - dt.timedelta(hours=1)
        with pytest.raises(ExtractTimedOut) as timed_out:
            await adapter.handle(CallContext(
                job=job, tenant=TENANTS["gent"], attempt=1, audit=store,
                journal=journal | {"requested_at": past.isoformat()}))
    finally:
        await backends.close()
    assert timed_out.value.code == "EXTRACT_TIMED_OUT" and not timed_out.value.retryable
    assert timed_out.value.details == {"number": journal["number"]}
