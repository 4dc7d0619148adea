"""The audit export as CSV or xlsx, whatever characters the records hold.

A cell's text is made safe for both formats:

- control characters (NUL and the other C0 codes but tab, newline and carriage return; DEL) and
  lone surrogates are written as visible escapes (``\\x00``, ``\\ud800``): openpyxl refuses
  them, a text encoder cannot encode a surrogate, and an operator should see that they were there;
- text longer than a spreadsheet cell holds (32,767 characters) is cut, with a marker;
- formula injection: in CSV a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading ``'`` (OWASP's advice), so a spreadsheet shows it as text instead of
  evaluating it; in xlsx every text is written as a string cell (never a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

__all__ = ["MAX_CELL", "csv_bytes", "safe_text", "xlsx_bytes"]

MAX_CELL = 32_767
_CUT = "…[cut]"
_ODD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    text = _ODD.sub(_escape, text)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - len(_CUT)] + _CUT
    return text


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe_text(str(value))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        cells = []
        for raw in row:
            value = _value(raw)
            if isinstance(value, str) and value.startswith(_FORMULA_START):
                value = "'" + value
            cells.append(value)
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(header))
    for number, row in enumerate(rows, start=2):
        for column, raw in enumerate(row, start=1):
            value = _value(raw)
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = TYPE_STRING  # "=…" stays text, never a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
