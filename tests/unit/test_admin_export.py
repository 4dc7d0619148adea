"""The audit export survives any character and never hands a spreadsheet a formula."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from hub.admin.export import MAX_CELL, csv_bytes, safe_text, xlsx_bytes

ODD = ["nul\x00byte", "bell\x07 esc\x1b", "lone \ud800 surrogate", "del\x7f",
       "=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)",
       "\t=1+1", "\r=1+1", "tab\tand\nnewline ok", "x" * (MAX_CELL + 10)]


def _sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_control_characters_and_surrogates_are_written_as_visible_escapes() -> None:
    assert safe_text("a\x00b\x07c\ud800d\x7f") == "a\\x00b\\x07c\\ud800d\\x7f"
    assert safe_text("tab\tnew\nline\r") == "tab\tnew\nline\r"
    cut = safe_text("x" * (MAX_CELL + 10))
    assert len(cut) == MAX_CELL and cut.endswith("[cut]")


def test_xlsx_with_odd_text_opens_and_keeps_formulas_as_text() -> None:
    data = xlsx_bytes("consultations", ["purpose", "n"], [[text, 1] for text in ODD])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)  # no formula ('f') among them
    values = [cell.value for cell in cells]
    assert values[0] == "nul\\x00byte" and values[2] == "lone \\ud800 surrogate"
    assert values[4] == "=HYPERLINK(\"http://evil.example\",\"click\")"
    assert [row[1] for row in _sheet_rows(data)[1:]] == [1] * len(ODD)


def test_csv_quotes_cells_that_a_spreadsheet_would_evaluate() -> None:
    rows = list(csv.reader(io.StringIO(csv_bytes(["purpose"], [[t] for t in ODD]).decode())))
    purposes = [row[0] for row in rows[1:]]
    assert purposes[0] == "nul\\x00byte"
    for text in purposes:
        assert not text.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert purposes[4] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert purposes[5:10] == ["'+1+1", "'-2+3", "'@SUM(A1:A2)", "'\t=1+1", "'\r=1+1"]
    # numbers stay numbers (a negative duration is no formula)
    assert csv_bytes(["d"], [[-1.5]]).decode().splitlines()[1] == "-1.5"


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_exports_to_both_formats(texts: list[str]) -> None:
    rows = [[t] for t in texts]
    assert len(_sheet_rows(xlsx_bytes("s", ["t"], rows))) == len(texts) + 1
    parsed = list(csv.reader(io.StringIO(csv_bytes(["t"], rows).decode(), newline="")))
    assert len(parsed) == len(texts) + 1
