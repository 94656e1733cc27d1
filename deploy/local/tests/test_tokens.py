"""The local token issuer: key files, minted claims, and that no service can mint.

The private side of the tokens lives in ``kontor_local.tokens``; a service image
holds neither that package nor anything that imports it.
"""

from __future__ import annotations

import ast
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from kontor_local.tokens import generate_keypair, load_or_create_keys, mint_token, write_keypair
from kontor_servicekit import auth
from kontor_servicekit.auth import Authenticator, AuthSettings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
ISSUER = "kontor-test"
AUDIENCE = "kontor"
MINTING_NAMES = {
    "generate_keypair",
    "load_or_create_keys",
    "mint_token",
    "public_key_from_private",
    "write_keypair",
}
SERVICES = ("catalog", "orders", "billing", "support", "marketing", "analytics")


def _token(private_pem: str, scopes: list[str], subject: str = "kontor-local-admin") -> str:
    return mint_token(private_pem, scopes=scopes, subject=subject, issuer=ISSUER, audience=AUDIENCE)


def test_token_claims_and_es256() -> None:
    private_pem, public_pem = generate_keypair()
    encoded = _token(private_pem, ["catalog:read", "orders:write"], subject="alice")
    assert jwt.get_unverified_header(encoded)["alg"] == "ES256"
    claims = jwt.decode(encoded, public_pem, algorithms=["ES256"], audience=AUDIENCE)
    assert claims["scope"] == "catalog:read orders:write"
    assert claims["sub"] == "alice"
    assert claims["iss"] == ISSUER
    assert {"iat", "nbf", "exp", "jti"} <= claims.keys()


def test_write_keypair_is_idempotent_and_private_key_is_0600(tmp_path: Path) -> None:
    private_path, public_path = write_keypair(tmp_path / "keys")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    first = (private_path.read_text(), public_path.read_text())

    write_keypair(tmp_path / "keys")
    assert (private_path.read_text(), public_path.read_text()) == first

    private_pem, public_pem = load_or_create_keys(tmp_path / "keys")
    assert (private_pem, public_pem) == first
    principal = Authenticator(AuthSettings(public_pem, issuer=ISSUER, audience=AUDIENCE)).verify(
        _token(private_pem, ["support:read"])
    )
    assert principal.subject == "kontor-local-admin"


def test_write_keypair_refuses_public_key_without_private_key(tmp_path: Path) -> None:
    (tmp_path / "jwt-public.pem").write_text(generate_keypair()[1])
    with pytest.raises(FileExistsError):
        write_keypair(tmp_path)


# --------------------------------------------------------------------------- the boundary


def _runtime_modules() -> Iterator[Path]:
    """Every module a service image runs: the services' sources and the kit's (not its
    test helpers, which need pytest and are not in an image)."""
    yield from sorted(REPO.glob("services/*/src/**/*.py"))
    kit = REPO / "libs/servicekit/src/kontor_servicekit"
    yield from sorted(p for p in kit.rglob("*.py") if p.name != "testing.py")


def _minting_imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "kontor_local"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "kontor_local":
                found.append(module)
            found += [f"{module}.{a.name}" for a in node.names if a.name in MINTING_NAMES]
    return found


def test_no_service_or_kit_runtime_module_imports_the_token_issuer() -> None:
    modules = list(_runtime_modules())
    names = {p.relative_to(REPO).as_posix() for p in modules}
    # the scan sees what it must: every service's composition root and the kit's auth
    assert {f"services/{s}/src/kontor_{s}/main.py" for s in SERVICES} <= names
    assert "libs/servicekit/src/kontor_servicekit/auth.py" in names
    offenders = {
        p.relative_to(REPO).as_posix(): imports for p in modules if (imports := _minting_imports(p))
    }
    assert offenders == {}
    assert not MINTING_NAMES & set(dir(auth))  # the verifier cannot mint


def test_a_started_service_app_has_not_loaded_the_token_issuer() -> None:
    code = (
        "import sys\n"
        + "".join(f"import kontor_{s}.main\n" for s in SERVICES)
        + "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'kontor_local')\n"
        + "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
