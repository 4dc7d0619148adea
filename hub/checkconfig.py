"""``loket-hub check-config``: every problem ``run`` would meet, one line each.

Part of the composition root (it builds the adapters' registry and the signing identities to
ask them), so the CLI stays a thin dispatcher.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hub.config import Settings, SettingsProblems
from hub.errors import ConfigurationError

__all__ = ["check_config"]


def check_config(settings: Settings, *, offline: bool = False) -> int:
    """Every problem ``run`` would meet, one line each; 1 when there is any."""
    from hub.config import BackofficeSettings, load_tenants

    problems: list[str] = []
    tenants = {}
    try:
        tenants = load_tenants(settings.tenants_dir)
        if not tenants:
            problems.append(f"no tenants in {settings.tenants_dir}")
    except SettingsProblems as exc:
        problems += exc.problems
    problems += _adapter_problems(settings, tenants)
    signing, notes = _signing_problems(settings, tenants)
    if settings.backoffice.secret_file != BackofficeSettings().secret_file:
        notes.append("backoffice.secret_file is no longer read: each tenant's own "
                     "backoffice_secret_file is")
    problems += signing + _status_problems(settings, tenants) + _file_and_route_problems(
        settings, tenants)
    if not offline:
        problems += asyncio.run(_network_problems(settings))
    for note in notes:
        print(f"warning: {note}")
    for problem in dict.fromkeys(problems):
        print(f"problem: {problem}")
    print("configuration ok" if not problems else f"{len(dict.fromkeys(problems))} problem(s)")
    return 0 if not problems else 1


def _adapter_problems(settings: Settings, tenants: dict[str, Any]) -> list[str]:
    """What the adapters say of their own configuration; job types without a product id."""
    from hub.app import build_registry
    from hub.status.mapping import product_for

    try:
        registry = build_registry(settings, tenants)
    except ConfigurationError as exc:
        return [exc.message]
    problems = registry.check_config()
    for adapter in registry:
        problems += [f"job type {t!r} has no product id in mappings/products.toml"
                     for t in sorted(adapter.job_types) if product_for(t) is None]
    return problems


def _signing_problems(settings: Settings, tenants: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Document-signing identities that cannot be loaded; notes on ones that expire soon."""
    import datetime as dt

    from hub.app import signing_identities
    from hub.documents.keys import load_signing_identity

    problems: list[str] = []
    notes: list[str] = []
    now = dt.datetime.now(dt.UTC)
    try:
        specs, _ = signing_identities(settings, tenants)
    except ConfigurationError as exc:
        return [exc.message], []
    for ref, spec in specs.items():
        problems += [f"document signing for {ref!r}: {p}" for p in spec.long_term.problems()]
        try:
            identity = load_signing_identity(spec, now=now)
        except ConfigurationError as exc:
            problems.append(f"document signing for {ref!r}: {exc.message}")
            continue
        if identity.expires_within(settings.documents.expiry_warning_days, now):
            notes.append(f"signing certificate of {ref!r} expires {identity.not_after:%Y-%m-%d}")
    return problems, notes


def _file_and_route_problems(settings: Settings, tenants: dict[str, Any]) -> list[str]:
    from adapters.backoffice.routes import load_routes
    from hub.admin.auth import TokenBook
    from hub.config import resolve_path
    from hub.config.checks import file_problems, route_problems
    from hub.status.mapping import load_catalogue

    problems = file_problems(settings, tenants)
    if settings.admin.enabled and settings.admin.token_file:
        try:
            TokenBook.from_file(resolve_path(settings.admin.token_file))
        except ConfigurationError as exc:
            problems.append(f"admin.token_file: {exc.message}")
    try:
        routes = load_routes(settings.backoffice.routes_file)
    except ConfigurationError:
        return problems  # the back-office adapter names it (_adapter_problems)
    kinds = [key.split(":", 1)[1] for key in load_catalogue().entries
             if key.startswith("backoffice.forward:")]
    return problems + route_problems({p: r.tenants for p, r in routes.items()}, tenants, kinds)


async def _network_problems(settings: Settings) -> list[str]:
    """The broker and the store answer within a few seconds."""
    from hub.config.checks import store_problem
    from hub.runtime.probe import broker_problem

    broker, store = await asyncio.gather(broker_problem(settings.broker.url),
                                         store_problem(settings.store.url))
    return [f"broker.url: {broker}" for _ in (broker,) if broker] + [s for s in (store,) if s]


def _status_problems(settings: Settings, tenants: dict[str, Any]) -> list[str]:
    """Statuses without a Flemish phase and code or a Dutch text; tenants whose dossier
    manager lacks an address or whose language has no texts."""
    from hub.status.mapping import LANGUAGES, load_status_table, load_status_texts

    table = load_status_table()
    problems = table.problems() + load_status_texts().problems(table.statuses)
    for slug, tenant in tenants.items():
        if tenant.language not in LANGUAGES:
            problems.append(f"tenant {slug!r}: language must be one of {', '.join(LANGUAGES)}")
        if settings.status.enabled and not tenant.address.complete:
            problems.append(f"tenant {slug!r}: no complete [address]: its dossiers reach the "
                            "citizen profile without a dossier manager")
    return problems
