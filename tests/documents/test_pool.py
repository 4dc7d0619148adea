"""The document worker pool: keys loaded once per worker, work off the event loop.

Why processes and not threads, with the measured costs: see :mod:`hub.documents.pool`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.devpki import KeyPair
from hub.documents.keys import SigningKeySpec
from hub.documents.pdf_signature import verify_pades
from hub.documents.pool import DocumentWorkers
from hub.documents.xades import verify_xades
from hub.errors import ConfigurationError, SignatureError
from tests.documents.factories import GENT, ISSUED, model


@pytest.fixture(scope="module")
def workers(gent_spec: SigningKeySpec) -> Iterator[DocumentWorkers]:
    pool = DocumentWorkers(2, {"gent": gent_spec}, now=ISSUED)
    yield pool
    pool.close()


async def test_a_burst_is_rendered_and_signed_without_stalling_the_loop(
    workers: DocumentWorkers, gent_pair: KeyPair
) -> None:
    await workers.start()
    late: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late.append(time.perf_counter() - started - 0.005)

    beat = asyncio.create_task(heartbeat())
    results = await asyncio.gather(*(
        workers.render_and_sign(model("household-composition", members=10), GENT, f"job-{i}",
                                "magda-1", ISSUED, "gent")
        for i in range(8)
    ))
    done.set()
    await beat
    # Generous for a busy CI machine; threads measured 56 ms, processes 4 ms.
    assert max(late) < 0.2
    xml, pdf = results[0]
    certificate = workers.identities["gent"].certificate
    assert verify_xades(xml, certificate).signing_time == ISSUED
    # pyHanko runs its own event loop: like signing, checking belongs off this one.
    assert (await asyncio.to_thread(verify_pades, pdf, [certificate])).ok


async def test_sealing_goes_through_the_pool(workers: DocumentWorkers) -> None:
    _, pdf = await workers.render_and_sign(model("proof-of-life"), GENT, "job-x", None, ISSUED,
                                           "gent")
    unsigned_act = pdf.split(b"%%EOF")[0] + b"%%EOF\n"  # the rendered PDF alone
    sealed = await workers.seal(unsigned_act, "gent", signing_time=ISSUED, reason="DABS-akte")
    assert sealed.startswith(unsigned_act)


async def test_an_unknown_identity_is_a_signature_error(workers: DocumentWorkers) -> None:
    with pytest.raises(SignatureError, match="no signing identity 'leuven'"):
        await workers.render_and_sign(model("proof-of-life"), GENT, "j", None, ISSUED, "leuven")


def test_a_tenant_without_a_key_refuses_start_up(tmp_path: Path, gent_spec: SigningKeySpec) -> None:
    missing = SigningKeySpec(key=tmp_path / "leuven.key", cert=tmp_path / "leuven.crt")
    with pytest.raises(ConfigurationError, match=r"document signing for 'leuven': cannot read"):
        DocumentWorkers(1, {"gent": gent_spec, "leuven": missing}, mode="thread")
    # A tenant with no key configured at all is refused by the wiring, before any pool
    # (hub.app.signing_identities, tests/integration/test_document_wiring.py).
    pool = DocumentWorkers(1, {"gent": gent_spec}, mode="thread")
    try:
        assert pool.expiring(30, ISSUED) == {}
    finally:
        pool.close()
