"""Document file names hold only safe characters, whatever the ids they are made from."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.documents.names import MAX_LENGTH, safe_file_name, safe_given_name

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _assert_safe(name: str, ext: str) -> None:
    assert SAFE.fullmatch(name), name
    assert ".." not in name and "/" not in name and "\\" not in name
    assert len(name) <= MAX_LENGTH
    assert name.endswith("." + ext)


def test_an_ordinary_name_is_kept() -> None:
    assert safe_file_name("household-composition", "DOS-2026-000123", ext="xml") == \
        "household-composition-DOS-2026-000123.xml"
    assert safe_given_name("uittreksel-595-123.pdf", ext="pdf") == "uittreksel-595-123.pdf"


@pytest.mark.parametrize(("dossier", "expected"), [
    ("../../../../x", "proof-of-life-x.pdf"),
    ("../../x", "proof-of-life-x.pdf"),
    ("..", "proof-of-life.pdf"),
    ("a/b\\c", "proof-of-life-a_b_c.pdf"),
    ("D\x00OS-1", "proof-of-life-D_OS-1.pdf"),
    ("Dossier Ærø née 12", "proof-of-life-Dossier_r_nee_12.pdf"),
    ("\ud800", "proof-of-life.pdf"),
    ("DOS.2026.", "proof-of-life-DOS.2026.pdf"),
])
def test_unsafe_dossier_ids_cannot_leave_the_name(dossier: str, expected: str) -> None:
    name = safe_file_name("proof-of-life", dossier, ext="pdf")
    assert name == expected
    _assert_safe(name, "pdf")


def test_a_name_never_starts_with_a_dot_or_dash_and_is_never_empty() -> None:
    assert safe_file_name(".hidden", ext="xml") == "hidden.xml"
    assert safe_file_name("-rf", ext="xml") == "rf.xml"
    assert safe_file_name("", "../", "日本", ext="pdf") == "document.pdf"


def test_very_long_ids_are_bounded_and_stay_distinct() -> None:
    first = safe_file_name("household-composition", "D" * 5000 + "1", ext="pdf")
    second = safe_file_name("household-composition", "D" * 5000 + "2", ext="pdf")
    for name in (first, second):
        _assert_safe(name, "pdf")
        assert len(name) == MAX_LENGTH
    assert first != second


def test_a_given_name_keeps_no_path_and_gets_our_extension() -> None:
    assert safe_given_name("../../etc/passwd", ext="pdf") == "passwd.pdf"
    assert safe_given_name("C:\\temp\\extract.PDF", ext="pdf") == "extract.pdf"
    assert safe_given_name("extract.exe", ext="pdf") == "extract.exe.pdf"
    assert safe_given_name("..", ext="pdf") == "document.pdf"


def test_our_extension_must_be_plain() -> None:
    with pytest.raises(ValueError):
        safe_file_name("x", ext="../pdf")
    with pytest.raises(ValueError):
        safe_file_name("x", ext="")


@given(st.lists(st.text(), min_size=1, max_size=4), st.sampled_from(["pdf", "xml"]))
def test_any_text_gives_a_safe_name(parts: list[str], ext: str) -> None:
    name = safe_file_name(*parts, ext=ext)
    _assert_safe(name, ext)
    # Safe names are left as they are: the pipeline may check an adapter's name again.
    assert safe_given_name(name, ext=ext) == name
