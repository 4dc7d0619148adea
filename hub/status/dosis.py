"""The DOSIS REST client: OAuth2 client credentials with a signed-JWT client assertion.

A token is fetched with a fresh assertion (RS256, ``jti`` never reused) and kept until shortly
before it expires. Errors are typed: the service down or slow is transient; a 400 means our
payload was refused and no retry can fix it.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization

from hub.config import StatusSettings
from hub.errors import BackendError, BackendTimeout, ConfigurationError, OurFault

__all__ = ["DosisClient", "PayloadRefused"]

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class PayloadRefused(OurFault):
    """DOSIS refused the payload synchronously (400): a mapping or configuration problem."""

    default_code = "STATUS_PAYLOAD_REFUSED"


class DosisClient:
    def __init__(self, settings: StatusSettings) -> None:
        self._settings = settings
        self._key = self._load_key(settings.client_key)
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_expires = 0.0

    @staticmethod
    def _load_key(path: Path) -> Any:
        try:
            return serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load the DOSIS client key {path}: {exc}") from exc

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
        return jwt.encode(claims, self._key, algorithm="RS256")

    async def _request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        assert self._session is not None, "DosisClient.open() first"
        try:
            async with self._session.request(method, url, **kwargs) as reply:
                body: Any = await reply.json(content_type=None) if reply.content_length != 0 \
                    else None
                return reply.status, body
        except TimeoutError as exc:
            raise BackendTimeout(f"DOSIS did not answer in time ({url})") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise BackendError(f"DOSIS transport error: {type(exc).__name__}: {exc}") from exc

    async def _bearer(self, *, renew: bool = False) -> str:
        if self._token and not renew and time.monotonic() < self._token_expires:
            return self._token
        status, body = await self._request("POST", self._settings.token_url, data={
            "grant_type": "client_credentials",
            "client_assertion_type": _ASSERTION_TYPE,
            "client_assertion": self._assertion(),
            "scope": self._settings.scope,
        })
        if status >= 500:
            raise BackendError(f"DOSIS token endpoint answered HTTP {status}")
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise ConfigurationError(f"DOSIS refused our client credentials: {body}")
        self._token = str(body["access_token"])
        # Renew a little early so a token never expires in flight.
        self._token_expires = time.monotonic() + max(float(body.get("expires_in", 60)) - 30, 5)
        return self._token

    async def _authorised(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self._settings.dosis_url.rstrip("/") + path
        for renew in (False, True):
            token = await self._bearer(renew=renew)
            status, body = await self._request(
                method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
            if status == 401 and not renew:
                continue  # a token the service no longer knows: fetch a new one once
            if status >= 500 or status == 429:
                raise BackendError(f"DOSIS answered HTTP {status}", details={"body": body})
            if status == 404:
                return None
            if status >= 400:
                raise PayloadRefused(f"DOSIS refused the request (HTTP {status}): {body}",
                                     details={"body": body})
            return body
        raise ConfigurationError("DOSIS keeps refusing our token")

    async def push_dossier(self, payload: dict[str, Any]) -> None:
        await self._authorised("POST", "/api/v2/dosis/dossiers", json=payload)

    async def push_notification(self, bundle: dict[str, Any]) -> None:
        await self._authorised("POST", "/api/v2/notificaties", json=bundle)

    async def upload_result(self, upload_id: str) -> dict[str, Any] | None:
        body = await self._authorised(
            "GET", "/api/v1/dosis/resultaten/perUploadId", params={"uploadId": upload_id}
        )
        return body if isinstance(body, dict) else None
