"""Small pure readers for MAGDA answers (unqualified children, text values)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hub.errors import MappingError

__all__ = ["date_at", "optional_date", "required", "text"]


def text(element: etree._Element, path: str) -> str | None:
    value: str | None = element.findtext(path)
    if value is None or not value.strip():
        return None
    return value.strip()


def required(element: etree._Element, path: str) -> str:
    value = text(element, path)
    if value is None:
        raise MappingError(f"answer lacks {path}", details={"path": path})
    return value


def date_at(element: etree._Element, path: str) -> dt.date:
    value = required(element, path)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise MappingError(f"answer has an unreadable {path}", details={"path": path}) from exc


def optional_date(element: etree._Element, path: str) -> dt.date | None:
    return date_at(element, path) if text(element, path) is not None else None
