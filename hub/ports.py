"""The ports of the hub core: what it needs from adapters, stores and the clock.

Adapters and other collaborators arrive through constructors; the core imports no adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from hub.config import TenantSettings
from hub.contract import Job

__all__ = [
    "Adapter",
    "AdapterAnswer",
    "CallContext",
    "CertificateModel",
    "Clock",
    "SystemClock",
]


@dataclass(frozen=True)
class CertificateModel:
    """What a certificate says, independent of its rendering (XML now, PDF later).

    ``facts`` is a tree of mappings, lists and scalars: a key names an element; a list value
    repeats that element once per item.
    """

    kind: str
    title: str
    language: str
    subject_identifier: str
    facts: Mapping[str, Any]


@dataclass(frozen=True)
class AdapterAnswer:
    """What an adapter hands back for a job: the document model and the back end's reference."""

    certificate: CertificateModel
    backend_reference: str | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class CallContext:
    job: Job
    tenant: TenantSettings
    attempt: int


@runtime_checkable
class Adapter(Protocol):
    """One back end. Registered by job type in :class:`hub.registry.AdapterRegistry`."""

    name: str
    job_types: frozenset[str]

    async def start(self) -> None:
        """Load WSDLs, keys and sessions. Called once before consuming."""

    async def close(self) -> None: ...

    def check_config(self) -> list[str]:
        """Problems an operator must fix before start-up (empty when fine)."""

    async def handle(self, context: CallContext) -> AdapterAnswer:
        """Consult the back end. Raises :mod:`hub.errors` exceptions only."""


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)
