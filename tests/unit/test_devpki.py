"""Development keys: made once, kept while valid, made again once expired."""

from __future__ import annotations

from pathlib import Path

from hub.devpki import generate_dev_pki, generate_self_signed


def test_valid_development_keys_are_kept(tmp_path: Path) -> None:
    first = generate_dev_pki(tmp_path)
    before = {name: pair.cert.read_bytes() for name, pair in first.items()}
    again = generate_dev_pki(tmp_path)
    assert {name: pair.cert.read_bytes() for name, pair in again.items()} == before


def test_an_expired_development_certificate_is_made_again(tmp_path: Path) -> None:
    # Valid until the moment it was made: expired by the time anyone asks for it again.
    expired = generate_self_signed(tmp_path, "dev", "loket-hub dev", days=0)
    old = expired.cert.read_bytes()
    renewed = generate_self_signed(tmp_path, "dev", "loket-hub dev")
    assert renewed.cert == expired.cert
    assert renewed.cert.read_bytes() != old
    assert generate_self_signed(tmp_path, "dev", "loket-hub dev").cert.read_bytes() == (
        renewed.cert.read_bytes()
    )
