"""Bearer JWT verification and scope checks, against a small FastAPI app.

Tokens are minted with the local issuer (``kontor_local.tokens``), as in every test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from kontor_local.tokens import generate_keypair, mint_token
from kontor_servicekit.auth import (
    Authenticator,
    AuthError,
    AuthSettings,
    Principal,
    all_scopes,
    install_authenticator,
    require_scope,
)
from kontor_servicekit.errors import PROBLEM_JSON, install_error_handlers

pytestmark = pytest.mark.unit

ISSUER = "kontor-test"
AUDIENCE = "kontor"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


def make_app(public_key_pem: str | None) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    install_error_handlers(app)
    install_authenticator(app, AuthSettings(public_key_pem, issuer=ISSUER, audience=AUDIENCE))
    calls: list[str] = []

    @app.get("/products")
    async def read(
        principal: Annotated[Principal, Depends(require_scope("catalog:read"))],
    ) -> dict[str, str]:
        calls.append("read")
        return {"subject": principal.subject}

    @app.post("/products", dependencies=[Depends(require_scope("catalog:write"))])
    async def write() -> dict[str, bool]:
        calls.append("write")
        return {"ok": True}

    return app, calls


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def token(
    private_pem: str,
    scopes: list[str],
    *,
    subject: str = "kontor-local-admin",
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    ttl: timedelta = timedelta(minutes=5),
) -> str:
    return mint_token(
        private_pem, scopes=scopes, subject=subject, issuer=issuer, audience=audience, ttl=ttl
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_all_scopes_covers_every_service_and_action() -> None:
    scopes = all_scopes()
    assert scopes[:3] == ["catalog:read", "catalog:write", "catalog:admin"]
    assert len(scopes) == 20  # 6 services x 3 actions, privacy:admin and billing:tax (issue 13)
    assert "analytics:admin" in scopes
    assert scopes[-2:] == ["privacy:admin", "billing:tax"]


def test_billing_admin_does_not_imply_the_tax_scope() -> None:
    from kontor_servicekit.auth import _implied_scopes

    assert "billing:tax" not in _implied_scopes(["billing:admin"])


async def test_good_token_passes_and_reaches_handler(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, calls = make_app(public_pem)
    async with client(app) as http:
        response = await http.get(
            "/products", headers=bearer(token(private_pem, ["catalog:read"], subject="bob"))
        )
    assert response.status_code == 200
    assert response.json() == {"subject": "bob"}
    assert calls == ["read"]


async def test_missing_token_is_401_with_bearer_challenge(keys: tuple[str, str]) -> None:
    app, calls = make_app(keys[1])
    async with client(app) as http:
        response = await http.get("/products")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401
    assert calls == []


async def test_expired_token_is_401_invalid_token(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, calls = make_app(public_pem)
    expired = token(private_pem, ["catalog:read"], ttl=timedelta(minutes=-5))
    async with client(app) as http:
        response = await http.get("/products", headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "expired" in response.json()["detail"]
    assert calls == []


async def test_wrong_audience_is_401(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, _ = make_app(public_pem)
    async with client(app) as http:
        response = await http.get(
            "/products", headers=bearer(token(private_pem, ["catalog:read"], audience="other"))
        )
    assert response.status_code == 401
    assert "audience" in response.json()["detail"]


async def test_wrong_issuer_is_401(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, _ = make_app(public_pem)
    async with client(app) as http:
        response = await http.get(
            "/products", headers=bearer(token(private_pem, ["catalog:read"], issuer="evil"))
        )
    assert response.status_code == 401
    assert "issuer" in response.json()["detail"]


async def test_token_signed_with_another_key_is_401(keys: tuple[str, str]) -> None:
    other_private, _ = generate_keypair()
    app, calls = make_app(keys[1])
    async with client(app) as http:
        response = await http.get(
            "/products", headers=bearer(token(other_private, ["catalog:admin"]))
        )
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]
    assert calls == []


async def test_unsigned_token_is_rejected(keys: tuple[str, str]) -> None:
    forged = jwt.encode(
        {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "scope": "catalog:read"},
        key="",
        algorithm="none",
    )
    app, calls = make_app(keys[1])
    async with client(app) as http:
        response = await http.get("/products", headers=bearer(forged))
    assert response.status_code == 401
    assert calls == []


async def test_missing_scope_is_403_problem_json(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, calls = make_app(public_pem)
    async with client(app) as http:
        response = await http.post(
            "/products", headers=bearer(token(private_pem, ["catalog:read", "orders:admin"]))
        )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="catalog:write"'
    )
    body = response.json()
    assert body["status"] == 403
    assert body["instance"] == "/products"
    assert calls == []


async def test_admin_implies_write_and_read_on_the_same_service(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    app, calls = make_app(public_pem)
    headers = bearer(token(private_pem, ["catalog:admin"]))
    async with client(app) as http:
        assert (await http.post("/products", headers=headers)).status_code == 200
        assert (await http.get("/products", headers=headers)).status_code == 200
    assert calls == ["write", "read"]


async def test_without_public_key_every_request_is_rejected(keys: tuple[str, str]) -> None:
    app, calls = make_app(None)
    async with client(app) as http:
        response = await http.get("/products", headers=bearer(token(keys[0], ["catalog:read"])))
    assert response.status_code == 401
    assert "no token verification key" in response.json()["detail"]
    assert calls == []


def test_verify_raises_auth_error_directly(keys: tuple[str, str]) -> None:
    authenticator = Authenticator(AuthSettings(keys[1], issuer=ISSUER, audience=AUDIENCE))
    with pytest.raises(AuthError) as caught:
        authenticator.verify("not-a-jwt")
    assert caught.value.status == 401
    principal = authenticator.verify(token(keys[0], ["billing:write"]))
    assert principal.scopes == {"billing:write", "billing:read"}


async def test_rs256_public_key_is_accepted() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    encoded = token(private_pem, ["catalog:read"])
    assert jwt.get_unverified_header(encoded)["alg"] == "RS256"
    app, calls = make_app(public_pem)
    async with client(app) as http:
        response = await http.get("/products", headers=bearer(encoded))
    assert response.status_code == 200
    assert calls == ["read"]


def test_openapi_declares_bearer_scheme(keys: tuple[str, str]) -> None:
    app, _ = make_app(keys[1])
    schema = app.openapi()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/products"]["post"]["security"] == [{"bearer": []}]
