"""The DOSIS REST client, as the public DOSIS client talks to the service
(``../shared/domain/dosis.md``, fact ids in brackets).

Token: OAuth2 client credentials with a ``private_key_jwt`` assertion — a form with
``grant_type``, ``scope``, ``client_assertion_type`` and ``client_assertion``, no ``client_id``
[F02-F05]; the assertion carries ``iss`` = ``sub`` = client id, ``aud`` = the token URL, a fresh
``jti``, ``iat`` and ``exp`` = ``iat`` + 120 s [F06, F07], signed RS256 with a ``{"alg", "kid"}``
header and no ``typ`` [F08]. One token per scope, kept until 180 s before it expires [F10].
Calls carry ``Authorization: Bearer`` and ``Accept: application/json`` [F11].

Answers are judged honestly::

    upload 2xx with {"Status", "UploadId"} (strings)  → accepted            [F48]
    401                                                → one new token, then ConfigurationError
    5xx, 429, timeout, transport error                 → BackendError (retried)   [F49]
    404                                                → EndpointNotFound (BackendError: retried,
                                                         then dead-lettered with the URL)
    any other 4xx                                      → PayloadRefused (dead-lettered)  [F49]
    2xx without the documented body                    → UnexpectedAnswer (BackendError)
    read-back 404                                      → not processed yet (None)       [F58]
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hub.breaker import BackendGate
from hub.config import StatusSettings
from hub.errors import BackendError, BackendTimeout, ConfigurationError, OurFault

__all__ = ["DosisClient", "EndpointNotFound", "PayloadRefused", "UnexpectedAnswer",
           "key_thumbprint"]

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_REFRESH_BEFORE_S = 180.0


class PayloadRefused(OurFault):
    """DOSIS refused the request synchronously (4xx): a mapping or configuration problem."""

    default_code = "STATUS_PAYLOAD_REFUSED"


class EndpointNotFound(BackendError):
    """DOSIS answered 404 where an endpoint should be (a wrong path, or a service not there)."""

    default_code = "STATUS_ENDPOINT_NOT_FOUND"


class UnexpectedAnswer(BackendError):
    """A 2xx answer without the documented body: not taken as accepted."""

    default_code = "STATUS_ANSWER_UNEXPECTED"


def key_thumbprint(key: RSAPrivateKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of the key's public half."""
    numbers = key.public_key().public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    canonical = json.dumps({"e": b64(numbers.e), "kty": "RSA", "n": b64(numbers.n)},
                           separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class DosisClient:
    def __init__(self, settings: StatusSettings, *, gate: BackendGate | None = None) -> None:
        """``gate``: DOSIS's one breaker and concurrency limit (``backends.dosis``), shared by
        the pusher and the reconciler; none: calls are not guarded."""
        self._settings = settings
        self._gate = gate
        self._key = self._load_key(settings.client_key)
        self._kid = settings.client_key_id or key_thumbprint(self._key)
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[str, tuple[str, float]] = {}

    @staticmethod
    def _load_key(path: Path) -> RSAPrivateKey:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load the DOSIS client key {path}: {exc}") from exc
        if not isinstance(key, RSAPrivateKey):
            raise ConfigurationError(f"the DOSIS client key {path} must be an RSA key")
        return key

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self._settings.client_id,
            "sub": self._settings.client_id,
            "aud": self._settings.token_url,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 120,
        }
        return jwt.encode(claims, self._key, algorithm="RS256",
                          headers={"kid": self._kid, "typ": None})

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        assert self._session is not None, "DosisClient.open() first"
        try:
            async with self._session.request(method, url, **kwargs) as reply:
                text = await reply.text()
                try:
                    body: Any = json.loads(text) if text.strip() else None
                except ValueError:
                    body = text[:500]
                return reply.status, body
        except TimeoutError as exc:
            raise BackendTimeout(f"DOSIS did not answer in time ({url})") from exc
        except aiohttp.ClientError as exc:
            raise BackendError(f"DOSIS transport error: {type(exc).__name__}: {exc}") from exc

    async def _bearer(self, scope: str, *, renew: bool = False) -> str:
        cached = self._tokens.get(scope)
        if cached and not renew and time.monotonic() < cached[1]:
            return cached[0]
        status, body = await self._request("POST", self._settings.token_url, data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": _ASSERTION_TYPE,
            "client_assertion": self._assertion(),
        })
        if status >= 500 or status == 429:
            raise BackendError(f"DOSIS token endpoint answered HTTP {status}")
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            raise ConfigurationError(f"DOSIS refused our client credentials (HTTP {status}, "
                                     f"{error or 'no access_token'})")
        token = str(body["access_token"])
        expires_in = body.get("expires_in")
        # Without expires_in every call fetches a new token, as the public client does [F10].
        valid_until = (time.monotonic() + max(float(expires_in) - _REFRESH_BEFORE_S,
                                              float(expires_in) / 2)
                       if isinstance(expires_in, int | float) else 0.0)
        self._tokens[scope] = (token, valid_until)
        return token

    async def _authorised(self, method: str, path: str, scope: str,
                          **kwargs: Any) -> tuple[int, Any]:
        if self._gate is None:
            return await self._authorised_call(method, path, scope, **kwargs)
        async with self._gate.call():
            return await self._authorised_call(method, path, scope, **kwargs)

    async def _authorised_call(self, method: str, path: str, scope: str,
                               **kwargs: Any) -> tuple[int, Any]:
        url = self._settings.dosis_url.rstrip("/") + path
        for renew in (False, True):
            token = await self._bearer(scope, renew=renew)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            status, body = await self._request(method, url, headers=headers, **kwargs)
            if status == 401 and not renew:
                continue  # a token the service no longer knows: fetch a new one once
            if status == 401:
                raise ConfigurationError(f"DOSIS keeps refusing our token ({url})")
            if status >= 500 or status == 429:
                raise BackendError(f"DOSIS answered HTTP {status} ({url})",
                                   details={"status": status, "body": body})
            return status, body
        raise AssertionError("unreachable")

    async def push_dossier(self, payload: dict[str, Any]) -> str:
        """Upload one dossier status; the UploadId DOSIS confirmed, or an error."""
        path = self._settings.upload_path
        status, body = await self._authorised("POST", path, self._settings.scope, json=payload)
        return self._accepted(status, body, path, "UploadId", "Status")

    async def push_notification(self, bundle: dict[str, Any]) -> None:
        path = self._settings.notifications_path
        status, body = await self._authorised(
            "POST", path, self._settings.notifications_scope, json=bundle)
        self._accepted(status, body, path, "Id")

    def _accepted(self, status: int, body: Any, path: str, key: str, *also: str) -> str:
        if status == 404:
            raise EndpointNotFound(f"DOSIS answered 404 on {path}: is the path right?",
                                   details={"path": path, "body": body})
        if status >= 400:
            raise PayloadRefused(f"DOSIS refused the request (HTTP {status})",
                                 details={"status": status, "body": body})
        if not (200 <= status < 300) or not isinstance(body, dict) \
                or not all(isinstance(body.get(k), str) for k in (key, *also)):
            raise UnexpectedAnswer(f"DOSIS answered HTTP {status} without the documented body",
                                   details={"status": status, "body": body})
        return str(body[key])

    async def upload_result(self, upload_id: str) -> dict[str, Any] | None:
        """The processing result of an upload; None while DOSIS has none yet (404) [F58]."""
        status, body = await self._authorised(
            "GET", self._settings.result_path, self._settings.scope,
            params={"uploadId": upload_id},
        )
        if status == 404:
            return None
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("Succes"),
                                                                           bool):
            raise UnexpectedAnswer(f"DOSIS read-back answered HTTP {status} without Succes",
                                   details={"status": status, "body": body})
        return body
