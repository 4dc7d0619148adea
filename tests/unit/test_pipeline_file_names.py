"""The pipeline names every document from safe characters only, and every run of a job
attempt is its own run (its own MAGDA references)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hub.config import REPO_ROOT, TenantSettings, load_tenants
from hub.contract import Job, Outcome, Requester, Subject
from hub.pipeline import Pipeline
from hub.ports import (
    AdapterAnswer,
    BackendDocument,
    CallContext,
    CertificateModel,
    Consultation,
    SystemClock,
)
from hub.registry import AdapterRegistry

PERSON = "85073003328"
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


class _Adapter:
    name = "fake"
    job_types = frozenset({"population.attest"})

    def __init__(self, backend_name: str) -> None:
        self.backend_name = backend_name
        self.references: list[str] = []

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def check_config(self) -> list[str]:
        return []

    async def handle(self, context: CallContext) -> AdapterAnswer:
        self.references.append(context.reference("GeefPersoon"))
        return AdapterAnswer(
            certificate=CertificateModel("proof-of-life", "t", "nl", PERSON, {}),
            backend_document=BackendDocument("act", self.backend_name, b"%PDF-1.7"),
        )


class _Documents:
    async def render_and_sign(self, *args: Any) -> tuple[bytes, bytes]:
        return b"<xml/>", b"%PDF"

    async def seal(self, pdf: bytes, identity_ref: str, **kwargs: Any) -> bytes:
        return pdf


class _Audit:
    async def consultation_started(self, consultation: Consultation) -> None: ...

    async def consultation_finished(self, reference: str, **kwargs: Any) -> None: ...


def _pipeline(adapter: _Adapter) -> Pipeline:
    registry = AdapterRegistry()
    registry.register(adapter)
    tenants: dict[str, TenantSettings] = load_tenants(REPO_ROOT / "mappings/tenants")
    return Pipeline(
        registry=registry, tenants=tenants, documents=_Documents(),  # type: ignore[arg-type]
        signing_refs={slug: "default" for slug in tenants}, clock=SystemClock(),
        audit=_Audit(),
    )


def _job(dossier_id: str) -> Job:
    return Job("job-names-1", "population.attest", "gent", Requester("person", PERSON, True),
               Subject("person", PERSON), 1473, dossier_id, {"attest": "proof-of-life"},
               created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat())


async def test_a_dossier_id_cannot_put_a_path_in_a_file_name() -> None:
    adapter = _Adapter("../../../../etc/cron.d/x.pdf")
    processed = await _pipeline(adapter).process(_job("../../../../x\x00\u00e9"), 1)
    assert processed.result.outcome is Outcome.DELIVERED
    names = [d.file_name for d in processed.result.documents]
    assert names == ["proof-of-life-x_e.xml", "proof-of-life-x_e.pdf", "x.pdf"]
    assert all(SAFE.fullmatch(name) and ".." not in name for name in names)


async def test_a_very_long_dossier_id_gives_a_bounded_name() -> None:
    processed = await _pipeline(_Adapter("act.pdf")).process(_job("D" * 10_000), 1)
    assert all(SAFE.fullmatch(d.file_name) for d in processed.result.documents)


async def test_every_run_of_an_attempt_has_its_own_references() -> None:
    adapter = _Adapter("act.pdf")
    pipeline = _pipeline(adapter)
    for _ in range(2):  # the same attempt run again (its first worker died)
        await pipeline.process(_job("DOS-1"), 1)
    assert len(set(adapter.references)) == 2
