import hashlib
import json
import logging
import uuid

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from hub.logging import configure_logging, mask_insz_in


def test_mask_walks_containers_and_formats() -> None:
    masked = mask_insz_in(
        {"a": "subject 85073003328 and 85.07.30-033.28", "b": [85073003328], "c": ("00012556777",)}
    )
    assert masked == {
        "a": "subject 85*******28 and 85*******28",
        "b": ["85*******28"],
        "c": ("00*******77",),
    }


def test_longer_numbers_are_not_touched() -> None:
    assert mask_insz_in("order 1234567890123") == "order 1234567890123"


def test_no_insz_reaches_the_log_output(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "debug")
    log = structlog.get_logger("test")
    with structlog.contextvars.bound_contextvars(subject="85073003328"):
        log.info("lookup", insz="93051822361", nested={"who": ["17073003384"]})
        try:
            raise ValueError("bad person 00012556777")
        except ValueError:
            log.exception("failed")
    logging.getLogger("zeep.transports").warning("posting for 85073003328")
    err = capsys.readouterr().err
    for insz in ("85073003328", "93051822361", "17073003384", "00012556777"):
        assert insz not in err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines[0]["insz"] == "93*******61"
    assert lines[0]["subject"] == "85*******28"
    assert "00*******77" in lines[1]["exception"]
    assert "85*******28" in lines[2]["event"]


@given(st.uuids())
def test_a_uuid_is_never_altered(value: uuid.UUID) -> None:
    text = f"job_id={value} correlation={str(value).upper()}"
    assert mask_insz_in(text) == text


@given(st.binary(min_size=8, max_size=32))
def test_a_hex_digest_is_never_altered(data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    assert mask_insz_in(f"sha256={digest}") == f"sha256={digest}"


def test_an_insz_beside_a_uuid_is_still_masked() -> None:
    masked = mask_insz_in("7651dd44-1fb3-4f04-b43a-47000000031f subject 85073003328 ok")
    assert masked == "7651dd44-1fb3-4f04-b43a-47000000031f subject 85*******28 ok"
    # Digits only (no letter) are no hexadecimal identifier: an INSZ there is masked.
    assert mask_insz_in("x 85073003328 y") == "x 85*******28 y"
