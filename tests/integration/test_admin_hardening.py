"""The admin API refuses cross-site state changes, sends browser headers, checks its input and
shows any dead letter, however odd: never a 500."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook

from hub.admin.guard import SECURITY_HEADERS
from hub.ports import Consultation
from hub.store.base import DeadLetter
from hub.testing import HubHarness
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture

pytestmark = pytest.mark.broker
BEARER = {"Authorization": f"Bearer {TOKEN}"}
COOKIE = {"Cookie": f"loket_admin_token={TOKEN}"}
DEEP = b"[" * 10_000 + b"]" * 10_000


async def _call(method: str, url: str, headers: dict[str, str] | None = None,
                data: bytes | str | None = None) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http:
        reply = await http.request(method, url, headers=headers or {}, data=data)
        raw = await reply.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    return reply.status, body, reply


async def _letter(harness: HubHarness, body: bytes = b'{"type": "no.such.type"}',
                  headers: str = "{}", reason: str = "unreadable", **extra: Any) -> int:
    return await harness.hub.store.add_dead_letter(DeadLetter(
        id=None, received_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), reason=reason,
        error=extra.get("error"), message_id=extra.get("message_id", str(uuid.uuid4())),
        correlation_id=extra.get("correlation_id"), reply_to=extra.get("reply_to"),
        headers=headers, body=body))


async def _state(harness: HubHarness, letter_id: int) -> str:
    letter = await harness.hub.store.dead_letter(letter_id)
    assert letter is not None
    return letter.state


# -- cross-site requests -------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    # the attack of the issue: a cross-site form / fetch with the cookie and a text/plain body
    {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    {"Origin": "null", "Content-Type": "text/plain"},
    # the same without Origin (an old browser, a privacy extension): no CSRF token, refused
    {"Content-Type": "text/plain"},
    {},
    {"X-CSRF-Token": "not-the-token"},
    # same site (another port of this host) but not the admin's origin
    {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
])
async def test_a_state_change_with_the_cookie_alone_is_refused(
    admin: tuple[HubHarness, str], extra: dict[str, str],  # noqa: F811
) -> None:
    harness, base = admin
    letter_id = await _letter(harness)
    status, body, _ = await _call("POST", f"{base}/api/dead-letters/{letter_id}/discard",
                                  {**COOKIE, **extra}, data="{}")
    assert status == 403 and "error" in body
    assert await _state(harness, letter_id) == "new"


async def test_the_cookie_with_the_csrf_token_from_the_session_is_accepted(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    letter_id = await _letter(harness)
    status, session, _ = await _call("GET", f"{base}/api/session", COOKIE)
    assert status == 200 and session["operator"] == "anne"
    host = base.removeprefix("http://")
    status, body, _ = await _call(
        "POST", f"{base}/api/dead-letters/{letter_id}/discard",
        {**COOKIE, "X-CSRF-Token": session["csrf_token"], "Origin": f"http://{host}",
         "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, data="{}")
    assert (status, body) == (200, {"discarded": letter_id})
    letter = await harness.hub.store.dead_letter(letter_id)
    assert letter is not None and (letter.state, letter.handled_by) == ("discarded", "anne")


async def test_the_bearer_header_is_accepted_but_not_from_another_origin(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    first, second, third = [await _letter(harness) for _ in range(3)]
    status, _, _ = await _call("POST", f"{base}/api/dead-letters/{first}/discard",
                               {**BEARER, "Origin": "http://evil.example"})
    assert status == 403
    status, _, _ = await _call("POST", f"{base}/api/dead-letters/{first}/discard",
                               {**BEARER, "Sec-Fetch-Site": "cross-site"})
    assert status == 403
    # a body that is not declared JSON
    status, body, _ = await _call("POST", f"{base}/api/dead-letters/replay",
                                  {**BEARER, "Content-Type": "text/plain"}, data="{}")
    assert status == 415 and "application/json" in body["error"]
    assert [await _state(harness, i) for i in (first, second, third)] == ["new"] * 3
    status, body, _ = await _call("POST", f"{base}/api/dead-letters/{first}/discard", BEARER)
    assert (status, body) == (200, {"discarded": first})
    # the cookie does not rescue a wrong bearer header
    status, _, _ = await _call("GET", f"{base}/api/adapters",
                               {**COOKIE, "Authorization": "Bearer wrong-token-wrong-token"})
    assert status == 401


# -- browser headers ---------------------------------------------------------------------------


async def test_every_admin_response_carries_the_browser_headers(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    _, base = admin
    cases = [("GET", "/", {}), ("GET", "/admin.js", {}), ("GET", "/admin.css", {}),
             ("GET", "/health/live", {}), ("GET", "/api/adapters", BEARER),
             ("GET", "/api/adapters", {}), ("GET", "/no/such/path", BEARER),
             ("GET", "/api/audit?from=yesterday", BEARER),
             ("POST", "/api/dead-letters/1/discard", COOKIE), ("DELETE", "/api/audit", BEARER),
             ("GET", "/metrics", BEARER)]
    statuses = []
    for method, path, headers in cases:
        status, _, reply = await _call(method, f"{base}{path}", headers)
        statuses.append(status)
        for name, value in SECURITY_HEADERS.items():
            assert reply.headers.get(name) == value, (method, path, name)
    assert statuses == [200, 200, 200, 200, 200, 401, 404, 400, 403, 405, 200]
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


async def test_the_page_has_no_inline_script_or_style(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    _, base = admin
    _, html, reply = await _call("GET", f"{base}/")
    assert reply.content_type == "text/html"
    text = html.decode()
    assert text.count("<script") == 1 and '<script src="/admin.js"></script>' in text
    assert "<style" not in text and " style=" not in text and " onclick=" not in text


# -- checked input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "names"), [
    ("from=yesterday", "from"), ("to=2026-13-01", "to"), ("from=2026-01-01T25:00", "from"),
    ("from=0001-01-01T00:00:00%2B14:00", "from"), ("limit=0", "limit"), ("limit=-1", "limit"),
    ("limit=abc", "limit"), ("limit=" + "9" * 400, "limit"), ("format=pdf", "format"),
    ("tenant=gent%00", "tenant"), ("requester=" + "x" * 600, "requester"),
    ("limit=1001", "limit"), ("cursor=bm90LWEtY3Vyc29y", "cursor"), ("cursor=%25%25", "cursor"),
    ("cursor=WyJ5ZXN0ZXJkYXkiLCAieCJd", "cursor"),  # ["yesterday", "x"]: no time of ours
])
async def test_bad_audit_queries_are_400_naming_the_parameter(
    admin: tuple[HubHarness, str], query: str, names: str,  # noqa: F811
) -> None:
    _, base = admin
    status, body, _ = await _call("GET", f"{base}/api/audit?{query}", BEARER)
    assert status == 400
    assert body["error"].startswith(f"{names}:")


async def test_unknown_ids_are_404_and_bad_ids_400_with_a_message(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    _, base = admin
    for path in ("/api/dead-letters/999999", "/api/dead-letters/999999/replay",
                 "/api/dead-letters/999999/discard"):
        status, body, _ = await _call("POST" if path.count("/") == 4 else "GET",
                                      f"{base}{path}", BEARER)
        assert (status, body) == (404, {"error": "no dead letter 999999"})
    for raw in ("-1", "0", "abc", str(2**63), str(2**64), "1e3", "%D9%A3", "9" * 5000):
        status, body, _ = await _call("GET", f"{base}/api/dead-letters/{raw}", BEARER)
        assert status == 400 and body["error"].startswith("id:"), raw


@pytest.mark.parametrize(("data", "word"), [
    (b"not json", "not JSON"), (b"[1, 2]", "JSON object"), (b'{"reason": 5}', "reason"),
    (b"\xff\xfe", "UTF-8"), (b'{"reason": "x\\u0000"}', "control"), (DEEP, "deep"),
])
async def test_a_bad_replay_body_is_400(
    admin: tuple[HubHarness, str], data: bytes, word: str,  # noqa: F811
) -> None:
    _, base = admin
    status, body, _ = await _call("POST", f"{base}/api/dead-letters/replay",
                                  {**BEARER, "Content-Type": "application/json"}, data=data)
    assert status == 400 and word in body["error"]


async def test_the_audit_period_takes_dates_and_times(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    started = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
    await harness.hub.store.consultation_started(_consultation(started, "period"))
    async def count(query: str) -> int:
        status, page, _ = await _call("GET", f"{base}/api/audit?{query}", BEARER)
        assert status == 200
        return sum(1 for r in page["records"] if r["purpose"] == "period")
    assert await count("from=2026-03-01&to=2026-03-01") == 1  # a date-only 'to' takes its day
    assert await count("from=2026-03-01T15:31:00Z") == 0
    assert await count("to=2026-03-01T15:30:00%2B00:00") == 0  # a time 'to' is exclusive
    assert await count("from=2026-03-01T16:00:00%2B01:00&limit=5") == 1


def _consultation(started: dt.datetime, purpose: str, **extra: str) -> Consultation:
    return Consultation(
        reference=str(uuid.uuid4()), job_id=f"job-{uuid.uuid4()}", attempt=1, tenant="gent",
        service="GeefPersoon", service_version="02.02.0000", client_identification="gent",
        requester_capacity="citizen", requester_identifier=extra.get("requester", "r"),
        acting_person=None, subject_identifier="s", purpose=purpose, started_at=started)


async def test_exports_survive_control_characters_and_keep_formulas_as_text(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    started = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    # (NUL itself never reaches the audit: the store writes U+FFFD for it, store_safe_text.)
    purposes = ["soh\x01here", "bell\x07 esc\x1b", '=HYPERLINK("http://evil.example","x")',
                "@SUM(A1)", "+1", "-1"]
    for purpose in purposes:
        await harness.hub.store.consultation_started(
            _consultation(started, purpose, requester="=cmd|' /C calc'!A0"))
    status, content, reply = await _call("GET", f"{base}/api/audit?format=xlsx", BEARER)
    assert status == 200 and reply.content_type.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("purpose")] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {"soh\\x01here", "bell\\x07 esc\\x1b",
                                        '=HYPERLINK("http://evil.example","x")', "@SUM(A1)",
                                        "+1", "-1"}
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row
               if isinstance(c.value, str))
    status, text, _ = await _call("GET", f"{base}/api/audit?format=csv", BEARER)
    assert status == 200
    lines = text.decode().splitlines()
    assert len(lines) == len(purposes) + 1
    assert "\x01" not in text.decode() and "soh\\x01here" in text.decode()
    assert "'=HYPERLINK" in text.decode() and "'=cmd|" in text.decode()
    assert ",'@SUM(A1)," in text.decode() and ",'+1," in text.decode()
    status, page, _ = await _call("GET", f"{base}/api/audit", BEARER)
    assert status == 200 and "soh\x01here" in {r["purpose"] for r in page["records"]}


# -- dead letters however odd ------------------------------------------------------------------

ODD_BODIES = {
    "invalid-utf8": b'{"type": "population.attest", "x": "\xff\xfe"}',
    "deep": DEEP,
    "deep-with-type": b'{"type": "population.attest", "x": ' + DEEP + b"}",
    "huge": b'{"type": "no.such.type", "x": "' + b"a" * 3_000_000 + b'"}',
    "nul": b'{"type": "no.such.type",\x00 "x": "\\u0000"}',
    "surrogate": b'{"type": "no.such.\\ud800", "purpose": "\\udfff"}',
    "empty": b"",
    "not-an-object": b'"population.attest"',
    "long-type": b'{"type": "' + b"t" * 300 + b'"}',
}
ODD_HEADERS = {
    "nan": '{"x-retry": NaN, "big": 123456789012345678901234567890}',
    "deep": '{"x": ' + "[" * 5000 + "]" * 5000 + "}",
    "not-json": "garbage\x00",
    "a-list": "[1, 2]",
    "surrogate": '{"\\ud800": "\\udc00", "x-loket-error": "kept"}',
    "long-key": json.dumps({"k" * 300: 1, "nested": {"a": [{"b": None}]}}),
}


async def test_any_dead_letter_is_listed_shown_and_answered_on_replay(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    ids: dict[str, int] = {}
    for name, body in ODD_BODIES.items():
        ids[f"body-{name}"] = await _letter(harness, body=body, error="x\x00")
    for name, headers in ODD_HEADERS.items():
        ids[f"headers-{name}"] = await _letter(harness, headers=headers)
    ids["status-deep"] = await _letter(harness, body=DEEP, reason="status-undeliverable")
    ids["long-message-id"] = await _letter(harness, message_id="m" * 300)
    ids["long-reply-to"] = await _letter(harness, reply_to="q" * 300, correlation_id="\x00")

    status, listed, _ = await _call("GET", f"{base}/api/dead-letters", BEARER)
    assert status == 200
    assert {d["id"] for d in listed["letters"]} >= set(ids.values())
    for name, letter_id in ids.items():
        status, shown, _ = await _call("GET", f"{base}/api/dead-letters/{letter_id}", BEARER)
        assert status == 200, name
        letter = await harness.hub.store.dead_letter(letter_id)
        assert letter is not None and shown["body_size"] == len(letter.body), name
    status, shown, _ = await _call("GET", f"{base}/api/dead-letters/{ids['body-invalid-utf8']}",
                                   BEARER)
    assert shown["body_utf8"] is False and "body_base64" in shown
    status, shown, _ = await _call("GET", f"{base}/api/dead-letters/{ids['headers-not-json']}",
                                   BEARER)
    assert shown["headers"] is None and shown["headers_raw"] == "garbage\x00"
    status, shown, _ = await _call("GET", f"{base}/api/dead-letters/{ids['body-huge']}", BEARER)
    assert shown["body_truncated"] is True and len(shown["body"]) == 1024 * 1024

    answers = {}
    for name, letter_id in ids.items():
        status, body, _ = await _call("POST", f"{base}/api/dead-letters/{letter_id}/replay",
                                      BEARER)
        answers[name] = status
        assert status in {200, 409}, (name, status, body)
        if status == 409:
            assert body["error"] and body["id"] == letter_id
    # nothing here names a job type a queue takes: each is refused with its reason
    assert set(answers.values()) == {409}
    assert [await _state(harness, i) for i in ids.values()] == ["new"] * len(ids)
    status, result, _ = await _call("POST", f"{base}/api/dead-letters/replay",
                                    {**BEARER, "Content-Type": "application/json"}, data="{}")
    assert status == 200 and result["replayed"] == []
    assert {s["id"] for s in result["skipped"]} >= set(ids.values())


async def test_a_replay_of_a_letter_with_odd_headers_reaches_its_queue(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    """Headers AMQP cannot carry as stored (huge ints, NaN, surrogates, deep lists, long names)
    are made sendable (RabbitMQ itself drops the connection on a NaN double), and the job goes
    back to its queue."""
    harness, base = admin
    letter_id = await _letter(
        harness, body=json.dumps({"type": "population.attest"}).encode(),
        headers=ODD_HEADERS["nan"][:-1] + ', "s": "\\ud800", "l": ' + "[" * 40 + "]" * 40
        + ', "' + "k" * 300 + '": 1}')
    status, body, _ = await _call("POST", f"{base}/api/dead-letters/{letter_id}/replay", BEARER)
    assert (status, body) == (200, {"replayed": [letter_id]})
    assert await _state(harness, letter_id) == "replayed"


# -- fuzz: every route, odd input, never a 5xx --------------------------------------------------

ODD_VALUES = ["", "-1", "0", "9" * 30, "abc", "%00", "%ff%fe", "%ED%A0%80", "yesterday",
              "2026-02-30", "..%2F..%2Fetc", "x" * 2000, "%0d%0aSet-Cookie:%20a=b", "[]", "{}",
              "null", "1e309", "NaN", "%F0%9F%92%A9"]
QUERY_NAMES = ["from", "to", "tenant", "type", "requester", "outcome", "format", "limit",
               "state", "reason", "result", "dossier_id"]
GET_PATHS = ["/health/live", "/health/ready", "/metrics", "/api/adapters", "/api/queues",
             "/api/audit", "/api/dead-letters", "/api/status-pushes", "/api/session", "/",
             "/admin.js", "/admin.css"]
BODIES: list[bytes] = [b"", b"{}", b"not json", b"[]", b"null", b"\xff", DEEP,
                       b'{"reason": "\\ud800"}', b'{"reason": null}', b'{"reason": ["a"]}',
                       b"{" * 100, b'{"reason": "' + b"r" * 100_000 + b'"}', b"\x00"]


async def test_no_admin_input_gets_a_5xx(admin: tuple[HubHarness, str]) -> None:  # noqa: F811
    harness, base = admin
    letter_id = await _letter(harness, body=DEEP)
    seen: list[tuple[str, str, int]] = []
    async with aiohttp.ClientSession() as http:
        async def hit(method: str, path: str, data: bytes | None = None,
                      content_type: str = "application/json") -> None:
            headers = {**BEARER, "Content-Type": content_type} if data is not None else BEARER
            reply = await http.request(method, f"{base}{path}", headers=headers, data=data)
            raw = await reply.read()
            seen.append((method, path[:80], reply.status))
            assert reply.status < 500, (method, path[:200], reply.status, raw[:300])
            if reply.status >= 400:
                assert "error" in json.loads(raw), (method, path[:200])

        for path in GET_PATHS:
            for name in QUERY_NAMES:
                for value in ODD_VALUES:
                    await hit("GET", f"{path}?{name}={value}")
        for raw in [*ODD_VALUES, str(letter_id)]:
            await hit("GET", f"/api/dead-letters/{raw}")
            for action in ("replay", "discard"):
                await hit("POST", f"/api/dead-letters/{raw}/{action}")
        for data in BODIES:
            for content_type in ("application/json", "text/plain",
                                 "application/x-www-form-urlencoded"):
                await hit("POST", "/api/dead-letters/replay", data, content_type)
                await hit("POST", f"/api/dead-letters/{letter_id}/replay", data, content_type)
        for method in ("PUT", "DELETE", "PATCH"):
            for path in [*GET_PATHS, "/api/dead-letters/1"]:
                await hit(method, path, b"{}")
    assert len(seen) > 2500
    assert {status for *_, status in seen} >= {200, 400, 404, 405, 409, 415}
