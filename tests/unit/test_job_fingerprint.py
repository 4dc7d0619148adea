"""A stored result is only ever returned to the request it was made for (Hypothesis)."""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.contract_decoding import decode_job
from hub.store import ClaimState
from hub.store.sqlite import SqliteStore
from hub.testing import job_body
from simulators.population_data import WELL_KNOWN

PEOPLE = [WELL_KNOWN[k] for k in ("household_head", "partner", "single", "mover")]


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid population job: tenant, requester, subject, attest, login and purpose vary."""
    subject = draw(st.sampled_from(PEOPLE))
    body = job_body("population.attest", subject,
                    {"attest": draw(st.sampled_from(["household-composition",
                                                     "main-residence"]))},
                    requester=draw(st.sampled_from(PEOPLE)), job_id="shared-job-id-0001",
                    tenant=draw(st.sampled_from(["gent", "antwerpen"])))
    body["requester"]["authenticated"] = draw(st.booleans())
    body["purpose"] = draw(st.sampled_from(["a", "b"]))  # not part of what is asked
    body["dossier_id"] = draw(st.sampled_from(["D-1", "D-2"]))  # nor is this
    return body


def _asked(body: dict[str, Any]) -> str:
    kept = copy.deepcopy(body)
    for key in ("purpose", "dossier_id", "created_at"):
        kept.pop(key, None)
    return json.dumps(kept, sort_keys=True)


def _first_claims(first: dict[str, Any], second: dict[str, Any]) -> tuple[ClaimState, bytes | None]:
    async def run() -> tuple[ClaimState, bytes | None]:
        with tempfile.TemporaryDirectory() as directory:
            store = SqliteStore(Path(directory) / "hub.db", checkpoint_interval_s=0)
            await store.open()
            try:
                one = decode_job(json.dumps(first).encode(), None)
                two = decode_job(json.dumps(second).encode(), None)
                assert (await store.claim(one.job_id, "w", 60,
                                          fingerprint=one.fingerprint)).state \
                    is ClaimState.ACQUIRED
                await store.complete(one.job_id, "w", b"the first request's documents")
                claim = await store.claim(two.job_id, "w", 60, fingerprint=two.fingerprint)
                return claim.state, claim.result
            finally:
                await store.close()

    return asyncio.run(run())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs(), jobs())
def test_documents_go_only_to_a_job_with_the_same_fingerprint(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    state, result = _first_claims(first, second)
    if _asked(first) == _asked(second):
        assert (state, result) == (ClaimState.DONE, b"the first request's documents")
    else:
        assert state is ClaimState.CONFLICT
        assert result is None


def test_the_fingerprint_ignores_separators_in_identifiers() -> None:
    body = job_body("population.attest", "85073003328", {"attest": "main-residence"})
    dotted = copy.deepcopy(body)
    dotted["subject"]["identifier"] = "85.07.30-033.28"
    one = decode_job(json.dumps(body).encode(), None)
    two = decode_job(json.dumps(dotted).encode(), None)
    assert one.fingerprint == two.fingerprint
