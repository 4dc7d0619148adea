"""Fault injection and latency through the control API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from simulators.population_data import WELL_KNOWN

Post = Callable[..., Any]
Control = Callable[..., Any]
HEAD = WELL_KNOWN["household_head"]
SINGLE = WELL_KNOWN["single"]
SERVICE = "GeefGezinssamenstelling"


def _codes(element: etree._Element, path: str) -> list[str]:
    return [u.findtext("Identificatie") or "" for u in element.findall(f"{path}/Uitzondering")]


async def _fault(control: Control, **rule: Any) -> None:
    status, body = await control("POST", "faults", {"service": SERVICE, **rule})
    assert status == 201, body


async def test_http_500_is_consumed_times_times(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="http-500", times=2)
    request = build_request(HEAD)
    first, second, third = [await post(request) for _ in range(3)]
    assert (first.status, second.status, third.status) == (500, 500, 200)
    assert first.content_type.startswith("text/html")
    _, calls = await control("GET", "calls")
    assert [c["outcome"] for c in calls] == ["fault:http-500", "fault:http-500", "ok"]
    assert await control("GET", "faults") == (200, {"pending": []})


async def test_soap_fault(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="soap-fault", faultstring="99997 - Dienst niet beschikbaar")
    reply = await post(build_request(HEAD))
    assert reply.status == 500
    assert reply.faultstring == "99997 - Dienst niet beschikbaar"
    assert reply.payload.findtext("faultcode") == "soapenv:Server"


async def test_malformed_xml(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="malformed-xml")
    reply = await post(build_request(HEAD))
    assert reply.status == 200
    assert reply.body.startswith(b"<?xml")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(reply.body)


async def test_timeout_makes_the_client_give_up(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="timeout", delay_ms=5_000)
    with pytest.raises(TimeoutError):
        await post(build_request(HEAD), client_timeout=0.05)
    _, calls = await control("GET", "calls")
    assert [c["outcome"] for c in calls] == ["fault:timeout"]


async def test_timeout_answers_late(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="timeout", delay_ms=40)
    started = time.monotonic()
    reply = await post(build_request(HEAD))
    assert time.monotonic() - started >= 0.04
    assert reply.status == 200
    assert reply.payload.find("Repliek/Antwoorden/Antwoord/Inhoud/Gezinsleden") is not None


async def test_magda_error_on_the_antwoord(
    post: Post,
    build_request: Callable[..., bytes],
    control: Control,
    household_schema: etree.XMLSchema,
) -> None:
    await _fault(control, kind="magda-error", code="90000", type="FOUT", oorsprong="MAGDA")
    reply = await post(build_request(HEAD))
    assert reply.status == 200
    payload = reply.payload
    assert household_schema.validate(payload), household_schema.error_log
    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud") is None
    assert _codes(antwoord, "Uitzonderingen") == ["90000"]
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Oorsprong") == "MAGDA"
    _, calls = await control("GET", "calls")
    assert calls[-1]["outcome"] == "magda-error:90000"


async def test_magda_error_on_the_repliek(
    post: Post,
    build_request: Callable[..., bytes],
    control: Control,
    household_schema: etree.XMLSchema,
) -> None:
    await _fault(control, kind="magda-error", code="40006", level="repliek")
    payload = (await post(build_request(HEAD))).payload
    assert household_schema.validate(payload), household_schema.error_log
    assert payload.find("Repliek/Antwoorden") is None
    assert _codes(payload, "Repliek/Uitzonderingen") == ["40006"]


async def test_a_warning_comes_with_the_data(
    post: Post,
    build_request: Callable[..., bytes],
    control: Control,
    household_schema: etree.XMLSchema,
) -> None:
    await _fault(control, kind="magda-error", code="30004", type="WAARSCHUWING", oorsprong="RR")
    payload = (await post(build_request(HEAD))).payload
    assert household_schema.validate(payload), household_schema.error_log
    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud/Gezinsleden") is not None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Type") == "WAARSCHUWING"


async def test_faults_for_one_insz_leave_others_alone_and_run_in_order(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    status, _ = await control("POST", "faults", [
        {"service": SERVICE, "kind": "soap-fault", "insz": SINGLE},
        {"kind": "http-500", "insz": SINGLE},
    ])
    assert status == 201
    assert (await post(build_request(HEAD))).status == 200
    assert (await post(build_request(SINGLE))).faultstring == "Gesimuleerde SOAP-fout"
    assert (await post(build_request(SINGLE))).content_type.startswith("text/html")
    assert (await post(build_request(SINGLE))).status == 200


async def test_clearing_faults(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="http-500", times=5)
    assert await control("DELETE", "faults") == (200, {"cleared": 1})
    assert (await post(build_request(HEAD))).status == 200


async def test_signature_is_checked_before_faults(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    await _fault(control, kind="http-500")
    reply = await post(build_request(HEAD, signer=None))
    assert reply.faultstring == "ERR_025: Verification Failure"
    _, pending = await control("GET", "faults")
    assert len(pending["pending"]) == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "http-500", "service": "GeefNiets"},
        {"kind": "http-500", "times": 0},
        {"kind": "magda-error", "level": "bericht"},
        {"kind": "http-500", "colour": "red"},
        [{"kind": "http-500"}, "not a rule"],
    ],
)
async def test_bad_fault_rules_are_refused(control: Control, rule: Any) -> None:
    status, body = await control("POST", "faults", rule)
    assert status == 400 and body["error"]
    assert await control("GET", "faults") == (200, {"pending": []})


async def test_latency(post: Post, build_request: Callable[..., bytes], control: Control) -> None:
    assert await control("POST", "latency", {"latency_ms": 30}) == (200, {"latency_ms": 30})
    started = time.monotonic()
    assert (await post(build_request(HEAD))).status == 200
    assert time.monotonic() - started >= 0.03
    status, _ = await control("POST", "latency", {"latency_ms": -1})
    assert status == 400


async def test_concurrency_counts_requests_in_progress_and_their_peak(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    status, _ = await control("POST", "latency", {"latency_ms": 150})
    assert status < 300
    await asyncio.gather(*[post(build_request(HEAD)) for _ in range(5)])
    status, seen = await control("GET", "concurrency")
    assert (status, seen) == (200, {"in_progress": 0, "peak": 5})
    status, seen = await control("DELETE", "concurrency")
    assert seen == {"in_progress": 0, "peak": 0}
