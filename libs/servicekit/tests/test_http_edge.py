"""The kit's HTTP edge (issue 9): standard JSON only, error bodies that always serialise,
the browser's defences, offline docs, a complete ``Allow``, trusted proxies, decoded images."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from kontor_servicekit.browser import (
    API_CSP,
    SecurityHeadersMiddleware,
    html_page,
    inline_hashes,
)
from kontor_servicekit.docs import DOCS_ASSETS, install_docs
from kontor_servicekit.errors import (
    PROBLEM_JSON,
    StrictJsonMiddleware,
    install_error_handlers,
    json_violations,
    problem_response,
    serialisable,
)
from kontor_servicekit.images import NotAnImage, decode_image
from kontor_servicekit.runner import uvicorn_options
from kontor_servicekit.service import ServiceDefinition, api_path_prefixes
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.testing import sample_image
from PIL import Image
from pydantic import BaseModel

pytestmark = pytest.mark.unit


class Item(BaseModel):
    name: str
    price: float


def make_app() -> tuple[FastAPI, list[str]]:
    app = FastAPI(docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(StrictJsonMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    install_docs(app)
    calls: list[str] = []

    @app.post("/items")
    async def create(item: Item) -> dict[str, str]:
        calls.append(item.name)
        return {"name": item.name}

    included = APIRouter()  # a route of an included router answers the same path

    @included.get("/items")
    async def page() -> dict[str, int]:
        return {"count": len(calls)}

    app.include_router(included)

    @app.patch("/items/{item_id}")
    async def change(item_id: str, request: Request) -> dict[str, int]:
        calls.append(item_id)
        return {"size": len(await request.body())}

    @app.get("/page")
    async def html() -> object:
        return html_page("<p>x</p><script>document.title = 'ok';</script><style>p{}</style>")

    return app, calls


async def call(app: FastAPI, method: str, url: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kontor") as client:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]


HOSTILE = [
    ('{"name": "a", "price": NaN}', "/price", "json_finite"),
    ('{"name": "a", "price": Infinity}', "/price", "json_finite"),
    ('{"name": "a", "price": -Infinity}', "/price", "json_finite"),
    ('{"name": "a", "price": 1e400}', "/price", "json_finite"),
    ('{"name": "\\ud800", "price": 1}', "/name", "json_unicode"),
    ('{"name": "ok\\udfff", "price": 1}', "/name", "json_unicode"),
    ('{"name": "a", "price": 1, "x\\ud800": 1}', "/x\\ud800", "json_unicode"),
    ('[{"a": [1, {"b/c": NaN}]}]', "/0/a/1/b~1c", "json_finite"),
]


@pytest.mark.parametrize(("body", "pointer", "kind"), HOSTILE)
async def test_non_standard_json_is_refused_before_the_handler(
    body: str, pointer: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, calls = make_app()
    with caplog.at_level(logging.INFO):
        response = await call(
            app, "POST", "/items", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert (problem["title"], problem["instance"]) == ("Bad Request", "/items")
    assert [(e["pointer"], e["type"]) for e in problem["errors"]] == [(pointer, kind)]
    assert calls == []
    records = [r for r in caplog.records if r.name.startswith("kontor_servicekit")]
    assert len(records) == 1  # one short line, no traceback
    assert records[0].exc_info is None
    assert records[0].getMessage().startswith("refused non-standard JSON: POST /items")


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/merge-patch+json; charset=utf-8"]
)
async def test_every_body_fastapi_reads_as_json_is_checked(content_type: str | None) -> None:
    app, calls = make_app()
    headers = {"content-type": content_type} if content_type else {}
    response = await call(app, "PATCH", "/items/7", content=b'{"a": NaN}', headers=headers)
    assert response.status_code == 400
    assert calls == []


async def test_other_bodies_standard_json_and_malformed_json_pass_as_before() -> None:
    app, calls = make_app()
    text = await call(
        app, "PATCH", "/items/7", content=b"NaN \xff", headers={"content-type": "text/plain"}
    )
    assert text.status_code == 200
    fine = await call(app, "POST", "/items", json={"name": "ok \u00e4\U0001f600", "price": 1.5})
    assert fine.status_code == 200
    assert calls == ["7", "ok \u00e4\U0001f600"]
    malformed = await call(
        app, "POST", "/items", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["type"] == "json_invalid"


async def test_a_body_that_is_not_utf8_is_refused() -> None:
    app, calls = make_app()
    response = await call(
        app,
        "POST",
        "/items",
        content=b'{"name": "\xff", "price": 1}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "json_utf8"
    assert calls == []


def test_violations_of_standard_json() -> None:
    assert json_violations(b'{"a": 1.5, "b": "\\u00e4", "c": [true, null, 1e308]}') == []
    assert json_violations(b"{not json") is None
    assert json_violations(b"\xef\xbb\xbf{}") == []  # a BOM is tolerated (RFC 8259 8.1)


def test_an_error_body_always_serialises() -> None:
    assert serialisable({"a": float("nan"), "b": "x\ud800", "c": (1, object)}) == {
        "a": "nan",
        "b": "x\\ud800",
        "c": [1, "<class 'object'>"],
    }
    response = problem_response(
        422, extra={"errors": [{"input": float("inf")}, {"input": "\udc00"}]}
    )
    assert response.body == (
        b'{"type":"about:blank","title":"Unprocessable Entity","status":422,'
        b'"errors":[{"input":"inf"},{"input":"\\\\udc00"}]}'
    )


async def test_every_response_carries_the_browser_defences() -> None:
    app, _ = make_app()
    for response in (
        await call(app, "GET", "/items"),
        await call(app, "POST", "/items", json={"name": 1}),
        await call(app, "GET", "/nowhere"),
    ):
        assert response.headers["content-security-policy"] == API_CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_an_html_page_allows_exactly_its_inline_blocks_by_hash() -> None:
    app, _ = make_app()
    response = await call(app, "GET", "/page")
    policy = response.headers["content-security-policy"]
    script = hashlib.sha256(b"document.title = 'ok';").digest()
    assert f"script-src 'self' 'sha256-{base64.b64encode(script).decode()}'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "'unsafe-eval'" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert inline_hashes('<script src="/a.js"></script>', "script") == []


async def test_docs_are_served_from_the_package_and_reference_no_other_origin() -> None:
    app, _ = make_app()
    docs = await call(app, "GET", "/docs")
    assert docs.status_code == 200
    page = docs.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page), page
    assert "validatorUrl" in page and '"validatorUrl": null' in page
    referenced = re.findall(r"(?:src|href)=\"([^\"]+)\"", page)
    assert sorted(referenced) == [
        "/docs/static/favicon.png",
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/swagger-ui.css",
    ]
    for url in referenced:
        asset = await call(app, "GET", url)
        assert asset.status_code == 200
        assert asset.content == (DOCS_ASSETS / url.rsplit("/", 1)[1]).read_bytes()
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "https:" not in policy and "*" not in policy
    redoc = await call(app, "GET", "/redoc")
    assert redoc.status_code == 200
    assert "fonts.googleapis" not in redoc.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", redoc.text)


async def test_405_lists_every_method_of_the_path() -> None:
    app, _ = make_app()
    response = await call(app, "DELETE", "/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == PROBLEM_JSON
    one = await call(app, "GET", "/items/3")
    assert (one.status_code, one.headers["allow"]) == (405, "PATCH")


def test_forwarded_headers_are_trusted_only_from_configured_proxies() -> None:
    none = uvicorn.Config(app=FastAPI(), **uvicorn_options(ServiceSettings()))
    assert none.proxy_headers is False  # uvicorn's default trusts 127.0.0.1
    some = uvicorn.Config(
        app=FastAPI(),
        **uvicorn_options(ServiceSettings(trusted_proxies="10.0.0.0/8, ,192.168.1.1")),
    )
    assert some.proxy_headers is True
    assert some.forwarded_allow_ips == ["10.0.0.0/8", "192.168.1.1"]


def test_the_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KONTOR_TRUSTED_PROXIES", "10.42.0.0/16")
    assert ServiceSettings().trusted_proxies == "10.42.0.0/16"


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp"])
def test_a_decoded_image_is_kept_reencoded_without_metadata(content_type: str) -> None:
    sent = sample_image(content_type, (5, 4), comment="GPS 52.52,13.40 serial 0815")
    image = decode_image(sent + b"<html><script>alert(1)</script>")
    assert (image.content_type, image.width, image.height) == (content_type, 5, 4)
    assert b"GPS" not in image.data and b"<html>" not in image.data
    assert decode_image(image.data).data == image.data  # the stored copy decodes


def test_a_phone_jpeg_with_more_pictures_is_a_jpeg() -> None:
    first, second = Image.new("RGB", (5, 4), (200, 0, 0)), Image.new("RGB", (5, 4))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])  # as phones write them
    image = decode_image(out.getvalue())
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 5, 4)
    assert Image.open(io.BytesIO(image.data)).format == "JPEG"  # the first picture only


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    out = io.BytesIO()
    Image.new("1", (8_000, 6_000)).save(out, "PNG")  # 48 megapixels in a few kB
    assert len(out.getvalue()) < 100_000
    with pytest.raises(NotAnImage, match="8000 x 6000 pixels"):
        decode_image(out.getvalue())


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n<html><body>hello</body></html>",
        b"\x89PNG\r\n\x1a\n1234567",
        b"\xff\xd8\xff\xe0" + bytes(64),
        b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(100),
        sample_image("image/png")[:40],
    ],
)
def test_bytes_that_only_start_like_an_image_are_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage, match="that decodes"):
        decode_image(data)


def _definition(*paths: str) -> ServiceDefinition:
    router = APIRouter()
    for path in paths:
        router.add_api_route(path, lambda: None, methods=["GET"])
    return ServiceDefinition(
        settings=ServiceSettings(), title="t", description="d", routers=[router]
    )


def test_the_ingress_prefixes_are_the_first_segments_of_the_api_routes() -> None:
    definition = _definition("/products", "/products/{sku}/images", "/stock/receipts")
    assert api_path_prefixes(definition) == ["/admin", "/products", "/stock"]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/{anything}", "has no fixed first segment"),
        ("/", "has no fixed first segment"),
        ("/health/deep", "would expose"),
        ("/docs", "would expose"),
    ],
)
def test_a_prefix_that_would_expose_operations_is_refused(path: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        api_path_prefixes(_definition("/products", path))


async def test_redocs_bundle_is_served_without_its_cdn_logo() -> None:
    """ReDoc's bundle draws a logo from cdn.redoc.ly, which the page's policy refuses
    (the browser tier saw the violation): the kit's copy asks for a ``data:`` image."""
    app, _ = make_app()
    shipped = (DOCS_ASSETS / "redoc.standalone.js").read_bytes()
    assert b"https://cdn.redoc.ly/" in shipped
    served = await call(app, "GET", "/docs/static/redoc.standalone.js")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert b"cdn.redoc.ly" not in served.content
    assert len(served.content) == len(shipped) - len("https://cdn.redoc.ly/redoc/logo-mini.svg") + 6
