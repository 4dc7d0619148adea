"""Population certificates from a RabbitMQ job to a signed document, and the breaker at work."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from hub.breaker import BreakerState
from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.documents import external
from hub.testing import make_job, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.integration.test_end_to_end import TENANT_CA, control, hub_settings
from tests.integration.test_population_certificates import DELIVERED, REFUSED

pytestmark = pytest.mark.broker


async def test_every_certificate_from_a_job_to_a_verified_document(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        jobs = [
            make_job(WELL_KNOWN[who], attest=attest, tenant=tenant)
            for attest, who, tenant, _ in DELIVERED
        ]
        futures = [await harness.client.publish(job) for job in jobs]
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        for (attest, *_), result in zip(DELIVERED, results, strict=True):
            assert result.outcome is Outcome.DELIVERED, (attest, result.error)
            xml, pdf = result.documents
            assert f"<Kind>{attest}</Kind>".encode() in xml.content
            for document in (xml, pdf):
                path = tmp_path / document.file_name
                path.write_bytes(document.content)
                ok, said = (
                    external.pdfsig_verify(path) if path.suffix == ".pdf"
                    else external.xmlsec1_verify(path, TENANT_CA)
                )
                assert ok, (attest, said)
        records = await harness.hub.store.audit_records(limit=100)
        assert {r.job_id for r in records} == {j["job_id"] for j in jobs}


async def test_every_refusal_from_a_job(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        futures = [
            await harness.client.publish(make_job(WELL_KNOWN[who], attest=attest, tenant=tenant))
            for attest, who, tenant, _ in REFUSED
        ]
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        for (attest, who, _, code), result in zip(REFUSED, results, strict=True):
            assert result.outcome is Outcome.REJECTED, (attest, who)
            assert result.error is not None
            assert result.error.code == code
            assert result.documents == ()


async def test_breaker_opens_sends_jobs_to_the_retry_path_and_closes(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = hub_settings(simulator, pki, tmp_path, breaker_failure_threshold=2,
                            breaker_reset_timeout_s=1.0, connect_retries=0)
    # Attempt 3 comes while the breaker is open (refused without a call); attempt 4 after the
    # reset timeout is the half-open trial.
    settings = dataclasses.replace(
        settings, broker=dataclasses.replace(settings.broker, retry_delays_s=(0.2, 0.3, 1.5, 2.0))
    )
    async with running_test_hub(settings) as harness:
        await control(simulator, "POST", "faults",
                      {"service": "GeefGezinssamenstelling", "kind": "http-500", "times": 2})
        result = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
        breaker = harness.hub.breakers["population"]
        assert result.outcome is Outcome.DELIVERED
        assert result.attempts == 4
        calls = await control(simulator, "GET", "calls")
        assert len(calls) == 3  # two failures, no call while open, the successful trial
        assert breaker.times_opened == 1
        assert breaker.state is BreakerState.CLOSED
