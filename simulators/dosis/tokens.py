"""OAuth2 client credentials with a signed-JWT client assertion (private_key_jwt, RFC 7523).

Pure logic, no HTTP: :class:`TokenService` checks assertions, hands out opaque bearer tokens and
checks them on every API call.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = [
    "ASSERTION_TYPE",
    "KNOWN_SCOPES",
    "MAX_ASSERTION_LIFETIME_S",
    "SCOPE_DOSSIERS",
    "SCOPE_NOTIFICATIONS",
    "AccessToken",
    "BearerError",
    "OAuthError",
    "TokenService",
    "load_client_keys",
]

SCOPE_DOSSIERS = "DosisImport"
SCOPE_NOTIFICATIONS = "Notificaties"
KNOWN_SCOPES = (SCOPE_DOSSIERS, SCOPE_NOTIFICATIONS)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME_S = 600
"""An assertion whose ``exp`` lies further ahead is refused: it would be a long-lived secret."""


class OAuthError(Exception):
    """A refused token request; ``error`` is the RFC 6749 §5.2 code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class BearerError(Exception):
    """A refused API call: ``status`` 401 (no usable token) or 403 (token lacks ``scope``)."""

    def __init__(self, status: int, message: str, scope: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.scope = scope


@dataclass(frozen=True)
class AccessToken:
    """An issued bearer token; ``expires_at`` is on the monotonic clock."""

    value: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(frozen=True)
class _Checked:
    client_id: str
    jti: str
    exp: float


def load_client_keys(clients: Mapping[str, Path]) -> dict[str, RSAPublicKey]:
    """Each client's RSA public key from its PEM certificate; fails at start-up, not per call."""
    keys: dict[str, RSAPublicKey] = {}
    for client_id, path in clients.items():
        key = x509.load_pem_x509_certificate(path.read_bytes()).public_key()
        if not isinstance(key, RSAPublicKey):
            raise ValueError(f"{path}: the certificate of {client_id!r} must hold an RSA key")
        keys[client_id] = key
    return keys


class TokenService:
    """Known clients, issued tokens and the assertion ids (jti) already used."""

    def __init__(
        self,
        keys: Mapping[str, RSAPublicKey],
        ttl_s: int,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        kids: Mapping[str, str] | None = None,
        scopes: tuple[str, ...] = KNOWN_SCOPES,
    ) -> None:
        self._keys = dict(keys)
        self._kids = dict(kids or {})
        self._known_scopes = scopes
        self._ttl_s = ttl_s
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._tokens: dict[str, AccessToken] = {}
        self._seen_jti: dict[tuple[str, str], float] = {}

    @property
    def clients(self) -> list[str]:
        """The known client ids."""
        return sorted(self._keys)

    def issue(self, form: Mapping[str, str], audience: str) -> dict[str, Any]:
        """Answer a token request (its form fields) addressed to ``audience``, or raise."""
        if form.get("grant_type") != "client_credentials":
            if "grant_type" not in form:
                raise OAuthError("invalid_request", "grant_type ontbreekt")
            raise OAuthError("unsupported_grant_type", "alleen client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_client", f"client_assertion_type moet {ASSERTION_TYPE} zijn")
        assertion = form.get("client_assertion")
        if not assertion:
            raise OAuthError("invalid_client", "client_assertion ontbreekt")
        checked = self._verify(assertion, audience, form.get("client_id"))
        scopes = self._scopes(form.get("scope", ""))
        # Remembered only once everything else passed: a refused request does not burn the jti.
        self._seen_jti[(checked.client_id, checked.jti)] = checked.exp
        token = AccessToken(secrets.token_urlsafe(32), checked.client_id, scopes,
                            self._monotonic() + self._ttl_s)
        self._tokens[token.value] = token
        # The answer as the public client's tests show it [F09].
        return {
            "access_token": token.value,
            "token_type": "bearer",
            "expires_in": self._ttl_s,
        }

    def _verify(
        self, assertion: str, audience: str, form_client_id: str | None
    ) -> _Checked:
        """The facts of a valid assertion not used before."""
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError as exc:
            raise OAuthError("invalid_client", f"client_assertion is geen JWT: {exc}") from exc
        client_id = unverified.get("iss")
        if not isinstance(client_id, str) or client_id not in self._keys:
            raise OAuthError("invalid_client", f"onbekende client {client_id!r}")
        if unverified.get("sub") != client_id:
            raise OAuthError("invalid_client", "sub moet gelijk zijn aan iss (de client_id)")
        if form_client_id is not None and form_client_id != client_id:
            raise OAuthError("invalid_client", "client_id verschilt van iss in de assertion")
        # The key is found by the kid of the JWK registered in the admin site [F08, F12].
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise OAuthError("invalid_client", "de JWS-header mist kid")
        if client_id in self._kids and kid != self._kids[client_id]:
            raise OAuthError("invalid_client", f"onbekende kid {kid!r} voor {client_id}")
        try:
            claims = jwt.decode(
                assertion,
                self._keys[client_id],
                algorithms=["RS256"],
                audience=audience,
                issuer=client_id,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise OAuthError("invalid_client", "client_assertion is verlopen (exp)") from exc
        except jwt.InvalidAudienceError as exc:
            raise OAuthError("invalid_client", f"aud moet {audience} zijn") from exc
        except jwt.InvalidSignatureError as exc:
            raise OAuthError(
                "invalid_client", "handtekening past niet bij het certificaat van de client"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise OAuthError("invalid_client", f"client_assertion ongeldig: {exc}") from exc
        now = self._wall_clock()
        exp = float(claims["exp"])
        if exp > now + MAX_ASSERTION_LIFETIME_S:
            raise OAuthError(
                "invalid_client",
                f"exp ligt meer dan {MAX_ASSERTION_LIFETIME_S} s in de toekomst",
            )
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise OAuthError("invalid_client", "jti moet een niet-lege tekst zijn")
        self._forget_expired_jti(now)
        if (client_id, jti) in self._seen_jti:
            raise OAuthError("invalid_client", "jti al gebruikt: replay geweigerd")
        return _Checked(client_id, jti, exp)

    def _forget_expired_jti(self, now: float) -> None:
        # An expired assertion fails on exp anyway, so its jti no longer needs remembering.
        for key, exp in list(self._seen_jti.items()):
            if exp < now:
                del self._seen_jti[key]

    def _scopes(self, requested: str) -> tuple[str, ...]:
        known = self._known_scopes
        scopes = tuple(dict.fromkeys(requested.split()))
        if not scopes:
            raise OAuthError("invalid_scope", f"scope ontbreekt; bekend: {' '.join(known)}")
        unknown = [scope for scope in scopes if scope not in known]
        if unknown:
            raise OAuthError("invalid_scope", f"onbekende scope: {' '.join(unknown)}")
        return scopes

    def authorize(self, authorization: str | None, scope: str) -> AccessToken:
        """The token an ``Authorization`` header carries, if valid and holding ``scope``."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise BearerError(401, "Authorization: Bearer <token> ontbreekt")
        token = self._tokens.get(value.strip())
        if token is None:
            raise BearerError(401, "onbekend token")
        if self._monotonic() >= token.expires_at:
            del self._tokens[token.value]
            raise BearerError(401, "token verlopen")
        if scope not in token.scopes:
            raise BearerError(403, f"token heeft scope {scope} niet", scope)
        return token

    def forget_tokens(self) -> int:
        """Drop every issued token (as if all expired); return how many there were."""
        count = len(self._tokens)
        self._tokens.clear()
        return count

    def clear(self) -> int:
        """Forget tokens and used assertion ids; return how many tokens there were."""
        self._seen_jti.clear()
        return self.forget_tokens()
