"""The simulated back office over HTTP: HMAC checks, recording, the script, faults, control."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from hub.hmac_signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from simulators.backoffice import BackofficeSimulatorSettings, create_backoffice_app
from simulators.backoffice.server import take_from_queue
from simulators.backoffice.state import STATE, BackofficeState
from tests.simulators.backoffice.conftest import (
    SECRET,
    Client,
    Post,
    Sink,
    Start,
    eventually,
    forwarded,
)


def _state(client: Client) -> BackofficeState:
    assert client.app is not None
    return client.app[STATE]


async def _json(client: Client, path: str) -> Any:
    response = await client.get(path)
    assert response.status == 200
    return await response.json()


async def test_a_signed_request_is_taken_and_recorded(client: Client, post: Post) -> None:
    at = int(time.time())
    response = await post(forwarded(), timestamp=at)
    assert response.status == 202
    answer = await response.json()
    assert answer["request_id"] == "req-1"
    assert answer["duplicate"] is False
    (recorded,) = await _json(client, "/_control/requests")
    assert recorded["request_id"] == "req-1"
    assert recorded["job_id"] == "job-req-1"
    assert recorded["tenant"] == "gent"
    assert recorded["channel"] == "http"
    assert recorded["signed_at"] == at
    assert recorded["deliveries"] == 1
    assert recorded["body"] == forwarded()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"headers": {SIGNATURE_HEADER: ""}}, "missing-signature"),
        ({"headers": {TIMESTAMP_HEADER: ""}}, "missing-timestamp"),
        ({"secret": b"not the shared secret"}, "bad-signature"),
        ({"headers": {SIGNATURE_HEADER: "sha256=" + "0" * 64}}, "bad-signature"),
        ({"timestamp": int(time.time()) - 301}, "stale-timestamp"),
        ({"timestamp": int(time.time()) + 3600}, "stale-timestamp"),
        ({"headers": {TIMESTAMP_HEADER: "yesterday"}}, "bad-timestamp"),
    ],
)
async def test_bad_signatures_are_refused_with_401(
    client: Client, post: Post, kwargs: dict[str, Any], reason: str
) -> None:
    response = await post(forwarded(), **kwargs)
    assert response.status == 401
    assert (await response.json())["error"] == reason
    assert "WWW-Authenticate" in response.headers
    assert await _json(client, "/_control/requests") == []
    (refusal,) = await _json(client, "/_control/refusals")
    assert refusal["channel"] == "http"
    assert refusal["reason"] == reason


async def test_a_body_changed_after_signing_is_refused(client: Client) -> None:
    headers = {"Content-Type": "application/json", **sign(b"{}", SECRET)}
    response = await client.post("/requests", data=b'{"a": 1}', headers=headers)
    assert response.status == 401
    assert (await response.json())["error"] == "bad-signature"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "bad-json"),
        ([1, 2], "bad-request"),
        ({"request_id": "r", "job_id": "j"}, "bad-request"),
        ({"request_id": " ", "job_id": "j", "tenant": "gent"}, "bad-request"),
        ({"request_id": "r", "job_id": "j", "tenant": "gent.#"}, "bad-request"),
    ],
)
async def test_a_signed_but_unreadable_request_is_400(
    client: Client, post: Post, body: Any, reason: str
) -> None:
    response = await post(body)
    assert response.status == 400
    assert (await response.json())["error"] == reason
    assert await _json(client, "/_control/requests") == []
    assert [r["reason"] for r in await _json(client, "/_control/refusals")] == [reason]


async def test_the_default_script_answers_received_then_completed(
    post: Post, sink: Sink
) -> None:
    assert (await post(forwarded())).status == 202
    received, completed = await sink.wait_for(2)
    assert [key for key, _ in sink.published] == ["action.gent", "action.gent"]
    assert received["action"] == "received"
    assert completed["action"] == "completed"
    for body in (received, completed):
        assert body["job_id"] == "job-req-1"
        assert body["request_id"] == "req-1"
        assert body["employee"] == "Sam Simulant"
        assert body["at"].endswith("+00:00")
        assert "information_from" not in body


async def test_a_retry_of_the_same_request_opens_no_second_case(
    client: Client, post: Post, sink: Sink
) -> None:
    assert (await post(forwarded())).status == 202
    again = await post(forwarded())
    assert again.status == 202
    assert (await again.json())["duplicate"] is True
    (recorded,) = await _json(client, "/_control/requests")
    assert recorded["deliveries"] == 2
    await sink.wait_for(2)
    await asyncio.sleep(0.05)
    assert len(sink.published) == 2


async def test_a_script_set_through_control(client: Client, post: Post, sink: Sink) -> None:
    script = {"actions": [
        "received",
        {"action": "information-requested", "information_from": "third-party",
         "message": "Bezorg het attest van uw werkgever."},
        {"action": "handled-outside", "message": "Afgehandeld aan het loket.", "delay_ms": 0},
    ]}
    response = await client.post("/_control/script", json=script)
    assert response.status == 200
    assert (await post(forwarded())).status == 202
    received, asked, handled = await sink.wait_for(3)
    assert received["action"] == "received"
    assert asked == {**asked, "action": "information-requested",
                     "information_from": "third-party",
                     "message": "Bezorg het attest van uw werkgever."}
    assert handled["action"] == "handled-outside"
    assert handled["message"] == "Afgehandeld aan het loket."


async def test_information_requested_defaults_to_the_applicant(
    start: Start, sink: Sink
) -> None:
    client = await start(actions=("received", "information-requested", "cancelled"))
    state = _state(client)
    take_from_queue(state, json.dumps(forwarded("q-1")).encode())
    _, asked, cancelled = await sink.wait_for(3)
    assert asked["information_from"] == "applicant"
    assert asked["message"]
    assert cancelled["action"] == "cancelled"


@pytest.mark.parametrize(
    "actions",
    [
        ["received", "completed", "information-requested"],
        ["cancelled", "received"],
        ["approved"],
        [{"action": "received", "information_from": "applicant"}],
        [{"action": "information-requested", "information_from": "neighbour"}],
        [{"action": "completed", "message": " "}],
        [{"action": "completed", "delay_ms": -1}],
        [{"action": "completed", "mood": "happy"}],
        [3],
    ],
)
async def test_an_invalid_script_is_refused(client: Client, actions: list[Any]) -> None:
    response = await client.post("/_control/script", json={"actions": actions})
    assert response.status == 400
    assert (await _json(client, "/_control/script"))["actions"][0]["action"] == "received"


async def test_an_action_sent_by_hand(client: Client, post: Post, sink: Sink) -> None:
    await client.post("/_control/script", json={"actions": []})
    assert (await post(forwarded())).status == 202
    response = await client.post("/_control/requests/req-1/actions",
                                 json={"action": "completed", "message": "Uw gegevens zijn "
                                                                         "aangepast."})
    assert response.status == 202
    (done,) = await sink.wait_for(1)
    assert done["action"] == "completed"
    assert done["message"] == "Uw gegevens zijn aangepast."
    missing = await client.post("/_control/requests/nope/actions", json={"action": "received"})
    assert missing.status == 404
    bad = await client.post("/_control/requests/req-1/actions", json={"action": "x"})
    assert bad.status == 400


async def test_http_503_faults_come_first_and_record_nothing(
    client: Client, post: Post
) -> None:
    response = await client.post("/_control/faults", json={"kind": "http-503", "times": 2})
    assert response.status == 201
    assert (await post(forwarded())).status == 503
    assert (await post(forwarded())).status == 503
    assert await _json(client, "/_control/requests") == []
    assert (await _json(client, "/_control/faults"))["pending"] == []
    assert (await post(forwarded())).status == 202


async def test_a_timeout_takes_the_request_but_answers_late(
    client: Client, post: Post, sink: Sink
) -> None:
    await client.post("/_control/faults", json={"kind": "timeout", "times": 1, "delay_ms": 5000})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await post(forwarded())
    (recorded,) = await _json(client, "/_control/requests")
    assert recorded["request_id"] == "req-1"
    retry = await post(forwarded())
    assert (await retry.json())["duplicate"] is True
    assert len(await sink.wait_for(2)) == 2


@pytest.mark.parametrize(
    "rule",
    [{"kind": "http-500"}, {"kind": "timeout", "times": 0}, {"kind": "timeout", "after": 1},
     {"kind": "timeout", "delay_ms": -5}, "http-503"],
)
async def test_a_bad_fault_rule_is_refused(client: Client, rule: Any) -> None:
    assert (await client.post("/_control/faults", json=rule)).status == 400
    assert (await _json(client, "/_control/faults"))["pending"] == []


async def test_answers_are_listed_and_failures_retried(start: Start, sink: Sink) -> None:
    client = await start(publish_attempts=3, actions=("received",))
    sink.fail = 1
    state = _state(client)
    assert take_from_queue(state, json.dumps(forwarded()).encode())
    await sink.wait_for(1)
    (answer,) = await _json(client, "/_control/answers")
    assert answer["routing_key"] == "action.gent"
    assert answer["delivery"] == "published"
    assert answer["error"] is None


async def test_an_answer_that_cannot_be_published_says_so(start: Start, sink: Sink) -> None:
    client = await start(publish_attempts=1, actions=("received",))
    sink.fail = 5
    state = _state(client)
    take_from_queue(state, json.dumps(forwarded()).encode())

    async def failed() -> bool:
        answers = await _json(client, "/_control/answers")
        return bool(answers) and answers[0]["delivery"] == "failed"

    await eventually(failed)
    (answer,) = await _json(client, "/_control/answers")
    assert "broker away" in answer["error"]


async def test_without_a_broker_answers_are_only_recorded(start: Start, post: Post) -> None:
    client = await start(with_sink=False)
    health = await _json(client, "/_control/health")
    assert health == {"status": "ok", "broker": False}
    state = _state(client)
    take_from_queue(state, json.dumps(forwarded()).encode())

    async def both() -> bool:
        return len(await _json(client, "/_control/answers")) == 2

    await eventually(both)
    answers = await _json(client, "/_control/answers")
    assert [a["delivery"] for a in answers] == ["recorded-only", "recorded-only"]


async def test_requests_from_the_queue_are_recorded_or_refused(client: Client) -> None:
    state = _state(client)
    assert take_from_queue(state, json.dumps(forwarded("q-7")).encode())
    assert not take_from_queue(state, b"{")
    (recorded,) = await _json(client, "/_control/requests")
    assert recorded["channel"] == "amqp"
    assert recorded["signed_at"] is None
    (refusal,) = await _json(client, "/_control/refusals")
    assert refusal == {**refusal, "channel": "amqp", "reason": "bad-json"}


async def test_delete_state_forgets_everything(client: Client, post: Post) -> None:
    await client.post("/_control/script", json={"actions": [{"action": "received",
                                                             "delay_ms": 60_000}]})
    await post(forwarded())
    await post(forwarded(), secret=b"wrong")
    await client.post("/_control/faults", json={"kind": "http-503"})
    response = await client.delete("/_control/state")
    cleared = (await response.json())["cleared"]
    assert cleared == {"requests": 1, "refusals": 1, "scripts_stopped": 1, "answers": 0,
                       "faults": 1}
    assert await _json(client, "/_control/requests") == []
    assert await _json(client, "/_control/refusals") == []
    assert [s["action"] for s in (await _json(client, "/_control/script"))["actions"]] == [
        "received", "completed"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"secret": b""}, "secret"),
        ({"queue": "backoffice.contact-details"}, "amqp_url"),
        ({"action_delay_ms": -1}, "action_delay_ms"),
        ({"publish_attempts": 0}, "publish_attempts"),
        ({"actions": ("completed", "received")}, "cannot follow"),
    ],
)
def test_bad_settings_fail_at_start(overrides: dict[str, Any], words: str) -> None:
    settings = BackofficeSimulatorSettings(**{"secret": SECRET, **overrides})
    with pytest.raises(ValueError, match=words):
        create_backoffice_app(settings)
