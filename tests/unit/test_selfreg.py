"""Self-registration links (loket.md "Self-registration for a user right")."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from adapters.selfreg.links import (
    SelfRegistrationRequest,
    add_selfreg_arguments,
    build_self_registration_url,
    selfreg_from_args,
)
from hub.errors import InvalidInput

TEST_BASE = "https://zelfregistratie-gebruikersbeheer-ti.vlaanderen.be/user/"
PRODUCTION_BASE = "https://zelfregistratie-gebruikersbeheer.vlaanderen.be/user/"


def _request(**overrides: Any) -> SelfRegistrationRequest:
    values: dict[str, Any] = {"environment": "test", "kind": "user-right", "target_group": "EA",
                              "application": "45"}
    values.update(overrides)
    return SelfRegistrationRequest(**values)


def _refusal(request: SelfRegistrationRequest) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        build_self_registration_url(request)
    return caught.value


def test_the_documented_example_exactly() -> None:
    request = SelfRegistrationRequest(
        environment="test", kind="user-right", target_group="EA", application="45",
        user_right=None, context=None, organisation_code="0428364866",
    )
    assert build_self_registration_url(request) == (
        "https://zelfregistratie-gebruikersbeheer-ti.vlaanderen.be/user/"
        "aanvraag?&an=45&dg=EA&oc=0428364866"
    )


@pytest.mark.parametrize(
    ("environment", "kind", "start"),
    [
        ("test", "user-right", TEST_BASE + "aanvraag?&"),
        ("test", "work-relation", TEST_BASE + "aanvraag_werkrelatie?&"),
        ("production", "user-right", PRODUCTION_BASE + "aanvraag?&"),
        ("production", "work-relation", PRODUCTION_BASE + "aanvraag_werkrelatie?&"),
    ],
)
def test_both_bases_and_both_kinds(environment: str, kind: str, start: str) -> None:
    url = build_self_registration_url(_request(environment=environment, kind=kind))
    assert url == start + "an=45&dg=EA"


def test_a_user_right_uses_ec_and_the_order_is_fixed() -> None:
    request = _request(application=None, user_right="LOKET-BEHEERDER", context="gent",
                       organisation_code="0428364866")
    assert build_self_registration_url(request) == (
        TEST_BASE + "aanvraag?&ec=LOKET-BEHEERDER&dg=EA&ctx=gent&oc=0428364866"
    )


def test_values_are_url_encoded_completely() -> None:
    url = build_self_registration_url(
        _request(application="a b&c=d", target_group="E/A?", context="Één #1 +%")
    )
    assert url == TEST_BASE + (
        "aanvraag?&an=a%20b%26c%3Dd&dg=E%2FA%3F&ctx=%C3%89%C3%A9n%20%231%20%2B%25"
    )


def test_values_are_trimmed_and_the_organisation_code_normalised() -> None:
    url = build_self_registration_url(
        _request(application=" 45 ", target_group=" EA", organisation_code="BE 0428.364.866")
    )
    assert url == TEST_BASE + "aanvraag?&an=45&dg=EA&oc=0428364866"


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"target_group": ""}, "SELFREG_TARGET_GROUP_REQUIRED", "target group"),
        ({"target_group": "   "}, "SELFREG_TARGET_GROUP_REQUIRED", "target group"),
        ({"application": None}, "SELFREG_APPLICATION_OR_RIGHT_REQUIRED", "is required"),
        ({"user_right": "X"}, "SELFREG_APPLICATION_AND_RIGHT", "not both"),
        ({"environment": "staging"}, "SELFREG_UNKNOWN_ENVIRONMENT", "staging"),
        ({"kind": "admin"}, "SELFREG_UNKNOWN_KIND", "admin"),
        ({"context": " "}, "SELFREG_EMPTY_VALUE", "context is given but blank"),
        ({"application": ""}, "SELFREG_EMPTY_VALUE", "application is given but blank"),
        ({"organisation_code": ""}, "SELFREG_EMPTY_VALUE", "organisation_code"),
        ({"organisation_code": "0428364867"}, "SELFREG_BAD_ORGANISATION_CODE", "(oc)"),
        ({"organisation_code": "Gent"}, "SELFREG_BAD_ORGANISATION_CODE", "KBO"),
    ],
)
def test_every_rule_refuses_with_its_code(
    overrides: dict[str, Any], code: str, words: str
) -> None:
    error = _refusal(_request(**overrides))
    assert error.code == code
    assert words in error.message
    assert not error.retryable


def test_from_parameters_of_a_job() -> None:
    request = SelfRegistrationRequest.from_parameters(
        {"environment": "production", "target_group": "EA", "user_right": "R1"}
    )
    assert request.kind == "user-right"
    assert build_self_registration_url(request) == PRODUCTION_BASE + "aanvraag?&ec=R1&dg=EA"
    with pytest.raises(InvalidInput) as unknown:
        SelfRegistrationRequest.from_parameters({"environment": "test", "dg": "EA"})
    assert unknown.value.code == "SELFREG_UNKNOWN_PARAMETER"
    with pytest.raises(InvalidInput) as not_text:
        SelfRegistrationRequest.from_parameters({"environment": "test", "application": 45})
    assert not_text.value.code == "SELFREG_NOT_TEXT"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loket-hub selfreg-url", exit_on_error=False)
    add_selfreg_arguments(parser)
    return parser


def test_argparse_helpers_build_the_documented_example() -> None:
    args = _parser().parse_args(["--environment", "test", "--target-group", "EA",
                                 "--application", "45", "--organisation-code", "0428364866"])
    request = selfreg_from_args(args)
    assert request == _request(organisation_code="0428364866")
    assert build_self_registration_url(request) == (
        TEST_BASE + "aanvraag?&an=45&dg=EA&oc=0428364866"
    )


def test_argparse_helpers_work_relation_and_every_option() -> None:
    args = _parser().parse_args([
        "--environment", "production", "--work-relation", "--target-group", "GID",
        "--user-right", "R 1", "--context", "ctx", "--organisation-code", "0428.364.866",
    ])
    assert build_self_registration_url(selfreg_from_args(args)) == (
        PRODUCTION_BASE + "aanvraag_werkrelatie?&ec=R%201&dg=GID&ctx=ctx&oc=0428364866"
    )


def test_argparse_leaves_the_combination_rules_to_the_builder() -> None:
    args = _parser().parse_args(["--environment", "test", "--application", "45",
                                 "--user-right", "R1"])
    assert _refusal(selfreg_from_args(args)).code == "SELFREG_TARGET_GROUP_REQUIRED"
    args = _parser().parse_args(["--environment", "test", "--target-group", "EA"])
    assert _refusal(selfreg_from_args(args)).code == "SELFREG_APPLICATION_OR_RIGHT_REQUIRED"


def test_argparse_refuses_an_unknown_or_missing_environment() -> None:
    with pytest.raises(argparse.ArgumentError):
        _parser().parse_args(["--environment", "staging"])
    with pytest.raises(SystemExit):
        # A missing required option exits even with exit_on_error=False (argparse's choice).
        _parser().parse_args(["--target-group", "EA"])


def test_the_cli_prints_the_link_or_the_broken_rule() -> None:
    import subprocess
    import sys

    ok = subprocess.run(
        [sys.executable, "-m", "hub.cli", "selfreg-url", "--environment", "production",
         "--work-relation", "--target-group", "EA", "--user-right", "R 1"],
        capture_output=True, text=True, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == ("https://zelfregistratie-gebruikersbeheer.vlaanderen.be/user/"
                                 "aanvraag_werkrelatie?&ec=R%201&dg=EA")
    refused = subprocess.run(
        [sys.executable, "-m", "hub.cli", "selfreg-url", "--environment", "test",
         "--target-group", "EA"], capture_output=True, text=True, check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("SELFREG_APPLICATION_OR_RIGHT_REQUIRED")
