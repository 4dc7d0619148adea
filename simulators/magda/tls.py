"""The simulator's TLS: HTTPS with, by default, a required and pinned client certificate."""

from __future__ import annotations

import ssl

from simulators.magda.settings import TlsSettings

__all__ = ["server_ssl_context"]


def server_ssl_context(settings: TlsSettings) -> ssl.SSLContext:
    """A server context for TLS 1.2+, trusting only ``client_cas`` for client certificates.

    A client without a certificate, or with one not issued by (or equal to) a listed one, fails
    the handshake when ``require_client_cert`` is set.
    """
    if settings.require_client_cert and not settings.client_cas:
        raise ValueError("require_client_cert needs at least one certificate in client_cas")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.cert, settings.key)
    for ca in settings.client_cas:
        context.load_verify_locations(cafile=ca)
    if settings.require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
    elif settings.client_cas:
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
