from pathlib import Path

import pytest

from hub.config import REPO_ROOT, SettingsProblems, load_settings, load_tenants
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


def _problems(path: Path | None = None, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SettingsProblems) as caught:
        load_settings(path, environ=environ or {})
    return caught.value.problems


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text(
        'log_level = "verbose"\n'
        '[broker]\nurl = "not-a-url"\n'
        '[admin]\nport = 99999\n'
        '[status]\nenabled = "ture"\n'
        '[store]\nurl = "mysql://x"\n'
        '[documents]\noutput_dir = "out"\n'
    )
    problems = _problems(file, {"LOKET_BROKER__PREFETCH": "many"})
    assert sorted(problems) == sorted([
        "broker.url: must be a URL starting with amqp:// or amqps:// (got 'not-a-url')",
        "broker.prefetch: must be a whole number (got 'many')",
        "admin.port: must be at most 65535 (got 99999)",
        "status.enabled: must be true or false (got 'ture')",
        "store.url: must start with sqlite:/// or postgresql:// (got 'mysql://x')",
        "documents.output_dir: unknown setting",
        "log_level: must be 'debug', 'info', 'warning', 'error' or 'critical' (got 'verbose')",
    ])


@pytest.mark.parametrize("name", ["CRIMINAL_RECORD", "CRIMINAL-RECORD", "criminal_record"])
def test_back_ends_are_named_with_a_dash_or_an_underscore(name: str) -> None:
    settings = load_settings(environ={
        f"LOKET_BACKENDS__{name}__TOTAL_TIMEOUT_S": "7",
        "LOKET_BACKENDS__CIVIL_STATUS__REPLY_SIGNATURE": "log-only",
    })
    assert settings.backend("criminal-record").total_timeout_s == 7.0
    assert settings.backend("civil-status").reply_signature == "log-only"
    assert set(settings.backends) == {"population", "criminal-record", "civil-status"}


def test_file_and_environment_spellings_of_one_back_end_are_merged(tmp_path: Path) -> None:
    file = tmp_path / "hub.toml"
    file.write_text('[backends.criminal-record]\nconcurrency = 3\n')
    settings = load_settings(file, environ={"LOKET_BACKENDS__CRIMINAL_RECORD__CONCURRENCY": "4",
                                            "LOKET_BACKENDS__CRIMINAL_RECORD__READ_TIMEOUT_S": "9"})
    assert settings.backend("criminal-record").concurrency == 4
    assert settings.backend("criminal-record").read_timeout_s == 9.0


def test_an_unknown_back_end_or_variable_is_refused_by_name() -> None:
    problems = _problems(environ={"LOKET_BACKENDS__CRIMINAL_RECORDS__CONCURRENCY": "3",
                                  "LOKET_BROKR__URL": "amqp://x/", "LOKET_TEST_AMQP_URL": "x",
                                  "LOKET_UPDATE_GOLDEN": "1", "LOKET_CONFIG": ""})
    assert problems == [
        "LOKET_BROKR__URL: no such setting ('brokr' is not a section or setting)",
        "backends.criminal_records: unknown back end "
        "(known: population, civil-status, criminal-record, backoffice, dosis)",
    ]


def test_lists_and_booleans_from_the_environment() -> None:
    settings = load_settings(environ={"LOKET_BROKER__RETRY_DELAYS_S": "2,10,60",
                                      "LOKET_BROKER__POLL_DELAYS_S": "[5, 50]",
                                      "LOKET_STATUS__ENABLED": "yes", "LOKET_LOG_LEVEL": "DEBUG",
                                      "LOKET_ADMIN__ENABLED": "off"})
    assert settings.broker.retry_delays_s == (2.0, 10.0, 60.0)
    assert settings.broker.poll_delays_s == (5.0, 50.0)
    assert settings.status.enabled is True
    assert settings.admin.enabled is False
    assert settings.log_level == "debug"


def test_urls_are_typed() -> None:
    problems = _problems(environ={"LOKET_MAGDA__BASE_URL": "ftp://magda",
                                  "LOKET_STORE__URL": "sqlite://x.db",
                                  "LOKET_BROKER__URL": "amqp://host:99999/",
                                  "LOKET_STATUS__LOCAL_TIMEZONE": "Europe/Brussel"})
    assert sorted(problems) == [
        "broker.url: not a valid URL: Port out of range 0-65535 (got 'amqp://host:99999/')",
        "magda.base_url: must be a URL starting with http:// or https:// (got 'ftp://magda')",
        "status.local_timezone: not a known time zone (e.g. Europe/Brussels) "
        "(got 'Europe/Brussel')",
        "store.url: a SQLite store is sqlite:///<path> (three slashes) (got 'sqlite://x.db')",
    ]
    assert load_settings(environ={"LOKET_STORE__URL": "postgresql://u@db:5432/hub"}).store.url \
        == "postgresql://u@db:5432/hub"


def test_every_tenant_file_problem_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('name = "A"\nnis_code = "1"\nconnector_urn = "http://a"\n'
                                     'notifications = "ture"\nwebsit = "x"\n')
    (tmp_path / "b.toml").write_text('nis_code = "2"\nconnector_urn = "urn://b"\n')
    (tmp_path / "c.toml").write_text('name = "C"\nnis_code = "3"\nconnector_urn = "urn://c"\n')
    with pytest.raises(SettingsProblems) as caught:
        load_tenants(tmp_path)
    assert sorted(caught.value.problems) == sorted([
        f"tenant file {tmp_path / 'a.toml'}: connector_urn: must start with urn:// "
        "(got 'http://a')",
        f"tenant file {tmp_path / 'a.toml'}: notifications: must be true or false (got 'ture')",
        f"tenant file {tmp_path / 'a.toml'}: websit: unknown setting",
        f"tenant file {tmp_path / 'b.toml'}: name: required, not set",
    ])
