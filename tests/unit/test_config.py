from pathlib import Path

import pytest

from hub.config import REPO_ROOT, load_settings, load_tenants
from hub.errors import ConfigurationError


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(environ={})
    assert settings.broker.url.startswith("amqp://")
    assert settings.store.url.startswith("sqlite:///")
    assert settings.backend("population").connect_timeout_s == 15.0


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text(
        '[broker]\nprefetch = 5\nretry_delays_s = [1, 2]\n'
        '[backends.population]\ntotal_timeout_s = 3\n'
        '[magda]\nsigning_key = "keys/magda.key"\n'
    )
    settings = load_settings(
        file, environ={"LOKET_BROKER__PREFETCH": "9", "LOKET_STORE__URL": "sqlite:///x.db"}
    )
    assert settings.broker.prefetch == 9
    assert settings.broker.retry_delays_s == (1.0, 2.0)
    assert settings.backend("population").total_timeout_s == 3.0
    assert settings.magda.signing_key == REPO_ROOT / "keys/magda.key"
    assert settings.store.url == "sqlite:///x.db"


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text("[broker]\nprefetsh = 5\n")
    with pytest.raises(ConfigurationError, match="prefetsh"):
        load_settings(file, environ={})


def test_unreadable_value_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"broker\.prefetch"):
        load_settings(environ={"LOKET_BROKER__PREFETCH": "many"})


def test_tenants_are_read_from_mappings() -> None:
    tenants = load_tenants(REPO_ROOT / "mappings/tenants")
    assert tenants["gent"].connector_urn == "urn://gent.be/cs-connector/loket-hub"
    assert tenants["gent"].nis_code == "44021"


def test_tenant_with_bad_urn_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('name = "X"\nnis_code = "1"\nconnector_urn = "http://x"\n')
    with pytest.raises(ConfigurationError, match="urn://"):
        load_tenants(tmp_path)


def test_concurrencies_below_one_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"status\.concurrency must be at least 1"):
        load_settings(environ={"LOKET_STATUS__CONCURRENCY": "0"})
