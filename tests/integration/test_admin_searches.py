"""The admin's searches on a running worker: the audit by any filter and page, the register of
the requests it handled with its xlsx report, saved searches, and exports that stream while the
worker goes on answering."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import uuid

import aiohttp
import pytest
import structlog
from openpyxl import load_workbook

from hub.contract import Outcome
from hub.ports import Consultation
from hub.store.base import AUDIT_COLUMNS, STARTED_COLUMNS, consultation_row
from hub.store.sqlite import SqliteStore
from hub.testing import HubHarness, make_job
from simulators.population_data import WELL_KNOWN
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture
from tests.integration.test_admin_hardening import BEARER, _call

pytestmark = pytest.mark.broker
JSON = {**BEARER, "Content-Type": "application/json"}
INSZ = "85073003328"


def _consultation(tenant: str, started: dt.datetime, **fields: object) -> Consultation:
    consultation = Consultation(
        reference=str(uuid.uuid4()), job_id=f"job-{uuid.uuid4()}", attempt=1, tenant=tenant,
        service="GeefPersoon", service_version="02.02.0000", client_identification=tenant,
        requester_capacity="citizen", requester_identifier="staff-1", acting_person=None,
        subject_identifier=INSZ, purpose="contact details change", started_at=started,
        job_type="backoffice.contact-details")
    return dataclasses.replace(consultation, **fields)  # type: ignore[arg-type]


async def test_the_audit_is_searched_by_subject_type_acting_person_and_day(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    day = dt.datetime(2026, 12, 3, 23, 59, tzinfo=dt.UTC)
    records = [_consultation(tenant, day - dt.timedelta(hours=i)) for i in range(7)]
    records.append(_consultation(tenant, day, requester_identifier="citizen",
                                 acting_person="staff-2", subject_identifier="90010100123",
                                 job_type="population.attest"))
    for record in records:
        await harness.hub.store.consultation_started(record)
    status, page, _ = await _call(
        "GET", f"{base}/api/audit?tenant={tenant}&subject=85.07.30-033.28&to=2026-12-03"
        "&type=backoffice.contact-details&limit=3", BEARER)
    assert status == 200 and page["total"] == 7 and len(page["records"]) == 3
    seen = [r["reference"] for r in page["records"]]
    while page["next"]:
        status, page, _ = await _call(
            "GET", f"{base}/api/audit?tenant={tenant}&subject={INSZ}&to=2026-12-03"
            f"&type=backoffice.contact-details&limit=3&cursor={page['next']}", BEARER)
        assert status == 200
        seen += [r["reference"] for r in page["records"]]
    assert sorted(seen) == sorted(r.reference for r in records[:7])
    # 'to' a date includes that whole day (23:59 too); 'from' the next day finds nothing
    status, page, _ = await _call("GET", f"{base}/api/audit?tenant={tenant}&from=2026-12-04",
                                  BEARER)
    assert (status, page["total"]) == (200, 0)
    status, page, _ = await _call("GET", f"{base}/api/audit?tenant={tenant}&requester=staff-2",
                                  BEARER)
    assert [r["acting_person"] for r in page["records"]] == ["staff-2"]


async def test_the_register_lists_handled_requests_and_reports_them_as_xlsx(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    jobs = [make_job(WELL_KNOWN["single"]), make_job(WELL_KNOWN["household_head"])]
    for job in jobs:
        await harness.client.request(job, timeout=30)
    status, page, _ = await _call("GET", f"{base}/api/requests?type=population.attest"
                                  "&tenant=gent&state=done", BEARER)
    assert status == 200 and page["total"] >= 2
    shown = {r["job_id"]: r for r in page["requests"]}
    for job in jobs:
        row = shown[job["job_id"]]
        assert row["dossier_id"] == job["dossier_id"] and row["product_id"] == job["product_id"]
        assert row["outcome"] == "delivered" and row["applicant"].count("*") == 7
        assert job["subject"]["identifier"] not in str(row)
    status, page, _ = await _call(
        "GET", f"{base}/api/requests?dossier={jobs[0]['dossier_id']}", BEARER)
    assert [r["job_id"] for r in page["requests"]] == [jobs[0]["job_id"]]
    status, content, reply = await _call(
        "GET", f"{base}/api/requests?type=population.attest&format=xlsx", BEARER)
    assert status == 200 and reply.content_type.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert {r[header.index("job_id")] for r in rows[1:]} >= {j["job_id"] for j in jobs}
    assert all(isinstance(r[header.index("received_at")], dt.datetime) for r in rows[1:])


@pytest.mark.parametrize(("path", "name"), [
    ("/api/requests?from=yesterday", "from"), ("/api/requests?to=2026-02-30", "to"),
    ("/api/requests?product=abc", "product"), ("/api/requests?product=-1", "product"),
    ("/api/requests?state=lost", "state"), ("/api/requests?outcome=fine", "outcome"),
    ("/api/requests?cursor=zzz", "cursor"), ("/api/requests?limit=0", "limit"),
    ("/api/requests?format=pdf", "format"), ("/api/audit?subject=x%00", "subject"),
    ("/api/saved-filters", "kind"), ("/api/saved-filters?kind=x", "kind"),
])
async def test_bad_search_parameters_are_400_naming_them(
    admin: tuple[HubHarness, str], path: str, name: str,  # noqa: F811
) -> None:
    _, base = admin
    status, answer, _ = await _call("GET", f"{base}{path}", BEARER)
    assert status == 400 and answer["error"].startswith(f"{name}:"), answer
    status, answer, _ = await _call("DELETE", f"{base}/api/saved-filters/abc", BEARER)
    assert status == 400 and answer["error"].startswith("id:")


@pytest.mark.parametrize(("body", "word"), [
    (b"not json", "not JSON"), (b'{"kind": "nope", "name": "x"}', "kind"),
    (b'{"kind": "requests", "name": ""}', "name"),
    (b'{"kind": "requests", "name": "x", "shared": "yes"}', "shared"),
    (b'{"kind": "requests", "name": "x", "filters": {"colour": "red"}}', "colour"),
    (b'{"kind": "requests", "name": "x", "filters": {"from": "yesterday"}}', "from"),
    (b'{"kind": "audit", "name": "x", "filters": {"to": 5}}', "text"),
])
async def test_a_bad_saved_search_is_400(
    admin: tuple[HubHarness, str], body: bytes, word: str,  # noqa: F811
) -> None:
    _, base = admin
    status, answer, _ = await _call("POST", f"{base}/api/saved-filters", JSON, data=body)
    assert status == 400 and word in answer["error"]


async def test_searches_are_saved_listed_and_deleted(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    _, base = admin
    saved = (b'{"kind": "requests", "name": "contact changes", "shared": true,'
             b' "filters": {"type": "backoffice.contact-details", "to": "2026-12-03"}}')
    status, answer, _ = await _call("POST", f"{base}/api/saved-filters", JSON, data=saved)
    assert status == 201
    filter_id = answer["id"]
    status, listed, _ = await _call("GET", f"{base}/api/saved-filters?kind=requests", BEARER)
    assert status == 200
    (mine,) = [f for f in listed if f["id"] == filter_id]
    assert mine["owner"] == "anne" and mine["shared"] is True
    assert mine["filters"] == {"type": "backoffice.contact-details", "to": "2026-12-03"}
    status, _, _ = await _call("GET", f"{base}/api/saved-filters?kind=other", BEARER)
    assert status == 400
    status, _, _ = await _call("DELETE", f"{base}/api/saved-filters/{filter_id}", BEARER)
    assert status == 200
    status, answer, _ = await _call("DELETE", f"{base}/api/saved-filters/{filter_id}", BEARER)
    assert status == 404 and "no saved search" in answer["error"]


async def _many_records(store: SqliteStore, count: int) -> str:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(count):
        row = list(consultation_row(_consultation(tenant, start + dt.timedelta(seconds=i))))
        row[AUDIT_COLUMNS.index("started_at")] = (start + dt.timedelta(seconds=i)).isoformat()
        rows.append(row)
    columns = ", ".join(AUDIT_COLUMNS[:STARTED_COLUMNS])
    marks = ", ".join("?" * STARTED_COLUMNS)
    await store._run(lambda c: c.executemany(  # one bulk insert, for speed
        f"INSERT INTO audit_consultations ({columns}) VALUES ({marks})", rows))
    return tenant


async def test_an_export_streams_while_health_and_jobs_are_answered(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    store = harness.hub.store
    assert isinstance(store, SqliteStore)
    rows = 30_000
    tenant = await _many_records(store, rows)
    with structlog.testing.capture_logs() as logs:
        async with aiohttp.ClientSession() as http:
            reply = await http.get(f"{base}/api/audit?tenant={tenant}&format=xlsx",
                                   headers=BEARER)
            assert reply.status == 200  # the headers came: the export is under way
            body = asyncio.create_task(reply.read())
            live = await http.get(f"{base}/health/live")
            assert live.status == 200
            answer = await harness.client.request(
                make_job(WELL_KNOWN["single"]), timeout=60)
            finished_meanwhile = [e for e in logs if e["event"] == "admin.export.finished"]
            content = await body
    assert answer.outcome is Outcome.DELIVERED
    assert not finished_meanwhile  # the health check and the job were answered first
    (finished,) = [e for e in logs if e["event"] == "admin.export.finished"]
    assert finished["rows"] == rows
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    started = [row[AUDIT_COLUMNS.index("started_at")]
               for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)]
    assert started == [dt.datetime(2026, 1, 1, 8, 19, 59), dt.datetime(2026, 1, 1, 8, 19, 58)]
