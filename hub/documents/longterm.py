"""Time stamps and validation data for one tenant's long-term signatures, cached.

A :class:`LongTerm` belongs to one signing identity in one document worker. It asks the tenant's
time-stamping authority (RFC 3161 over HTTP, one kept-alive connection) for every signature
time stamp, and keeps the validation data of the chain: the certificates (signer, issuing CAs,
the TSA's), an OCSP answer for each certificate below the root and the configured CRL. Those
answers are fetched once, checked once with pyhanko-certvalidator (a revoked signer stops
there) and reused until ``refresh_fraction`` of their validity has passed, so a B-LT signature
costs one TSA round trip more than a B-T one, not an OCSP round trip and a path validation.

A TSA that does not answer raises :class:`TimestampUnavailable`, no current OCSP/CRL answer
:class:`RevocationUnavailable`: both retryable, and no document leaves without what its level
promises.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import http.client
import secrets
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, handle_tsp_response
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, RevokedError, ValidationError

from hub.documents.keys import SigningIdentity
from hub.documents.levels import LongTermSpec
from hub.errors import (
    ConfigurationError,
    RevocationUnavailable,
    SignatureError,
    TimestampUnavailable,
)

__all__ = ["LongTerm", "ValidationMaterial", "asn1_cert", "load_roots"]

_DER = serialization.Encoding.DER


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(_DER))


def load_roots(spec: LongTermSpec) -> list[x509.Certificate]:
    if spec.trust_roots is None:
        return []
    try:
        return x509.load_pem_x509_certificates(spec.trust_roots.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the trust roots {spec.trust_roots}") from exc


class _Http:
    """POSTs to one URL over kept-alive HTTP/1.1 connections, one per thread at a time
    (thread-mode document workers share a signer); a kept-alive connection the server closed is
    retried once on a fresh one. A small client of its own: ``http.client`` parses every answer's
    headers with the ``email`` package, most of a time stamp's CPU on our side."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        self.url, self._timeout = url, timeout_s
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._tls else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        self._idle: list[tuple[socket.socket, BinaryIO]] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock, reader in idle:
            reader.close()
            sock.close()

    def __del__(self) -> None:  # a worker's connections live as long as its signer
        self.close()

    def _connect(self) -> tuple[socket.socket, BinaryIO]:
        sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, sock.makefile("rb")

    def post(self, body: bytes, content_type: str, accept: str) -> bytes:
        """The answer's body; raises :class:`OSError` for a transport error or non-200."""
        request = (f"{self._head}Content-Type: {content_type}\r\nAccept: {accept}\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode("ascii") + body
        while True:
            with self._lock:
                taken = self._idle.pop() if self._idle else None
            reused = taken is not None
            sock, reader = taken or self._connect()
            try:
                sock.sendall(request)
                status, data, keep = _read_reply(reader)
            except (OSError, ValueError) as exc:
                reader.close()
                sock.close()
                if not reused:  # a fresh connection failed: the service is down
                    raise OSError(f"{self.url}: {exc}") from exc
                continue  # a kept-alive connection the server had closed: a fresh one
            if keep:
                with self._lock:
                    self._idle.append((sock, reader))
            else:
                reader.close()
                sock.close()
            if status != 200:
                raise OSError(f"{self.url} answered HTTP {status}")
            return data

    def get(self, url: str) -> bytes:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        conn = kind(parts.hostname or "", parts.port, timeout=self._timeout)
        try:
            conn.request("GET", parts.path or "/")
            reply = conn.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            raise OSError(f"{url}: {exc}") from exc
        finally:
            conn.close()
        if reply.status != 200:
            raise OSError(f"{url} answered HTTP {reply.status}")
        return data


# TimeStampReq (RFC 3161 2.4.1) for SHA-256: version 1, messageImprint, nonce, certReq TRUE.
_SHA256_IMPRINT = bytes.fromhex("3031300d060960864801650304020105000420")


def _timestamp_request(digest: bytes, nonce: int) -> bytes:
    """The DER request, built directly: asn1crypto takes longer than the round trip's CPU."""
    assert len(digest) == 32
    body = (b"\x02\x01\x01" + _SHA256_IMPRINT + digest
            + b"\x02\x08" + nonce.to_bytes(8, "big") + b"\x01\x01\xff")
    return b"\x30" + bytes([len(body)]) + body


def _read_reply(reader: BinaryIO) -> tuple[int, bytes, bool]:
    """(status, body, connection stays open) of one HTTP/1.1 answer: a Content-Length or a
    chunked body (RFC 9112 6, 7.1)."""
    status_line = reader.readline(1024)
    if not status_line:
        raise ConnectionResetError("the connection was closed")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    while (line := reader.readline(8192)) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    keep = headers.get(b"connection") != b"close" and status_line.startswith(b"HTTP/1.1")
    if headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while size := int(reader.readline(1024).split(b";")[0], 16):
            chunks.append(reader.read(size))
            reader.readline(16)
        while reader.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        return status, b"".join(chunks), keep
    if b"content-length" not in headers:
        return status, reader.read(), False  # until the server closes
    length = int(headers[b"content-length"])
    data = reader.read(length)
    if len(data) != length:
        raise ConnectionResetError("the answer was cut short")
    return status, data, keep


class HttpTimeStamper(TimeStamper):
    """pyHanko's time stamper interface over :class:`_Http` (no event loop, no session)."""

    def __init__(self, url: str, timeout_s: float) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._http = _Http(url, timeout_s)

    def close(self) -> None:
        self._http.close()

    def stamp(self, digest: bytes) -> bytes:
        """The DER time-stamp token (a CMS ContentInfo) over the SHA-256 ``digest``;
        :class:`TimestampUnavailable`.

        The token's bytes are taken as received, before the checks parse inside it: asn1crypto
        would encode a token it has parsed again on every ``dump`` (about 1 ms a signature).
        """
        nonce = secrets.randbits(63) | 1 << 62  # positive, always 8 bytes in DER
        try:
            reply = tsp.TimeStampResp.load(self._http.post(
                _timestamp_request(digest, nonce), "application/timestamp-query",
                "application/timestamp-reply"))
            der: bytes = reply["time_stamp_token"].dump()  # before the checks parse it
            # (it compares the nonce with the TSTInfo's integer, typed as bytes)
            handle_tsp_response(reply, nonce)  # type: ignore[arg-type]
        except (OSError, ValueError, TimestampRequestError) as exc:
            raise TimestampUnavailable(f"no time stamp from {self._http.url}: {exc}") from exc
        return der

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        """pyHanko's signature time stamp (PAdES), through :meth:`stamp`."""
        if md_algorithm != "sha256":
            raise TimestampUnavailable(f"time stamps over {md_algorithm} are not supported")
        return cms.ContentInfo.load(self.stamp(message_digest))

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            return tsp.TimeStampResp.load(self._http.post(
                req.dump(), "application/timestamp-query", "application/timestamp-reply"))
        except (OSError, ValueError) as exc:
            raise TimestampUnavailable(f"no time stamp from {self._http.url}: {exc}") from exc


def token_certificates(token: bytes) -> list[x509.Certificate]:
    """The certificates a DER time-stamp token embeds, the TSA's own first (then its CAs')."""
    certs = [x509.load_der_x509_certificate(c.chosen.dump())
             for c in cms.ContentInfo.load(token)["content"]["certificates"] or []]
    issuers = {c.issuer for c in certs if c.issuer != c.subject}
    return sorted(certs, key=lambda c: c.subject in issuers)


@dataclass(frozen=True)
class ValidationMaterial:
    """The chain's validation data, checked at ``fetched_at``, reused until ``refresh_at``."""

    certs: tuple[x509.Certificate, ...]  # signer, its CAs, the TSA's chain, the root
    ocsps: tuple[bytes, ...]  # DER OCSPResponse
    crls: tuple[bytes, ...]  # DER CertificateList
    fetched_at: dt.datetime
    refresh_at: dt.datetime
    context: ValidationContext

    @functools.cached_property
    def cert_ders(self) -> tuple[bytes, ...]:
        return tuple(c.public_bytes(_DER) for c in self.certs)

    @functools.cached_property
    def base64(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """Certificates, OCSP answers and CRLs in base64, as XAdES embeds them."""
        def encoded(items: tuple[bytes, ...]) -> tuple[str, ...]:
            return tuple(base64.b64encode(item).decode("ascii") for item in items)
        return encoded(self.cert_ders), encoded(self.ocsps), encoded(self.crls)


class LongTerm:
    """One identity's time stamps and cached validation data (see the module text)."""

    def __init__(self, spec: LongTermSpec, identity: SigningIdentity) -> None:
        spec.check()
        self.spec = spec
        self.identity = identity
        self.roots = load_roots(spec)
        self.timestamper = HttpTimeStamper(spec.tsa_url, spec.timeout_s) if spec.tsa_url else None
        self._ocsp = _Http(spec.ocsp_url, spec.timeout_s) if spec.ocsp_url else None
        self._material: ValidationMaterial | None = None
        self._refreshing = threading.Lock()

    def close(self) -> None:
        """Close the kept-alive connections (thread-mode workers at shutdown)."""
        for client in (self.timestamper, self._ocsp):
            if client is not None:
                client.close()

    def stamp(self, digest: bytes) -> bytes:
        """The TSA's DER time-stamp token over the SHA-256 ``digest``."""
        if self.timestamper is None:
            raise ConfigurationError(f"level {self.spec.level} without a tsa_url")
        return self.timestamper.stamp(digest)

    def material(self, now: dt.datetime | None = None) -> ValidationMaterial:
        """The cached validation data, fetched again once due."""
        now = now or dt.datetime.now(dt.UTC)
        material = self._material
        if material is None or now >= material.refresh_at:
            with self._refreshing:  # one fetch when several threads find it due
                material = self._material
                if material is None or now >= material.refresh_at:
                    material = self._material = self._fetch(now)
        return material

    def _issuer_of(self, cert: x509.Certificate, pool: list[x509.Certificate]) -> x509.Certificate:
        for candidate in pool:
            if candidate.subject == cert.issuer and candidate != cert:
                return candidate
        raise ConfigurationError(f"no issuer certificate for {cert.subject.rfc4514_string()} "
                                 "in the chain or the trust roots")

    def _ocsp_for(
        self, cert: x509.Certificate, issuer: x509.Certificate
    ) -> tuple[bytes, dt.datetime]:
        assert self._ocsp is not None
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
        try:
            der = self._ocsp.post(request.public_bytes(_DER), "application/ocsp-request",
                                  "application/ocsp-response")
            answer = ocsp.load_der_ocsp_response(der)
        except (OSError, ValueError) as exc:
            raise RevocationUnavailable(f"no OCSP answer from {self._ocsp.url}: {exc}") from exc
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise RevocationUnavailable(
                f"the OCSP responder answered {answer.response_status.name}")
        if answer.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            raise SignatureError(f"the certificate {cert.subject.rfc4514_string()} is revoked")
        until = answer.next_update_utc or answer.this_update_utc + dt.timedelta(hours=1)
        return der, until

    def _crl(self) -> tuple[bytes, dt.datetime]:
        try:
            der = _Http(self.spec.crl_url, self.spec.timeout_s).get(self.spec.crl_url)
            listed = x509.load_der_x509_crl(der)
        except (OSError, ValueError) as exc:
            raise RevocationUnavailable(f"no CRL from {self.spec.crl_url}: {exc}") from exc
        return der, listed.next_update_utc or listed.last_update_utc + dt.timedelta(days=1)

    def _fetch(self, now: dt.datetime) -> ValidationMaterial:
        tsa_chain = token_certificates(self.stamp(b"\0" * 32)) if self.timestamper else []
        chain = [self.identity.certificate, *self.identity.chain]
        pool = [*chain, *tsa_chain, *self.roots]
        ocsps: list[bytes] = []
        until = [now + dt.timedelta(days=1)]
        below_root = {c.fingerprint(hashes.SHA256()): c for c in [*chain, *tsa_chain]
                      if c.subject != c.issuer}
        if self._ocsp is not None:
            for cert in below_root.values():
                der, valid_until = self._ocsp_for(cert, self._issuer_of(cert, pool))
                ocsps.append(der)
                until.append(valid_until)
        crls: list[bytes] = []
        if self.spec.crl_url:
            der, valid_until = self._crl()
            crls.append(der)
            until.append(valid_until)
        unique = {c.fingerprint(hashes.SHA256()): c for c in pool}
        context = ValidationContext(
            trust_roots=[asn1_cert(r) for r in self.roots],
            other_certs=[asn1_cert(c) for c in unique.values()], ocsps=ocsps, crls=crls,
            allow_fetching=False, revocation_mode="hard-fail", moment=now,
        )
        self._check(context, chain, tsa_chain)
        refresh = now + (min(until) - now) * self.spec.refresh_fraction
        return ValidationMaterial(tuple(unique.values()), tuple(ocsps), tuple(crls), now,
                                  refresh, context)

    def _check(self, context: ValidationContext, chain: list[x509.Certificate],
               tsa_chain: list[x509.Certificate]) -> None:
        """The signer's (and the TSA's) path validates with exactly these answers."""
        checks: list[tuple[x509.Certificate, set[str] | None]] = [(chain[0], None)]
        if tsa_chain:
            checks.append((tsa_chain[0], {"time_stamping"}))
        for leaf, extended in checks:
            validator = CertificateValidator(asn1_cert(leaf), validation_context=context)
            try:
                asyncio.run(validator.async_validate_usage(  # type: ignore[no-untyped-call]
                    set(), extended))
            except RevokedError as exc:
                raise SignatureError(f"{leaf.subject.rfc4514_string()} is revoked") from exc
            except (PathError, ValidationError, SigningError) as exc:
                raise RevocationUnavailable(
                    f"the validation data for {leaf.subject.rfc4514_string()} does not validate "
                    f"its chain: {exc}") from exc
