"""Per product: which back office, over which transport (data: ``mappings/backoffice.toml``)."""

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
    transport: str  # "amqp" | "http"
    queue: str | None
    url: str | None


def load_routes(path: Path) -> dict[str, Route]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read back-office routes {path}: {exc}") from exc
    routes: dict[str, Route] = {}
    for product, entry in data.get("products", {}).items():
        route = Route(product, entry.get("name", product), entry.get("transport", ""),
                      entry.get("queue"), entry.get("url"))
        if route.transport not in {"amqp", "http"}:
            raise ConfigurationError(f"{path.name}: [{product}] transport must be amqp or http")
        if (route.transport == "amqp" and not route.queue) or (
            route.transport == "http" and not route.url
        ):
            raise ConfigurationError(f"{path.name}: [{product}] needs a queue or a url")
        routes[product] = route
    return routes
