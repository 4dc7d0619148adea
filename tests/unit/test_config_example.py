"""The example configuration and the README's settings table say what the models say."""

from __future__ import annotations

import dataclasses
import itertools
import tomllib

from hub.config import REPO_ROOT, Settings, load_settings
from hub.config.example import (
    EXAMPLE_FILE,
    example_toml,
    readme_default_mismatches,
    readme_settings,
    setting_paths,
)


def test_the_shipped_example_is_generated_from_the_models() -> None:
    assert EXAMPLE_FILE.read_text(encoding="utf-8") == example_toml(), (
        "examples/loket-hub.toml is out of date: run `loket-hub config-example --write`")


def test_the_example_loads_and_means_the_defaults() -> None:
    assert load_settings(EXAMPLE_FILE, environ={}) == Settings()


def test_the_example_names_every_setting_with_a_comment() -> None:
    data = tomllib.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))

    def leaves(prefix: str, table: dict[str, object]) -> set[str]:
        found: set[str] = set()
        for key, value in table.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                found |= leaves(f"{prefix}<name>." if prefix == "backends." else f"{name}.",
                                value)
            else:
                found.add(name)
        return found

    assert leaves("", data) == setting_paths()
    lines = EXAMPLE_FILE.read_text(encoding="utf-8").splitlines()
    uncommented = [line for before, line in itertools.pairwise(lines)
                   if "=" in line and not line.startswith("#") and not before.startswith("#")]
    assert uncommented == []


def test_a_changed_default_changes_the_example() -> None:
    changed = dataclasses.replace(Settings(), log_level="debug")
    assert 'log_level = "debug"' in example_toml(changed)
    assert 'log_level = "info"' in example_toml()


def test_the_readme_table_names_every_setting_and_no_other() -> None:
    named = readme_settings((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(setting_paths() - named) == [], "settings missing from the README's table"
    assert sorted(named - setting_paths()) == [], "the README's table names unknown settings"


def test_the_readme_reader_expands_short_names() -> None:
    readme = ("| setting | default | meaning |\n|---|---|---|\n"
              "| `status.max_attempts` / `backoff_initial_s` | 8 / 1 | x |\n"
              "| `documents.signing.key` / `.cert` | y | z |\n"
              "| tenant file `language` | nl | w |\n\n")
    assert readme_settings(readme) == {"status.max_attempts", "status.backoff_initial_s",
                                       "documents.signing.key", "documents.signing.cert"}


def test_the_readme_table_states_the_defaults_the_models_have() -> None:
    wrong, compared = readme_default_mismatches(
        (REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert wrong == []
    assert compared >= 75  # the cells that describe ("dev values") are the few left out


def test_a_wrong_default_in_the_readme_is_found() -> None:
    readme = ("| setting | default | meaning |\n|---|---|---|\n"
              "| `broker.prefetch` / `broker.concurrency` | 32 / 16 | x |\n"
              "| `admin.enabled` / `admin.host` | true / 0.0.0.0 | x |\n"
              "| `magda.signing_key` / `magda.signing_cert` | `var/dev-pki/magda-client.*` | x |\n"
              "| `magda.client_identification` | dev values | x |\n"
              "| `worker_id` / `log_level` | empty | x |\n\n")
    wrong, compared = readme_default_mismatches(readme)
    assert wrong == [
        "broker.concurrency: the README says 16, the default is 32",
        "admin.host: the README says 0.0.0.0, the default is \"127.0.0.1\"",
        "log_level: the README says empty, the default is \"info\"",
    ]
    assert compared == 8
