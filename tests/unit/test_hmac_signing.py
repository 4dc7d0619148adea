"""HMAC-SHA256 signatures of forwarded HTTP requests (hub.hmac_signing)."""

from __future__ import annotations

import pytest

from hub.hmac_signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
    sign,
    signature,
    verify,
)

BODY = b'{"request_id":"r-1"}'
SECRET = b"geheim"
AT = 1_700_000_000
# Computed independently: printf '%s' '1700000000.{"request_id":"r-1"}' |
#   openssl dgst -sha256 -hmac geheim
VECTOR = "9293cec81da09fddf40acace63d67cda82aaacf684a98b367b40a8d6a4d9843f"


def _reason(body: bytes, headers: dict[str, str], *, now: float = AT,
            secret: bytes = SECRET) -> str:
    with pytest.raises(SignatureRejected) as caught:
        verify(body, secret, headers, now=now)
    return caught.value.reason


def test_the_known_vector() -> None:
    assert signature(BODY, SECRET, AT) == VECTOR
    assert sign(BODY, SECRET, AT) == {
        TIMESTAMP_HEADER: "1700000000",
        SIGNATURE_HEADER: "sha256=" + VECTOR,
    }


def test_sign_then_verify_returns_the_timestamp() -> None:
    assert verify(BODY, SECRET, sign(BODY, SECRET, AT), now=AT + 12) == AT


def test_sign_without_a_timestamp_uses_now() -> None:
    headers = sign(BODY, SECRET)
    assert verify(BODY, SECRET, headers) == int(headers[TIMESTAMP_HEADER])


def test_header_names_are_case_insensitive_and_hex_case_is_ignored() -> None:
    headers = {k.lower(): v.upper().replace("SHA256=", "sha256=")
               for k, v in sign(BODY, SECRET, AT).items()}
    assert verify(BODY, SECRET, headers, now=AT) == AT


@pytest.mark.parametrize("skew", [300, -300])
def test_the_tolerance_is_inclusive(skew: int) -> None:
    assert verify(BODY, SECRET, sign(BODY, SECRET, AT), now=AT + skew) == AT


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    assert _reason(BODY, sign(BODY, SECRET, AT), now=AT + skew) == "stale-timestamp"


def test_a_tampered_body_or_another_secret_is_refused() -> None:
    headers = sign(BODY, SECRET, AT)
    assert _reason(BODY + b" ", headers) == "bad-signature"
    assert _reason(BODY, headers, secret=b"other") == "bad-signature"


def test_the_timestamp_is_signed_too() -> None:
    headers = sign(BODY, SECRET, AT)
    headers[TIMESTAMP_HEADER] = str(AT + 1)
    assert _reason(BODY, headers) == "bad-signature"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({SIGNATURE_HEADER: None}, "missing-signature"),
        ({TIMESTAMP_HEADER: None}, "missing-timestamp"),
        ({TIMESTAMP_HEADER: "soon"}, "bad-timestamp"),
        ({TIMESTAMP_HEADER: "-1700000000"}, "bad-timestamp"),
        ({TIMESTAMP_HEADER: "١٧٠٠٠٠٠٠٠٠"}, "bad-timestamp"),  # non-ASCII digits
        ({SIGNATURE_HEADER: VECTOR}, "bad-signature"),  # no sha256= prefix
        ({SIGNATURE_HEADER: "sha1=" + VECTOR}, "bad-signature"),
        ({SIGNATURE_HEADER: "sha256=é" + VECTOR[1:]}, "bad-signature"),  # non-ASCII
        ({SIGNATURE_HEADER: "sha256="}, "bad-signature"),
    ],
)
def test_malformed_headers_are_refused(change: dict[str, str | None], reason: str) -> None:
    headers = sign(BODY, SECRET, AT)
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    assert _reason(BODY, headers) == reason


def test_an_empty_secret_is_refused_both_ways() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(BODY, b"", AT)
    with pytest.raises(ValueError, match="empty"):
        verify(BODY, b"", sign(BODY, SECRET, AT), now=AT)
