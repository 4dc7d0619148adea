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


def test_listed_rights_are_read_with_their_bases_and_products() -> None:
    (notary,) = load_tenants(REPO_ROOT / "mappings/tenants")["gent"].rights
    assert notary.holder == "0566988259"
    assert set(notary.bases) == {"legal-representative", "product-right"}
    assert notary.products == (1473, 1490)


@pytest.mark.parametrize(
    ("right", "problem"),
    [
        ('kbo = "0566988259"\njob_types = ["population.attest"]', "names no bases"),
        ('kbo = "0566988259"\njob_types = ["population.attest"]\nbases = ["friendship"]',
         "unknown bases"),
        ('kbo = "0566988259"\njob_types = ["population.attest"]\nbases = ["product-right"]',
         "needs its products"),
        ('kbo = "0566988259"\njob_types = ["population.attest"]\nbases = ["product-right"]'
         "\nproducts = [1500]", "belong to none of its job types"),
        ('kbo = "0566988259"\njob_types = ["population.attest"]'
         '\nbases = ["legal-representative"]\nproducts = [1473]', "only read under"),
        ('kbo = "0566988250"\njob_types = ["population.attest"]'
         '\nbases = ["legal-representative"]', "check"),
        ('kbo = "0566988259"\nassociation = "V0001001"\njob_types = ["population.attest"]'
         '\nbases = ["legal-representative"]', "exactly one of kbo and association"),
        ('association = "V0001001"\njob_types = []\nbases = ["legal-representative"]',
         "names no job_types"),
        ('association = "V0001001"\njob_types = ["population.atest"]'
         '\nbases = ["legal-representative"]', "not in the product catalogue"),
    ],
)
def test_a_right_that_says_too_little_is_refused(tmp_path: Path, right: str,
                                                 problem: str) -> None:
    (tmp_path / "x.toml").write_text(
        'name = "X"\nnis_code = "1"\nconnector_urn = "urn://x"\n[[rights]]\n' + right + "\n")
    with pytest.raises(ConfigurationError, match=problem):
        load_tenants(tmp_path)


def test_concurrencies_below_one_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"status\.concurrency: must be at least 1"):
        load_settings(environ={"LOKET_STATUS__CONCURRENCY": "0"})
