"""A typed registry of adapters keyed by job type; refuses two adapters for one type."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hub.breaker import CircuitBreaker
from hub.errors import ConfigurationError
from hub.ports import Adapter

__all__ = ["AdapterRegistry"]


class AdapterRegistry:
    def __init__(self) -> None:
        self._by_type: dict[str, Adapter] = {}
        self._adapters: list[Adapter] = []
        self._breakers: dict[str, tuple[CircuitBreaker, ...]] = {}

    def register(self, adapter: Adapter, *, breakers: Iterable[CircuitBreaker] = ()) -> Adapter:
        """``breakers``: those of the back ends the adapter calls (shared with other adapters
        that call the same back end), for the admin's adapter list."""
        clashes = sorted(t for t in adapter.job_types if t in self._by_type)
        if clashes:
            raise ConfigurationError(f"job type(s) {clashes} already have an adapter")
        for job_type in adapter.job_types:
            self._by_type[job_type] = adapter
        self._adapters.append(adapter)
        self._breakers[adapter.name] = tuple(breakers)
        return adapter

    def breakers_of(self, adapter_name: str) -> tuple[CircuitBreaker, ...]:
        return self._breakers.get(adapter_name, ())

    def for_type(self, job_type: str) -> Adapter | None:
        return self._by_type.get(job_type)

    @property
    def job_types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    @property
    def capabilities(self) -> list[str]:
        """Work-queue names are per capability: the job type's first segment."""
        return sorted({t.split(".", 1)[0] for t in self._by_type})

    def __iter__(self) -> Iterator[Adapter]:
        return iter(self._adapters)

    def check_config(self) -> list[str]:
        return [f"{a.name}: {problem}" for a in self._adapters for problem in a.check_config()]

    async def start_all(self) -> None:
        problems = self.check_config()
        if problems:
            raise ConfigurationError("adapter configuration: " + "; ".join(problems))
        for adapter in self._adapters:
            await adapter.start()

    async def close_all(self) -> None:
        for adapter in self._adapters:
            await adapter.close()
