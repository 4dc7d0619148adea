"""PKI simulator: an RFC 3161 time-stamping authority, an OCSP responder (RFC 6960) and CRL
distribution points (RFC 5280) over HTTP, for the development CA (``hub.devca``).

    POST /tsa                 application/timestamp-query  -> application/timestamp-reply
    POST /ocsp                application/ocsp-request     -> application/ocsp-response
    GET  /ocsp/<base64 request>                            (RFC 6960 appendix A.1)
    GET  /crl/<issuing|root>.crl                           application/pkix-crl (DER)
    POST /_control/down       {"tsa": true, "ocsp": false, "crl": false}: answer 503
    POST /_control/revoke     {"serial": <int>}: revoke a certificate of the issuing CA
    GET  /_control/stats      how many requests each service answered

The OCSP answers are signed by the CA that issued the certificate asked about (RFC 6960 4.2.2.2,
no delegated responder), valid for an hour; the CRLs for a day. The time stamps are built by
pyHanko's test TSA (``DummyTimeStamper``) with the development TSA key, its certificate and the
issuing CA's embedded. Run alone: ``python -m simulators.pki [--port 8703]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509 import ocsp
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from simulators.control import start_site

__all__ = ["PkiSimulator", "PkiSimulatorSettings", "start_pki_simulator"]

OCSP_VALIDITY = dt.timedelta(hours=1)
CRL_VALIDITY = dt.timedelta(days=1)


@dataclass(frozen=True)
class PkiSimulatorSettings:
    """``ca_dir``: the development CA (``var/dev-pki/ca``, made by ``hub.devca``)."""

    ca_dir: Path = Path("var/dev-pki/ca")
    host: str = "127.0.0.1"
    port: int = 8703


@dataclass
class _Authority:
    cert: x509.Certificate
    key: RSAPrivateKey
    revoked: dict[int, dt.datetime] = field(default_factory=dict)


def _load(cert: Path, key: Path) -> _Authority:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(loaded, RSAPrivateKey)
    return _Authority(x509.load_pem_x509_certificates(cert.read_bytes())[0], loaded)


class _State:
    def __init__(self, settings: PkiSimulatorSettings) -> None:
        ca = settings.ca_dir
        self.authorities = {"root": _load(ca / "root.crt", ca / "root.key"),
                            "issuing": _load(ca / "issuing.crt", ca / "issuing.key")}
        tsa_certs = x509.load_pem_x509_certificates((ca / "tsa.crt").read_bytes())
        chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                 for c in tsa_certs]
        self.tsa = _Tsa(chain[0], _load(ca / "tsa.crt", ca / "tsa.key").key, chain)
        self.down: dict[str, bool] = {"tsa": False, "ocsp": False, "crl": False}
        self.stats: Counter[str] = Counter()

    def authority_for(self, request: ocsp.OCSPRequest) -> _Authority | None:
        for authority in self.authorities.values():
            public = authority.cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
            digest = hashes.Hash(request.hash_algorithm)
            digest.update(public)
            if digest.finalize() == request.issuer_key_hash:
                return authority
        return None


class _Tsa(DummyTimeStamper):
    """pyHanko's test TSA, with its RSA key loaded once (it loads it again for every stamp,
    ~40 ms each, which would hold up the event loop the simulator shares in tests)."""

    def __init__(self, cert: Any, key: RSAPrivateKey, chain: list[Any]) -> None:
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        super().__init__(cert, asn1_keys.PrivateKeyInfo.load(der), certs_to_embed=chain)  # type: ignore[arg-type]
        self._key = key
        # Encoded once: asn1crypto encodes a certificate it has walked again on every dump
        # (10 of a stamp's 12 ms).
        attribute: Any = simple_cms_attribute
        self._signing_certificate = attribute(
            "signing_certificate", general.as_signing_certificate(cert)).dump()
        self._certificates = [c.dump() for c in [cert, *chain]]

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        attribute: Any = simple_cms_attribute
        signed_attrs = cms.CMSAttributes([
            attribute("content_type", "tst_info"),
            attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            cms.CMSAttribute.load(self._signing_certificate),
            attribute("message_digest", hashlib.sha256(tst_info_data).digest()),
        ])
        signature = self._key.sign(signed_attrs.dump(), PKCS1v15(), hashes.SHA256())
        return signature, signed_attrs

    def _build_signed_data(
        self, tst_info_data: bytes, md_algorithm: str, signature: bytes,
        signed_attrs: cms.CMSAttributes,
    ) -> dict[str, Any]:
        built: dict[str, Any] = super()._build_signed_data(
            tst_info_data, md_algorithm, signature, signed_attrs)
        built["certificates"] = [cms.CertificateChoices.load(c) for c in self._certificates]
        return built


_STATE = web.AppKey("pki_state", _State)


def _unavailable(state: _State, service: str) -> web.Response | None:
    if state.down[service]:
        return web.Response(status=503, text=f"{service} down (simulated)")
    state.stats[service] += 1
    return None


async def _tsa(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    if (down := _unavailable(state, "tsa")) is not None:
        return down
    if request.content_type != "application/timestamp-query":
        return web.Response(status=415, text="expected application/timestamp-query")
    try:
        query = tsp.TimeStampReq.load(await request.read())
        reply = state.tsa.request_tsa_response(query).dump()
    except ValueError as exc:
        return web.Response(status=400, text=f"not a time-stamp request: {exc}")
    return web.Response(body=reply, content_type="application/timestamp-reply")


def _ocsp_answer(state: _State, der: bytes) -> bytes:
    try:
        asked = ocsp.load_der_ocsp_request(der)
    except ValueError:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
    authority = state.authority_for(asked)
    if authority is None:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    revoked_at = authority.revoked.get(asked.serial_number)
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=asked.issuer_name_hash, issuer_key_hash=asked.issuer_key_hash,
        serial_number=asked.serial_number, algorithm=asked.hash_algorithm,
        cert_status=ocsp.OCSPCertStatus.GOOD if revoked_at is None
        else ocsp.OCSPCertStatus.REVOKED,
        this_update=now, next_update=now + OCSP_VALIDITY, revocation_time=revoked_at,
        revocation_reason=None if revoked_at is None else x509.ReasonFlags.key_compromise,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, authority.cert)
    for extension in asked.extensions:  # echo the nonce
        if isinstance(extension.value, x509.OCSPNonce):
            builder = builder.add_extension(extension.value, critical=False)
    return builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


async def _ocsp_post(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    if (down := _unavailable(state, "ocsp")) is not None:
        return down
    return web.Response(body=_ocsp_answer(state, await request.read()),
                        content_type="application/ocsp-response")


async def _ocsp_get(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    if (down := _unavailable(state, "ocsp")) is not None:
        return down
    try:
        der = base64.b64decode(request.match_info["encoded"])
    except ValueError:
        der = b""
    return web.Response(body=_ocsp_answer(state, der), content_type="application/ocsp-response")


async def _crl(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    if (down := _unavailable(state, "crl")) is not None:
        return down
    authority = state.authorities.get(request.match_info["name"])
    if authority is None:
        raise web.HTTPNotFound(text="no such CRL")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(authority.cert.subject)
               .last_update(now).next_update(now + CRL_VALIDITY)
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   authority.cert.public_key()), critical=False))  # type: ignore[arg-type]
    for serial, when in authority.revoked.items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    crl = builder.sign(authority.key, hashes.SHA256())
    return web.Response(body=crl.public_bytes(serialization.Encoding.DER),
                        content_type="application/pkix-crl")


async def _control_down(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    body = await request.json()
    for service in state.down:
        if service in body:
            state.down[service] = bool(body[service])
    return web.json_response(state.down)


async def _control_revoke(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    serial = int((await request.json())["serial"])
    state.authorities["issuing"].revoked[serial] = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return web.json_response({"revoked": str(serial)})


async def _control_stats(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[_STATE].stats))


def create_pki_app(settings: PkiSimulatorSettings) -> web.Application:
    app = web.Application()
    app[_STATE] = _State(settings)
    app.add_routes([
        web.post("/tsa", _tsa), web.post("/ocsp", _ocsp_post),
        web.get("/ocsp/{encoded:.+}", _ocsp_get), web.get("/crl/{name}.crl", _crl),
        web.post("/_control/down", _control_down), web.post("/_control/revoke", _control_revoke),
        web.get("/_control/stats", _control_stats),
    ])
    return app


@dataclass
class PkiSimulator:
    runner: web.AppRunner
    host: str
    port: int
    app: web.Application

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_down(self, service: str, down: bool = True) -> None:
        """Make ``service`` (tsa, ocsp, crl) answer 503 (or answer again)."""
        self.app[_STATE].down[service] = down

    def revoke(self, serial: int, revoked: bool = True) -> None:
        """Revoke a certificate of the issuing CA (or reinstate it)."""
        table = self.app[_STATE].authorities["issuing"].revoked
        if revoked:
            table[serial] = dt.datetime.now(dt.UTC).replace(microsecond=0)
        else:
            table.pop(serial, None)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.app[_STATE].stats)

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_pki_simulator(settings: PkiSimulatorSettings) -> PkiSimulator:
    """Start on ``settings.host:settings.port`` (0 = a free port)."""
    app = create_pki_app(settings)
    runner, port = await start_site(app, settings.host, settings.port, shutdown_timeout=2.0)
    return PkiSimulator(runner=runner, host=settings.host, port=port, app=app)


async def _serve(settings: PkiSimulatorSettings) -> None:
    simulator = await start_pki_simulator(settings)
    print(f"PKI simulator (TSA, OCSP, CRL) on {simulator.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ca-dir", default="var/dev-pki/ca")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8703)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(PkiSimulatorSettings(Path(args.ca_dir), args.host, args.port)))


if __name__ == "__main__":
    main()
