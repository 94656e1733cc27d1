"""The local token issuer: key pairs and signed access tokens for one machine and tests.

In production an identity provider issues the tokens; a service only verifies them
(:mod:`kontor_servicekit.auth`, with the public key). This module holds the private
side, so it lives in the local runtime, which no service image installs:
``make token``, ``kontor-local run`` (which writes the public key the services read)
and the test helpers (``kontor_servicekit.testing``) use it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kontor_servicekit.auth import algorithm_for

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "generate_keypair",
    "load_or_create_keys",
    "mint_token",
    "public_key_from_private",
    "write_keypair",
]

PRIVATE_KEY_FILE = "jwt-private.pem"
PUBLIC_KEY_FILE = "jwt-public.pem"


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
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    algorithm = algorithm_for(private_key)
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
