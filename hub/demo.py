"""``loket-hub demo``: the simulated back ends and a worker in one process, a few jobs through
RabbitMQ, each outcome printed as it arrives, the documents written to a folder.

Exits 0 only when every job ended as the demo expects it to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from hub.app import pki_served_by, running_hub
from hub.config import Settings, load_tenants
from hub.contract import Result
from hub.devpki import generate_dev_pki
from hub.documents import external
from hub.identifiers import mask_insz
from hub.logging import configure_logging
from hub.policy import kind_of
from hub.status.mapping import product_for
from loket_hub.client import LoketClient
from simulators.dosis import DosisSimulatorSettings, start_dosis_simulator
from simulators.magda import MagdaSimulatorSettings, start_magda_simulator
from simulators.pki import PkiSimulatorSettings, start_pki_simulator
from simulators.population_data import WELL_KNOWN

__all__ = ["run_demo"]


def _job(
    insz: str, *, tenant: str = "gent", job_id: str | None = None,
    attest: str = "household-composition", job_type: str = "population.attest",
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    asked = parameters or {"attest": attest, "language": "nl"}
    return {
        "contract_version": 1,
        "job_id": job_id or f"demo-{uuid.uuid4()}",
        "type": job_type,
        "tenant": tenant,
        "requester": {"capacity": "person", "identifier": insz, "authenticated": True},
        "subject": {"kind": "person", "identifier": insz},
        "product_id": product_for(job_type, kind_of(asked)) or 1,
        "dossier_id": f"DOS-{uuid.uuid4().hex[:8].upper()}",
        "purpose": "requested at the e-counter",
        "parameters": asked,
    }


@dataclasses.dataclass
class _Case:
    title: str
    job: dict[str, Any]
    expected: str
    expected_code: str | None = None


def _cases() -> list[_Case]:
    head = WELL_KNOWN["household_head"]
    repeated = _job(WELL_KNOWN["single"])
    return [
        _Case("household of a family (head asks)", _job(head), "delivered"),
        _Case("household of a single person", repeated, "delivered"),
        _Case("same job id published again (idempotent)", repeated, "delivered"),
        _Case("back end fails once, then answers (retry)", _job(WELL_KNOWN["partner"]),
              "delivered"),
        _Case("main residence with its history in Gent (repertorium registration first)",
              _job(WELL_KNOWN["mover"], attest="main-residence-history-municipality"),
              "delivered"),
        _Case("extract of one's own birth act (DABS, sealed PDF)",
              _job(WELL_KNOWN["single"], job_type="civil-status.act",
                   parameters={"act": "birth"}), "delivered"),
        _Case("criminal-record extract 595 (asynchronous: in treatment, then delivered)",
              _job(WELL_KNOWN["single"], job_type="criminal-record.extract",
                   parameters={"model": "595"}), "delivered"),
        _Case("proof of life for a deceased person", _job(WELL_KNOWN["deceased"],
              attest="proof-of-life"), "rejected", "SUBJECT_DECEASED"),
        _Case("person unknown to the register", _job(WELL_KNOWN["unknown"]), "rejected",
              "SUBJECT_UNKNOWN"),
        _Case("INSZ with wrong check digits", _job(WELL_KNOWN["invalid_check"]), "rejected",
              "INVALID_INSZ"),
    ]


def _independent_check(path: Path, ca: Path) -> str:
    if not external.available():
        return "xmlsec1/pdfsig not installed: signature not checked independently"
    if path.suffix == ".pdf":
        ok, _ = external.pdfsig_verify(path)
        return "signature valid per pdfsig" if ok else "SIGNATURE DID NOT VERIFY (pdfsig)"
    ok, _ = external.xmlsec1_verify(path, ca)
    return ("signature and signer's chain verified by xmlsec1" if ok
            else "SIGNATURE DID NOT VERIFY (xmlsec1)")


async def run_demo(settings: Settings, out_dir: Path) -> int:
    pki = generate_dev_pki(settings.magda.signing_cert.parent)
    simulator = await start_magda_simulator(
        MagdaSimulatorSettings(port=0, trusted_certs=(pki["magda-client"].cert,))
    )
    dosis = await start_dosis_simulator(DosisSimulatorSettings(
        port=0, clients={settings.status.client_id: pki["dosis-client"].cert}
    ))
    # The tenants' TSA, OCSP responder and CRLs (their files name port 8703; here a free one).
    authority = await start_pki_simulator(PkiSimulatorSettings(
        ca_dir=pki["ca-root"].cert.parent, port=0))
    tenants = pki_served_by(load_tenants(settings.tenants_dir), authority.base_url)
    settings = dataclasses.replace(
        settings,
        magda=dataclasses.replace(settings.magda, base_url=simulator.base_url),
        broker=dataclasses.replace(settings.broker, retry_delays_s=(1.0, 2.0),
                                   poll_delays_s=(1.0,)),
        status=dataclasses.replace(settings.status, enabled=True, dosis_url=dosis.base_url,
                                   token_url=dosis.token_url,
                                   client_key=pki["dosis-client"].key),
        log_level="warning",
    )
    # The demo prints its own progress; only warnings and errors of the hub interleave with it.
    configure_logging(settings.log_format, settings.log_level)
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = _cases()
    print(f"loket-hub demo — MAGDA simulator at {simulator.base_url}, broker {settings.broker.url}")
    failures = 0
    try:
        async with running_hub(settings, tenants=tenants) as hub, \
                aiohttp.ClientSession() as http:
            worker = asyncio.create_task(hub.worker.run())
            await asyncio.wait_for(hub.worker.ready.wait(), timeout=30)
            # One technical failure of the register for the "retry" case.
            await http.post(
                f"{simulator.base_url}/_control/faults",
                json={"service": "GeefGezinssamenstelling", "kind": "http-500", "times": 1,
                      "insz": WELL_KNOWN["partner"]},
            )
            async with LoketClient.connect(settings.broker.url) as client:
                failures = await _run_cases(client, cases, out_dir, pki["ca-root"].cert)
                await _show_citizen_profile(
                    http, dosis.base_url, {case.job["dossier_id"] for case in cases}
                )
            hub.worker.request_stop()
            await worker
    finally:
        await simulator.close()
        await dosis.close()
        await authority.close()
    if failures:
        print(f"{failures} job(s) did not end as expected", file=sys.stderr)
    return 1 if failures else 0


async def _run_cases(
    client: LoketClient, cases: list[_Case], out_dir: Path, ca: Path
) -> int:
    """Each case's job in turn, its outcome printed; how many did not end as expected."""
    failures = 0
    started = time.perf_counter()
    for index, case in enumerate(cases, start=1):
        subject = mask_insz(case.job["subject"]["identifier"])
        print(f"[{index}/{len(cases)}] {case.title} (subject {subject}) … ", end="", flush=True)
        result = await client.request(case.job, timeout=60)
        ok = result.outcome.value == case.expected and (
            case.expected_code is None
            or (result.error is not None and result.error.code == case.expected_code)
        )
        failures += 0 if ok else 1
        print(_describe(result, out_dir, ca) + ("" if ok else f"  ✗ expected {case.expected}"))
    print(f"{len(cases)} jobs in {time.perf_counter() - started:.1f} s; documents in {out_dir}")
    return failures


async def _show_citizen_profile(
    http: aiohttp.ClientSession, dosis_url: str, dossiers: set[str]
) -> None:
    """What the citizen profile received for the demo's dossiers: every status, in order."""
    uploads: list[dict[str, Any]] = []
    for _ in range(300):
        async with http.get(f"{dosis_url}/_control/dossiers") as reply:
            # A shared development broker may still hold older statuses; show the demo's own.
            uploads = [u for u in await reply.json() if u["dossier"] in dossiers]
        settled = {u["dossier"] for u in uploads if u["vlaams_fase"] == "Afgerond"}
        if uploads and len(settled) >= len({u["dossier"] for u in uploads}):
            break
        await asyncio.sleep(0.1)
    print(f"citizen profile (DOSIS simulator): {len(uploads)} statuses pushed")
    for upload in uploads:
        detail = upload["payload"]["Status"]["Detail1"] or ""
        print(f"  {upload['dossier']}: {upload['vlaams_fase']}/{upload['vlaams_code']}  {detail}")


def _describe(result: Result, out_dir: Path, ca: Path) -> str:
    text = f"{result.outcome.value} after {result.attempts} attempt(s)"
    if result.error:
        text += f" — {result.error.code}: {result.error.message}"
    for document in result.documents:
        path = out_dir / f"{result.job_id}-{document.file_name}"
        path.write_bytes(document.content)
        text += f"\n      → {path.name} ({len(document.content)} bytes, "
        text += f"{_independent_check(path, ca)})"
    return text
