"""Structured logging: JSON in production, readable in a terminal, INSZ masked everywhere.

Every line of a job carries ``job_id``, ``correlation_id``, ``tenant`` and ``adapter`` through
:func:`structlog.contextvars.bind_contextvars`, bound by the worker for the job's task.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from hub.identifiers import INSZ_PATTERN

__all__ = ["configure_logging", "mask_insz_in", "mask_national_numbers"]


def _mask_match(match: Any) -> str:
    digits = "".join(match.groups())
    return f"{digits[:2]}*******{digits[9:]}"


# Identifiers the hub and its peers write in hexadecimal (UUIDs, digests, trace ids): eleven
# digits inside one are no INSZ, and masking them would break log correlation (about one
# random UUID in 140 holds such a run).
_HEX_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})(?![0-9A-Za-z])"
)


def _mask_text(text: str) -> str:
    parts: list[str] = []
    end = 0
    for token in _HEX_TOKEN.finditer(text):
        if not any(c.isalpha() for c in token.group()):
            continue  # all digits: no identifier of ours, an INSZ may be in it
        parts.append(INSZ_PATTERN.sub(_mask_match, text[end:token.start()]))
        parts.append(token.group())
        end = token.end()
    parts.append(INSZ_PATTERN.sub(_mask_match, text[end:]))
    return "".join(parts)


def mask_insz_in(value: Any) -> Any:
    """Return ``value`` with every INSZ-shaped number masked, walking containers; UUIDs and
    hexadecimal digests are left whole."""
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**10 <= value < 10**11:
        return mask_insz_in(str(value))
    if isinstance(value, Mapping):
        return {k: mask_insz_in(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_insz_in(v) for v in value)
    if isinstance(value, BaseException):
        return mask_insz_in(repr(value))
    return value


def mask_national_numbers(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last word before rendering, so nothing escapes it."""
    return {key: mask_insz_in(value) for key, value in event_dict.items()}


class _CurrentStderr:
    """``sys.stderr`` as it is at each write, not as it was when logging was configured.

    A stream kept from configuration time may be closed later (a test's captured stream, a
    replaced stderr); writing through the current one keeps every later log line working.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR: Any = _CurrentStderr()


def configure_logging(log_format: str = "console", level: str = "info") -> None:
    """Configure structlog (and the stdlib loggers of our libraries) once per process."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        mask_national_numbers,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=_STDERR),
        cache_logger_on_first_use=False,
    )
    # Library loggers (aio-pika, zeep) go through the same masking before they reach stderr.
    handler = logging.StreamHandler(_STDERR)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared[1:],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
