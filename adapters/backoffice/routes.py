"""Per product: which back office, over which transport, for which tenants (data:
``mappings/backoffice.toml``). A tenant without a back office for a product has its employees
handle the request from their task inbox."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from hub.errors import ConfigurationError

__all__ = ["Route", "load_routes"]


@dataclass(frozen=True)
class Route:
    product: str
    name: str
    transport: str  # "amqp" | "http" | "none" (no back office: employees handle it)
    queue: str | None
    url: str | None
    # The tenants that have this back office; empty: every tenant.
    tenants: tuple[str, ...] = ()

    def serves(self, tenant: str) -> bool:
        """Whether ``tenant`` has a back-office link for this product."""
        return self.transport != "none" and (not self.tenants or tenant in self.tenants)


def load_routes(path: Path) -> dict[str, Route]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read back-office routes {path}: {exc}") from exc
    routes: dict[str, Route] = {}
    for product, entry in data.get("products", {}).items():
        route = Route(product, entry.get("name", product), entry.get("transport", ""),
                      entry.get("queue"), entry.get("url"), tuple(entry.get("tenants", ())))
        if route.transport not in {"amqp", "http", "none"}:
            raise ConfigurationError(
                f"{path.name}: [{product}] transport must be amqp, http or none")
        if (route.transport == "amqp" and not route.queue) or (
            route.transport == "http" and not route.url
        ):
            raise ConfigurationError(f"{path.name}: [{product}] needs a queue or a url")
        routes[product] = route
    return routes
