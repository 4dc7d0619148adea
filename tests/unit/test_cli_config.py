"""``loket-hub check-config`` lists every problem ``run`` would meet, one line each; a bad
configuration is refused in lines, never with a traceback."""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

import pytest
import structlog

from hub.cli import main
from hub.config import REPO_ROOT


def _cli(*argv: str) -> int:
    """``loket-hub ARGV`` in this process; the logging it sets up is put back after."""
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return main(list(argv))
    finally:
        structlog.configure(**structlog_config)
        root.handlers[:] = handlers
        root.setLevel(level)


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _problems(printed: str) -> list[str]:
    return [line.removeprefix("problem: ") for line in printed.splitlines()
            if line.startswith("problem: ")]


@pytest.fixture
def tenants(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    shutil.copytree(REPO_ROOT / "mappings/tenants", folder,
                    ignore=shutil.ignore_patterns("logos", "*.md"))
    return folder


def test_the_shipped_configuration_passes_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("check-config", "--offline") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "configuration ok"


def test_bad_values_are_all_listed_with_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('log_level = "verbose"\n[broker]\nurl = "not-a-url"\n[admin]\nport = 99999\n'
                      '[status]\nenabled = "ture"\n[store]\nurl = "mysql://x"\n')
    for command in ("check-config", "run"):
        assert _cli("--config", str(config), command) == 2
        printed = capsys.readouterr()
        assert "Traceback" not in printed.err
        lines = printed.err.splitlines()
        assert lines[-1] == "5 problem(s) in the configuration"
        assert {line.split(":")[1].strip() for line in lines[:-1]} == {
            "log_level", "broker.url", "admin.port", "status.enabled", "store.url"}


def test_what_run_needs_is_checked_and_all_listed(tmp_path: Path, tenants: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gent = tenants / "gent.toml"  # a top-level key: before the file's tables
    gent.write_text(f'backoffice_secret_file = "{tmp_path}/missing.secret"\n'
                    + gent.read_text(encoding="utf-8"), encoding="utf-8")
    routes = tmp_path / "routes.toml"
    routes.write_text('[products.other]\ntransport = "none"\ntenants = ["nowhere"]\n')
    config = tmp_path / "hub.toml"
    config.write_text(
        f'tenants_dir = "{tenants}"\n'
        f'[admin]\ntoken_file = "{tmp_path}/no-tokens"\n'
        f'[backoffice]\nroutes_file = "{routes}"\n'
        '[magda]\nsigning_cert = "var/dev-pki/document-signing.crt"\n')
    assert _cli("--config", str(config), "check-config", "--offline") == 1
    problems = _problems(capsys.readouterr().out)
    expected = [
        "does not belong to certificate",                 # MAGDA key with another certificate
        "admin.token_file: cannot read the admin token file",
        f"tenant gent: back-office secret not found: {tmp_path}/missing.secret",
        "back-office product 'contact-details' (mappings/products.toml) has no route",
        "back-office route 'other' names unknown tenant(s) nowhere",
    ]
    for text in expected:
        assert [p for p in problems if text in p], (text, problems)
    assert len(problems) == len(expected), problems


def test_the_broker_and_the_store_must_answer(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    port = _unused_port()
    config = tmp_path / "hub.toml"
    config.write_text(f'[broker]\nurl = "amqp://guest:guest@127.0.0.1:{port}/"\n'
                      f'[store]\nurl = "postgresql://postgres@127.0.0.1:{port}/x"\n')
    assert _cli("--config", str(config), "check-config") == 1
    problems = _problems(capsys.readouterr().out)
    assert [p for p in problems if p.startswith("broker.url: the broker does not answer")]
    assert [p for p in problems if p.startswith("store.url: the store does not answer")]
    assert _cli("--config", str(config), "check-config", "--offline") == 0


def test_the_example_is_printed_without_reading_a_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.config.example import example_toml

    broken = tmp_path / "hub.toml"
    broken.write_text("[broker]\nurl = 1\n")
    assert _cli("--config", str(broken), "config-example") == 0
    assert capsys.readouterr().out == example_toml()


def test_key_pairs_are_read_and_matched(tmp_path: Path) -> None:
    from hub.config.checks import key_pair_problems

    pki = REPO_ROOT / "var/dev-pki"
    key, cert = pki / "magda-client.key", pki / "magda-client.crt"
    assert key_pair_problems("TLS", key, cert) == []
    assert key_pair_problems("TLS", None, None) == []
    assert key_pair_problems("TLS", key, None) == [
        "TLS: a key and its certificate go together, only the key is set"]
    assert key_pair_problems("TLS", key, pki / "document-signing.crt") == [
        f"TLS: key {key} does not belong to certificate {pki / 'document-signing.crt'}"]
    assert key_pair_problems("TLS", tmp_path / "gone.key", cert) == [
        f"TLS key: {tmp_path / 'gone.key'} not found"]
    garbled = tmp_path / "garbled.crt"
    garbled.write_text("not a certificate")
    (problem,) = key_pair_problems("TLS", key, garbled)
    assert problem.startswith(f"TLS: cannot read {key} with {garbled} as PEM")


def test_a_missing_routes_file_is_one_problem_among_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(f'[backoffice]\nroutes_file = "{tmp_path}/gone.toml"\n'
                      f'[admin]\ntoken_file = "{tmp_path}/no-tokens"\n')
    assert _cli("--config", str(config), "check-config", "--offline") == 1
    problems = _problems(capsys.readouterr().out)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"cannot read back-office routes {tmp_path}/gone.toml")
    assert problems[1].startswith("admin.token_file: cannot read the admin token file")


def test_the_dosis_client_key_must_be_a_key_when_statuses_are_pushed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('[status]\nenabled = true\nclient_key = "var/dev-pki/dosis-client.crt"\n')
    assert _cli("--config", str(config), "check-config", "--offline") == 1
    (problem,) = _problems(capsys.readouterr().out)
    assert problem.startswith(f"status.client_key: {REPO_ROOT}/var/dev-pki/dosis-client.crt is "
                              "not a PEM private key")
