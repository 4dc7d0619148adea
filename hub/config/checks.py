"""What ``check-config`` checks beyond the values themselves: the files ``run`` will open, the
pairs of keys and certificates, the back-office routes of the catalogue's products, and (unless
offline) that the store answers. The broker's probe is the runtime's
(:func:`hub.runtime.probe.broker_problem`); the adapters check their own files.

Each function returns one line per problem, never raises.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub.config.loader import Settings
from hub.config.tenants import TenantSettings
from hub.config.types import REPO_ROOT, resolve_path

__all__ = ["file_problems", "key_pair_problems", "route_problems", "store_problem"]


def _readable(label: str, path: Path) -> str | None:
    try:
        with path.open("rb"):
            return None
    except FileNotFoundError:
        return f"{label}: {path} not found"
    except OSError as exc:
        return f"{label}: {path} cannot be read ({exc.strerror or exc})"


def key_pair_problems(label: str, key: Path | None, cert: Path | None) -> list[str]:
    """The key and the certificate can be read and belong together (same public key)."""
    if key is None and cert is None:
        return []
    if key is None or cert is None:
        return [f"{label}: a key and its certificate go together, only "
                f"{'the certificate' if key is None else 'the key'} is set"]
    missing = [p for p in (_readable(f"{label} key", key), _readable(f"{label} certificate",
                                                                   cert)) if p]
    if missing:
        return missing
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except (ValueError, TypeError) as exc:
        return [f"{label}: cannot read {key} with {cert} as PEM ({exc})"]
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*raw) != certificate.public_key().public_bytes(*raw):
        return [f"{label}: key {key} does not belong to certificate {cert}"]
    return []


def _magda_pairs(settings: Settings,
                 tenants: Mapping[str, TenantSettings]) -> Iterator[tuple[str, Path | None,
                                                                          Path | None]]:
    magda = settings.magda
    yield "MAGDA WS-Security", magda.signing_key, magda.signing_cert
    yield "MAGDA TLS client", resolve_path(magda.tls_key), resolve_path(magda.tls_cert)
    for slug, tenant in tenants.items():
        own = tenant.magda
        if own.signing_key or own.signing_cert:
            yield (f"tenant {slug!r} MAGDA WS-Security",
                   resolve_path(own.signing_key) or magda.signing_key,
                   resolve_path(own.signing_cert) or magda.signing_cert)
        if own.tls_key or own.tls_cert:
            yield (f"tenant {slug!r} MAGDA TLS client",
                   resolve_path(own.tls_key) or resolve_path(magda.tls_key),
                   resolve_path(own.tls_cert) or resolve_path(magda.tls_cert))


def file_problems(settings: Settings, tenants: Mapping[str, TenantSettings]) -> list[str]:
    """Files ``run`` opens: they exist, can be read, and keys match their certificates.

    Document-signing identities and the admin token file are checked by loading them
    (``check-config`` does); the MAGDA adapters name their missing files themselves, the
    back-office adapter missing tenant secrets.
    """
    problems: list[str] = []
    for label, key, cert in _magda_pairs(settings, tenants):
        problems += key_pair_problems(label, key, cert)
    if settings.status.enabled:
        problem = _readable("status.client_key", settings.status.client_key)
        if problem is None:
            try:
                serialization.load_pem_private_key(settings.status.client_key.read_bytes(),
                                                   password=None)
            except (ValueError, TypeError) as exc:
                problem = f"status.client_key: {settings.status.client_key} is not a PEM " \
                          f"private key without password ({exc})"
        problems += [problem] if problem else []
    for slug, tenant in tenants.items():
        secret = tenant.backoffice_secret_path  # a missing one: the back-office adapter says so
        if secret.is_file() and _readable("", secret) is None and not secret.read_bytes().strip():
            problems.append(f"tenant {slug!r} backoffice_secret_file: {secret} is empty")
    return problems


def route_problems(routes: Mapping[str, Sequence[str]], tenants: Mapping[str, TenantSettings],
                   products: Sequence[str]) -> list[str]:
    """Every back-office product a job can name has a route (a job for one without is
    rejected ``UNKNOWN_PRODUCT``), and routes name only tenants that exist.

    ``routes``: product → the tenants its route lists (empty: all); ``products``: the
    back-office products of the catalogue (``backoffice.forward:<product>``).
    """
    problems = [
        f"back-office product {product!r} (mappings/products.toml) has no route in the routes "
        "file: every request for it would be rejected UNKNOWN_PRODUCT"
        for product in products if product not in routes
    ]
    for product, listed in routes.items():
        unknown = sorted(set(listed) - set(tenants))
        if unknown:
            problems.append(f"back-office route {product!r} names unknown tenant(s) "
                            f"{', '.join(unknown)}")
    return problems


async def store_problem(url: str, timeout_s: float = 5.0) -> str | None:
    """Whether the store answers (PostgreSQL: connect and ``SELECT 1``; SQLite: its folder
    exists and is writable). Nothing is created."""
    if url.startswith("sqlite:///"):
        raw = url.removeprefix("sqlite:///")
        if raw == ":memory:":
            return None
        path = Path(raw) if raw.startswith("/") else REPO_ROOT / raw
        folder = path.parent
        if not folder.is_dir():
            return f"store.url: folder {folder} does not exist"
        if not os.access(folder, os.W_OK):
            return f"store.url: folder {folder} is not writable"
        return None
    import psycopg

    try:
        async with asyncio.timeout(timeout_s):
            connection = await psycopg.AsyncConnection.connect(
                url, connect_timeout=max(1, int(timeout_s)))
            async with connection:
                await connection.execute("SELECT 1")
    except (TimeoutError, psycopg.Error, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"store.url: the store does not answer ({reason})"
    return None
