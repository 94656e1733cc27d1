"""Bearer JWTs with per-service scopes, signed asymmetrically.

The issuer (the local runtime, or an identity provider in production) holds the
private key; a service holds only the public key and can verify but never mint.
ES256 (ECDSA P-256) is the default; RS256 keys are accepted too. The algorithm is
taken from the key type, never from the token header, so a token cannot choose a
weaker algorithm than the key was made for.

Scopes are ``<service>:<action>`` with the actions ``read`` < ``write`` < ``admin``:
a higher action on a service implies the lower ones (``catalog:admin`` satisfies
``require_scope("catalog:read")``).

A service with no public key configured rejects every request (fail closed).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import Forbidden, ProblemError, Unauthorized

__all__ = [
    "ACTIONS",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "SERVICES",
    "AuthError",
    "AuthSettings",
    "Authenticator",
    "Principal",
    "all_scopes",
    "bearer_scheme",
    "generate_keypair",
    "install_authenticator",
    "load_or_create_keys",
    "load_public_key",
    "mint_token",
    "public_key_from_private",
    "require_scope",
    "scoped_router",
    "write_keypair",
]

SERVICES = ("catalog", "orders", "billing", "support", "marketing", "analytics")
ACTIONS = ("read", "write", "admin")
PRIVATE_KEY_FILE = "jwt-private.pem"
PUBLIC_KEY_FILE = "jwt-public.pem"

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def all_scopes() -> list[str]:
    """Every scope: ``catalog:read``, ``catalog:write``, ``catalog:admin``, ``orders:read``, ..."""
    return [f"{service}:{action}" for service in SERVICES for action in ACTIONS]


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


def generate_keypair() -> tuple[str, str]:
    """A fresh ES256 key pair as (private PEM in PKCS#8, public PEM in SPKI)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return private_pem, public_key_from_private(private_pem)


def public_key_from_private(private_key_pem: str) -> str:
    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )


def _link_new_file(path: Path, content: str, mode: int) -> bool:
    """Atomically create ``path`` with ``content`` and ``mode``; False if it exists."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def write_keypair(directory: Path) -> tuple[Path, Path]:
    """Create ``jwt-private.pem`` (0600) and ``jwt-public.pem`` in ``directory`` if missing.

    Existing keys are kept, so this is safe to run on every start; a missing public
    key is derived from an existing private key. A public key without its private
    key is an error (a new private key could not match it). Returns (private, public).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / PRIVATE_KEY_FILE
    public_path = directory / PUBLIC_KEY_FILE
    if not private_path.exists():
        if public_path.exists():
            raise FileExistsError(
                f"{public_path} exists but {private_path} does not; restore the private "
                "key or remove the public key to create a new pair"
            )
        private_pem, _ = generate_keypair()
        _link_new_file(private_path, private_pem, 0o600)  # loses a race: keep the winner
    if not public_path.exists():
        private_pem = private_path.read_text(encoding="ascii")
        _link_new_file(public_path, public_key_from_private(private_pem), 0o644)
    return private_path, public_path


def load_or_create_keys(directory: Path) -> tuple[str, str]:
    """(private PEM, public PEM) from ``directory``, creating them on first use."""
    private_path, public_path = write_keypair(Path(directory))
    private_pem = private_path.read_text(encoding="ascii")
    public_pem = public_path.read_text(encoding="ascii")
    if public_key_from_private(private_pem).strip() != public_pem.strip():
        raise ValueError(f"{public_path} does not belong to {private_path}")
    return private_pem, public_pem


def load_public_key(pem: str | None = None, path: Path | None = None) -> str | None:
    """The public key from an inline PEM or a file (inline wins); None if neither is set."""
    if pem:
        return pem
    if path is not None:
        return Path(path).read_text(encoding="ascii")
    return None


def _algorithm_for(key: object) -> str:
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


# --------------------------------------------------------------------------- tokens


def mint_token(
    private_key_pem: str,
    *,
    scopes: Iterable[str],
    subject: str = "kontor-local-admin",
    issuer: str = "kontor-local",
    audience: str = "kontor",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A signed access token; ``scope`` is space-separated as in OAuth 2 (RFC 8693 §4.2)."""
    scope_list = list(dict.fromkeys(scopes))
    for scope in scope_list:
        if not scope or any(ch.isspace() for ch in scope):
            raise ValueError(f"invalid scope {scope!r}")
    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    algorithm = _algorithm_for(private_key)
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "scope": " ".join(scope_list),
    }
    return jwt.encode(claims, private_key, algorithm=algorithm)  # type: ignore[arg-type]


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
            self._algorithm = _algorithm_for(key)
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
