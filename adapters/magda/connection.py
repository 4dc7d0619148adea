"""One MAGDA identity on the wire: TLS (mutual, when configured), WS-Security key, sender data.

Each tenant may present its own organisation certificate; tenants without one share the default.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from adapters.magda.envelope import RequestIdentity
from adapters.magda.transport import AiohttpTransport
from adapters.magda.wssecurity import BodySignature
from hub.config import (
    BackendSettings,
    MagdaSettings,
    TenantMagdaSettings,
    TenantSettings,
    resolve_path,
)
from hub.errors import ConfigurationError

__all__ = ["MagdaConnection", "MagdaProfile", "hoedanigheid_problems", "profile_for"]


@dataclass(frozen=True)
class MagdaProfile:
    """Everything that distinguishes one MAGDA client identity from another."""

    identity: RequestIdentity
    signing_key: Path
    signing_cert: Path
    tls_cert: Path | None
    tls_key: Path | None
    ca_file: Path | None
    reply_signature: str
    reply_signing_cert: Path | None

    def files(self) -> list[tuple[str, Path]]:
        listed = [("WS-Security key", self.signing_key), ("WS-Security certificate",
                                                           self.signing_cert)]
        for label, path in (("TLS client certificate", self.tls_cert),
                            ("TLS client key", self.tls_key), ("CA file", self.ca_file),
                            ("reply signing certificate", self.reply_signing_cert)):
            if path is not None:
                listed.append((label, path))
        return listed


def profile_for(
    magda: MagdaSettings, tenant: TenantSettings | None, backend: BackendSettings | None = None
) -> MagdaProfile:
    """The tenant's own settings where it has them, the ``[magda]`` defaults otherwise.

    The reply-signature policy and its trust store are the back end's
    (``backends.<name>.reply_signature``, see :meth:`BackendSettings.reply_policy`).
    """
    own = tenant.magda if tenant is not None else TenantMagdaSettings()
    reply_signature, reply_signing_cert = (backend or BackendSettings()).reply_policy(magda)
    return MagdaProfile(
        identity=RequestIdentity(
            client_identification=own.client_identification or magda.client_identification,
            hoedanigheid=own.hoedanigheid or magda.hoedanigheid,
            receiver_identification=magda.receiver_identification,
        ),
        signing_key=resolve_path(own.signing_key) or magda.signing_key,
        signing_cert=resolve_path(own.signing_cert) or magda.signing_cert,
        tls_cert=resolve_path(own.tls_cert or magda.tls_cert),
        tls_key=resolve_path(own.tls_key or magda.tls_key),
        ca_file=resolve_path(magda.ca_file),
        reply_signature=reply_signature,
        # Not needed, so not required, when the back end's replies are not checked.
        reply_signing_cert=(
            resolve_path(reply_signing_cert) if reply_signature != "off" else None
        ),
    )


# MAGDA's Hoedanigheid is a short name (NaamKort): at most 24 characters.
_HOEDANIGHEID_MAX = 24


def hoedanigheid_problems(magda: MagdaSettings, tenants: dict[str, TenantSettings]) -> list[str]:
    """Where the required Hoedanigheid (MAGDA capacity code) is missing or too long.

    Every tenant needs one, its own (``[magda] hoedanigheid`` in its tenant file) or the
    default ``magda.hoedanigheid``; the default is needed too while a tenant lacks its own, or
    when there are no tenants at all.
    """
    problems: list[str] = []
    lacking = sorted(slug for slug, tenant in tenants.items() if not tenant.magda.hoedanigheid)
    if not magda.hoedanigheid and (lacking or not tenants):
        where = (f" and tenant(s) {', '.join(lacking)} have no [magda] hoedanigheid of their own"
                 if lacking else "")
        problems.append(
            "magda.hoedanigheid is empty" + where + ": MAGDA requires the capacity code it "
            "assigned to the client (Hoedanigheid) in every repertorium registration"
        )
    values = [("magda.hoedanigheid", magda.hoedanigheid)] + [
        (f"tenant {slug}: [magda] hoedanigheid", tenant.magda.hoedanigheid)
        for slug, tenant in sorted(tenants.items())
    ]
    problems += [
        f"{where} is longer than {_HOEDANIGHEID_MAX} characters (MAGDA's limit)"
        for where, value in values if len(value) > _HOEDANIGHEID_MAX
    ]
    return problems


class MagdaConnection:
    """An aiohttp session (with its TLS context), zeep transport and body signature."""

    def __init__(self, profile: MagdaProfile, backend: BackendSettings) -> None:
        self.profile = profile
        self._backend = backend
        self._session: aiohttp.ClientSession | None = None
        self.transport: AiohttpTransport | None = None
        self.signature = BodySignature(
            profile.signing_key,
            profile.signing_cert,
            response_policy=profile.reply_signature,
            response_cert_file=profile.reply_signing_cert,
        )

    def _ssl_context(self) -> ssl.SSLContext | bool:
        profile = self.profile
        if profile.tls_cert is None and profile.ca_file is None:
            return True  # default verification against the system store
        context = ssl.create_default_context(
            cafile=str(profile.ca_file) if profile.ca_file else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if profile.tls_cert is not None:
            if profile.tls_key is None:
                raise ConfigurationError("a TLS client certificate needs its key (tls_key)")
            try:
                context.load_cert_chain(str(profile.tls_cert), str(profile.tls_key))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigurationError(f"cannot load the TLS client certificate: {exc}") from exc
        return context

    async def open(self) -> AiohttpTransport:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self._backend.connect_timeout_s,
                sock_read=self._backend.read_timeout_s,
            ),
            connector=aiohttp.TCPConnector(
                limit=self._backend.concurrency, ssl=self._ssl_context()
            ),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        self.transport = AiohttpTransport(
            self._session, max_response_bytes=self._backend.max_answer_bytes
        )
        return self.transport

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
