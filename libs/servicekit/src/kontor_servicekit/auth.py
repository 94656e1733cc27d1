"""Bearer JWTs with per-service scopes, signed asymmetrically.

The issuer (the local runtime, or an identity provider in production) holds the
private key; a service holds only the public key and can verify but never mint.
Key generation and minting live in the local runtime (``kontor_local.tokens``),
which no service image contains.

ES256 (ECDSA P-256) is the default; RS256 keys are accepted too. The algorithm is
taken from the key type, never from the token header, so a token cannot choose a
weaker algorithm than the key was made for.

Scopes are ``<service>:<action>`` with the actions ``read`` < ``write`` < ``admin``:
a higher action on a service implies the lower ones (``catalog:admin`` satisfies
``require_scope("catalog:read")``).

A service with no public key configured rejects every request (fail closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from kontor_contracts.registry import SERVICES as REGISTRY_SERVICES

from .errors import Forbidden, ProblemError, Unauthorized

__all__ = [
    "ACTIONS",
    "CROSS_SERVICE_SCOPES",
    "SERVICES",
    "AuthError",
    "AuthSettings",
    "Authenticator",
    "Principal",
    "algorithm_for",
    "all_scopes",
    "bearer_scheme",
    "install_authenticator",
    "load_public_key",
    "require_scope",
    "scoped_router",
]

SERVICES = REGISTRY_SERVICES
"""The six services (the contract registry keeps the one list)."""
ACTIONS = ("read", "write", "admin")

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


CROSS_SERVICE_SCOPES = ("privacy:admin",)
"""Scopes of work that spans the services: ``privacy:admin`` asks every service for a
customer's data or its erasure (issue 13; the routes are on orders)."""

BILLING_TAX_SCOPE = "billing:tax"
SPECIAL_SCOPES = (BILLING_TAX_SCOPE,)
"""Scopes beside read/write/admin, implied by none of them: ``billing:tax`` reads the
retained tax documents of an erased buyer with their name and address (the tax office,
the tax adviser; issue 13, ADR 0037)."""


def all_scopes() -> list[str]:
    """Every scope: ``catalog:read``, ``catalog:write``, ``catalog:admin``, ``orders:read``,
    ..., then the cross-service ones (``privacy:admin``) and the special ones
    (``billing:tax``)."""
    return [
        *(f"{service}:{action}" for service in SERVICES for action in ACTIONS),
        *CROSS_SERVICE_SCOPES,
        *SPECIAL_SCOPES,
    ]


def _implied_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The granted scopes plus the lower actions each one implies."""
    result: set[str] = set()
    for scope in scopes:
        result.add(scope)
        service, sep, action = scope.rpartition(":")
        if sep and action in ACTIONS:
            for lower in ACTIONS[: ACTIONS.index(action)]:
                result.add(f"{service}:{lower}")
    return frozenset(result)


# --------------------------------------------------------------------------- keys


def load_public_key(pem: str | None = None, path: Path | None = None) -> str | None:
    """The public key from an inline PEM or a file (inline wins); None if neither is set."""
    if pem:
        return pem
    if path is not None:
        return Path(path).read_text(encoding="ascii")
    return None


def algorithm_for(key: object) -> str:
    """The JWS algorithm a key is made for (never the one a token header names)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        algorithm = _EC_ALGORITHMS.get(key.curve.name)
        if algorithm is None:
            raise ValueError(f"unsupported elliptic curve {key.curve.name}")
        return algorithm
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError("RSA keys must have at least 2048 bits")
        return "RS256"
    raise ValueError(f"unsupported key type {type(key).__name__}; use EC P-256 or RSA")


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuthSettings:
    public_key_pem: str | None
    issuer: str
    audience: str
    leeway_s: int = 30


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may do (``scopes`` includes implied lower actions)."""

    subject: str
    scopes: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AuthError(ProblemError):
    """A token was refused: ``AuthError(status, title, detail)``."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail, status=status, title=title)


NO_KEY_DETAIL = (
    "This service has no token verification key configured, so it rejects every request."
)


def _unauthorized(detail: str) -> AuthError:
    return AuthError(401, "Unauthorized", detail)


class Authenticator:
    """Verifies bearer tokens against the one configured public key."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._key: Any = None
        self._algorithm: str | None = None
        if settings.public_key_pem:
            key = serialization.load_pem_public_key(settings.public_key_pem.encode())
            self._algorithm = algorithm_for(key)
            self._key = key

    @property
    def configured(self) -> bool:
        return self._key is not None

    def verify(self, token: str) -> Principal:
        if self._key is None or self._algorithm is None:
            raise _unauthorized(NO_KEY_DETAIL)
        if not token:
            raise _unauthorized("A bearer token is required.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("The token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise _unauthorized("The token is not valid yet.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _unauthorized("The token is not meant for this audience.") from exc
        except jwt.InvalidIssuerError as exc:
            raise _unauthorized("The token was issued by an untrusted issuer.") from exc
        except jwt.InvalidSignatureError as exc:
            raise _unauthorized("The token signature is invalid.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _unauthorized(f"The token lacks the {exc.claim!r} claim.") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise _unauthorized("The token is signed with an unaccepted algorithm.") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized("The token is malformed or invalid.") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise _unauthorized("The token has no subject.")
        raw_scope = claims.get("scope", "")
        if isinstance(raw_scope, str):
            granted = raw_scope.split()
        elif isinstance(raw_scope, list) and all(isinstance(s, str) for s in raw_scope):
            granted = raw_scope
        else:
            raise _unauthorized("The token's scope claim is malformed.")
        return Principal(
            subject=subject,
            scopes=_implied_scopes(granted),
            claims=MappingProxyType(claims),
        )


def install_authenticator(app: FastAPI, settings: AuthSettings) -> Authenticator:
    """Put an :class:`Authenticator` where :func:`require_scope` looks for it."""
    authenticator = Authenticator(settings)
    app.state.authenticator = authenticator
    return authenticator


# --------------------------------------------------------------------------- FastAPI

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token whose `scope` claim holds `<service>:<action>` scopes.",
)


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only callers whose token grants ``scope``.

    Use as ``dependencies=[Depends(require_scope("catalog:write"))]`` or as a
    parameter ``principal: Principal = Depends(require_scope("catalog:read"))``.
    Missing or bad token: 401; valid token without the scope: 403.
    """
    if not scope or any(ch.isspace() or ch == '"' for ch in scope):
        raise ValueError(f"invalid scope {scope!r}")

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Principal:
        authenticator = getattr(request.app.state, "authenticator", None)
        if not isinstance(authenticator, Authenticator):
            raise RuntimeError(
                "app.state.authenticator is not set; call install_authenticator(app, ...)"
            )
        if credentials is None or not credentials.credentials:
            detail = (
                NO_KEY_DETAIL
                if not authenticator.configured
                else "A bearer token is required (Authorization: Bearer <token>)."
            )
            raise Unauthorized(detail, headers={"WWW-Authenticate": "Bearer"})
        try:
            principal = authenticator.verify(credentials.credentials)
        except AuthError as exc:
            raise Unauthorized(
                exc.detail,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from exc
        if not principal.has_scope(scope):
            raise Forbidden(
                f"The token does not grant the scope {scope!r}.",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
                extra={"required_scope": scope},
            )
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_scope[{scope}]"
    return dependency


def scoped_router(scope: str, *, prefix: str, tags: list[str]) -> APIRouter:
    """An ``APIRouter`` every route of which needs ``scope`` (the admin APIs of the kit)."""
    return APIRouter(prefix=prefix, tags=list(tags), dependencies=[Depends(require_scope(scope))])
