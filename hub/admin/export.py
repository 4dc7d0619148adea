"""Exports as CSV or xlsx, whatever characters the records hold, streamed off the event loop.

A cell's text is made safe for both formats:

- control characters (NUL and the other C0 codes but tab, newline and carriage return; DEL) and
  lone surrogates are written as visible escapes (``\\x00``, ``\\ud800``): openpyxl refuses
  them, a text encoder cannot encode a surrogate, and an operator should see that they were there;
- text longer than a spreadsheet cell holds (32,767 characters) is cut, with a marker;
- formula injection: in CSV a text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading ``'`` (OWASP's advice), so a spreadsheet shows it as text instead of
  evaluating it; in xlsx every text is written as a string cell (never a formula).

Times are ISO 8601 text in CSV and real date cells (UTC) in xlsx.

:func:`stream` sends an export to the HTTP client while it is made: the rows come a batch at a
time from the store, and each batch is written on a thread of the export's own, so the event
loop goes on answering health checks and jobs. openpyxl's write-only workbook keeps its rows in
a temporary file, not in memory; the file is sent in chunks once it is complete.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, Protocol

import structlog
from aiohttp import web
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING, WriteOnlyCell

__all__ = ["MAX_CELL", "csv_bytes", "safe_text", "stream", "xlsx_bytes"]

log = structlog.get_logger(__name__)

MAX_CELL = 32_767
CHUNK = 256 * 1024
_CUT = "…[cut]"
_ODD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    text = _ODD.sub(_escape, text)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - len(_CUT)] + _CUT
    return text


def _text(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | dt.datetime | dt.date):
        return value
    return safe_text(str(value))


class _Writer(Protocol):
    def write(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """Add rows; what can be sent already."""

    def finish(self) -> IO[bytes] | None:
        """The rest, to send in chunks (None: nothing more)."""


class CsvWriter:
    def __init__(self, header: Sequence[str]) -> None:
        self._header: Sequence[str] | None = header

    def write(self, rows: Iterable[Sequence[Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if self._header is not None:
            writer.writerow(self._header)
            self._header = None
        for row in rows:
            writer.writerow([_csv_cell(raw) for raw in row])
        return buffer.getvalue().encode("utf-8")

    def finish(self) -> IO[bytes] | None:
        return None


def _csv_cell(raw: Any) -> Any:
    if isinstance(raw, dt.datetime | dt.date):
        return raw.isoformat()
    value = _text(raw)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class XlsxWriter:
    """openpyxl's write-only workbook: rows go to a temporary file as they come."""

    def __init__(self, title: str, header: Sequence[str]) -> None:
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)
        self._sheet.append(list(header))

    def _cell(self, raw: Any) -> Any:
        value = _text(raw)
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:  # Excel has no time zones: the sheet is in UTC
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.data_type = TYPE_STRING  # "=…" stays text, never a formula
            return cell
        return value

    def write(self, rows: Iterable[Sequence[Any]]) -> bytes:
        for row in rows:
            self._sheet.append([self._cell(raw) for raw in row])
        return b""

    def finish(self) -> IO[bytes]:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, the caller closes it
        self._book.save(out)
        out.seek(0)
        return out


def _drain(writer: _Writer) -> bytes:
    rest = writer.finish()
    if rest is None:
        return b""
    with rest:
        return rest.read()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    writer = CsvWriter(header)
    return writer.write(rows) + _drain(writer)


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    writer = XlsxWriter(title, header)
    writer.write(rows)
    return _drain(writer)


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    while chunk := file.read(CHUNK):
        yield chunk


async def stream(request: web.Request, *, fmt: str, title: str, header: Sequence[str],
                 batches: AsyncIterator[list[Sequence[Any]]], filename: str
                 ) -> web.StreamResponse:
    """Send the rows of ``batches`` as ``fmt`` (csv or xlsx), made on a thread of its own."""
    response = web.StreamResponse(headers={
        "Content-Type": MEDIA_TYPES[fmt],
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
    loop = asyncio.get_running_loop()
    rows = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="admin-export") as pool:
        writer: _Writer = await loop.run_in_executor(
            pool, lambda: CsvWriter(header) if fmt == "csv" else XlsxWriter(title, header))
        await response.prepare(request)
        async for batch in batches:
            rows += len(batch)
            chunk = await loop.run_in_executor(pool, writer.write, batch)
            if chunk:
                await response.write(chunk)
        rest = await loop.run_in_executor(pool, writer.finish)
        if rest is not None:
            with rest:
                chunks = _chunks(rest)
                while chunk := await loop.run_in_executor(pool, next, chunks, b""):
                    await response.write(chunk)
    await response.write_eof()
    log.info("admin.export.finished", export=filename, format=fmt, rows=rows)
    return response
