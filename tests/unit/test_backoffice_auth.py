"""Signed decisions and actions: each way a message can be wrong has its own reason."""

from __future__ import annotations

import pytest

from hub.backoffice_auth import MessageRejected, TenantSecrets, sign_message, signature_key

SECRETS = TenantSecrets({"gent": b"gent-secret", "antwerpen": b"antwerpen-secret"},
                        max_age_s=900, max_skew_s=300)
BODY = b'{"job_id": "job-0001", "decision": "approve"}'
NOW = 1_800_000_000


def test_a_message_signed_by_the_tenant_verifies() -> None:
    headers = sign_message(BODY, b"gent-secret", NOW - 10)
    assert SECRETS.verify(BODY, headers, "decision.gent", "decision", now=NOW) == "gent"


@pytest.mark.parametrize(("headers", "routing_key", "body", "reason"), [
    ({}, "decision.gent", BODY, "unsigned"),
    (sign_message(BODY, b"antwerpen-secret", NOW), "decision.gent", BODY, "bad-signature"),
    (sign_message(BODY, b"gent-secret", NOW), "decision.gent", BODY + b" ", "bad-signature"),
    (sign_message(BODY, b"gent-secret", NOW - 901), "decision.gent", BODY, "stale-signature"),
    (sign_message(BODY, b"gent-secret", NOW + 301), "decision.gent", BODY, "stale-signature"),
    (sign_message(BODY, b"gent-secret", NOW), "decision.nowhere", BODY, "unknown-tenant"),
    (sign_message(BODY, b"gent-secret", NOW), "decision.gent.extra", BODY, "unknown-tenant"),
    (sign_message(BODY, b"gent-secret", NOW), "action.gent", BODY, "unknown-tenant"),
    ({"x-loket-timestamp": "soon", "x-loket-signature": "sha256=00"}, "decision.gent", BODY,
     "bad-timestamp"),
    ({"x-loket-timestamp": str(NOW), "x-loket-signature": "sha256=é"}, "decision.gent", BODY,
     "bad-signature"),
])
def test_each_wrong_message_is_refused_with_its_reason(
    headers: dict[str, str], routing_key: str, body: bytes, reason: str
) -> None:
    with pytest.raises(MessageRejected) as refused:
        SECRETS.verify(body, headers, routing_key, "decision", now=NOW)
    assert refused.value.reason == reason
    assert refused.value.code == "MESSAGE_" + reason.upper().replace("-", "_")


def test_bytes_header_values_are_read_as_text() -> None:
    signed = {k: v.encode() for k, v in sign_message(BODY, b"gent-secret", NOW).items()}
    assert SECRETS.verify(BODY, signed, "decision.gent", "decision", now=NOW) == "gent"


def test_the_signature_key_names_one_signed_message() -> None:
    one = sign_message(BODY, b"gent-secret", NOW)
    assert signature_key(one) == signature_key(dict(one))
    assert signature_key(one) != signature_key(sign_message(BODY, b"gent-secret", NOW + 1))


def test_a_tenant_without_a_secret_file_gets_nothing_through(tmp_path: object) -> None:
    from pathlib import Path

    secrets = TenantSecrets.from_files({"gent": Path("/nonexistent/gent.secret")})
    with pytest.raises(MessageRejected) as refused:
        secrets.verify(BODY, sign_message(BODY, b"x"), "decision.gent", "decision")
    assert refused.value.reason == "unknown-tenant"
