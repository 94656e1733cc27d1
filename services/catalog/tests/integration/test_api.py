"""The catalog's HTTP behaviour: auth, validation with field paths, limits, operations.

Runs the real app (lifespan, Mongo, Kafka) in-process via ``start_service``. Every
rejected request is followed by a look into the database: nothing was stored.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import jsonschema
import pytest
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def _bearer(auth_keys: Any, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_keys.token(*scopes)}"}


def _product(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(PRODUCT)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target: dict[str, Any] = body
        for part in parents:
            target = target[part]
        target[leaf] = value
    return body


async def _nothing_stored(catalog: Any) -> None:
    db = catalog.kit.store.db
    assert await db["products"].count_documents({}) == 0
    assert await db[OUTBOX].count_documents({}) == 0


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


async def test_without_token_401_and_without_scope_403(start_service: Any, auth_keys: Any) -> None:
    async with start_service("catalog", token=None) as catalog:
        anonymous = await catalog.client.post("/products", json=PRODUCT)
        body = _problem(anonymous, 401)
        assert body["instance"] == "/products"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        _problem(await catalog.client.get("/products/TEE-RED-M"), 401)

        garbage = await catalog.client.post(
            "/products", json=PRODUCT, headers={"Authorization": "Bearer not.a.jwt"}
        )
        _problem(garbage, 401)

        read_only = await catalog.client.post(
            "/products", json=PRODUCT, headers=_bearer(auth_keys, "catalog:read")
        )
        assert _problem(read_only, 403)["required_scope"] == "catalog:write"
        other_service = await catalog.client.get(
            "/products/TEE-RED-M", headers=_bearer(auth_keys, "orders:admin")
        )
        _problem(other_service, 403)
        await _nothing_stored(catalog)

        # and the write scope is enough (it implies read)
        writer = _bearer(auth_keys, "catalog:write")
        assert (
            await catalog.client.post("/products", json=PRODUCT, headers=writer)
        ).status_code == 201
        assert (await catalog.client.get("/products/TEE-RED-M", headers=writer)).status_code == 200


BAD_PRODUCTS = [
    pytest.param(_product(price__net=19.99), ["body", "price", "net"], id="float-price"),
    pytest.param(_product(price__net="-1.00"), ["body", "price", "net"], id="negative-price"),
    pytest.param(_product(price__net="19.99999"), ["body", "price", "net"], id="5-decimals"),
    pytest.param(_product(price__net="abc"), ["body", "price", "net"], id="not-a-number"),
    pytest.param(_product(price__net="NaN"), ["body", "price", "net"], id="nan"),
    pytest.param(_product(price__currency="USD"), ["body", "price", "currency"], id="currency"),
    pytest.param(_product(price__net=None), ["body", "price", "net"], id="null-price"),
    pytest.param(
        _product(price={"gross": None, "currency": "EUR"}),
        ["body", "price", "gross"],
        id="null-gross",
    ),
    pytest.param(
        _product(price={"net": "16.80", "gross": "19.99"}), ["body", "price"], id="net-and-gross"
    ),
    pytest.param(_product(price={"currency": "EUR"}), ["body", "price"], id="neither"),
    pytest.param(_product(stock=-1), ["body", "stock"], id="negative-stock"),
    pytest.param(_product(stock=2.5), ["body", "stock"], id="fractional-stock"),
    pytest.param(_product(vat_class="luxury"), ["body", "vat_class"], id="vat-class"),
    pytest.param(_product(sku="HAS SPACE"), ["body", "sku"], id="sku"),
    pytest.param(_product(name=""), ["body", "name"], id="empty-name"),
    pytest.param(_product(gtin="123"), ["body", "gtin"], id="gtin"),
    pytest.param(_product(colour="red"), ["body", "colour"], id="unknown-field"),
    pytest.param(
        {k: v for k, v in PRODUCT.items() if k != "price"}, ["body", "price"], id="no-price"
    ),
]


@pytest.mark.parametrize(("body", "loc"), BAD_PRODUCTS)
async def test_bad_product_is_refused_with_the_field_path(
    start_service: Any, body: dict[str, Any], loc: list[str | int]
) -> None:
    async with start_service("catalog") as catalog:
        response = await catalog.client.post("/products", json=body)
        problem = _problem(response, 422)
        by_loc = {tuple(e["loc"]): e for e in problem["errors"]}
        assert tuple(loc) in by_loc, problem["errors"]
        assert by_loc[tuple(loc)]["pointer"] == "/" + "/".join(str(p) for p in loc[1:])
        await _nothing_stored(catalog)


async def test_malformed_json_is_a_422_problem(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        response = await catalog.client.post(
            "/products", content=b'{"sku": "A",', headers={"content-type": "application/json"}
        )
        _problem(response, 422)
        await _nothing_stored(catalog)


async def test_unknown_product_is_a_404_problem(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        body = _problem(await catalog.client.get("/products/NOPE-1"), 404)
        assert body["instance"] == "/products/NOPE-1"
        assert "NOPE-1" in body["detail"]
        _problem(await catalog.client.get("/no-such-route"), 404)


async def test_duplicate_sku_is_a_409_and_keeps_the_first(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        second = await catalog.client.post("/products", json=_product(price__net="99.00"))
        _problem(second, 409)
        [doc] = await catalog.kit.store.db["products"].find({}).to_list(None)
        assert str(doc["price_net"]) == "19.99"
        assert await catalog.kit.store.db[OUTBOX].count_documents({}) == 1


async def test_body_over_six_mebibytes_is_a_413_and_stores_nothing(start_service: Any) -> None:
    # The catalog's limit is 6 MiB (images up to 5 MiB); other services keep 1 MiB.
    async with start_service("catalog") as catalog:
        huge = _product(description="x" * (6 * 1024 * 1024))
        response = await catalog.client.post("/products", json=huge)
        assert "6291456" in _problem(response, 413)["detail"]
        await _nothing_stored(catalog)

        # the same without a Content-Length (chunked upload)
        async def chunks() -> Any:
            payload = json.dumps(huge).encode()
            for start in range(0, len(payload), 64 * 1024):
                yield payload[start : start + 64 * 1024]

        chunked = await catalog.client.post(
            "/products", content=chunks(), headers={"content-type": "application/json"}
        )
        _problem(chunked, 413)
        await _nothing_stored(catalog)


async def test_created_product_is_returned_with_its_gross_price(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        body = _product(sku="BOOK-1", price__net="1.50", vat_class="reduced")
        created = await catalog.client.post("/products", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["price"] == {
            "net": "1.50",
            "gross": "1.61",  # 1.605 half up
            "currency": "EUR",
            "vat_rate": "0.07",
            "entered": "net",  # the gross is derived from it (issue 10 point 1)
            # no earlier price, no measure: nothing to strike through, no base price
            "lowest_30_days": None,
            "strike_through": None,
            "base_price": None,
        }
        read = await catalog.client.get("/products/BOOK-1")
        assert {**read.json(), "created_at": None} == {**created.json(), "created_at": None}


async def test_created_product_reads_back_identically(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        created = await catalog.client.post("/products", json=PRODUCT)
        assert created.status_code == 201, created.text
        read = await catalog.client.get(f"/products/{PRODUCT['sku']}")
        assert read.json()["created_at"] == created.json()["created_at"]


async def test_amount_in_exponent_notation_is_refused_or_returned_plain(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog:
        response = await catalog.client.post("/products", json=_product(price__net="1E+2"))
        assert response.status_code == 422, response.text
        await _nothing_stored(catalog)


async def test_a_sku_with_a_slash_is_refused_because_it_could_never_be_read(
    start_service: Any,
) -> None:
    # GET /products/{sku} takes one path segment: a SKU with "/" could be created but
    # never read back, so it is refused up front.
    async with start_service("catalog") as catalog:
        created = await catalog.client.post("/products", json=_product(sku="TEE/RED/M"))
        assert created.status_code == 422, created.text
        assert created.json()["errors"][0]["loc"] == ["body", "sku"]
        await _nothing_stored(catalog)


async def test_health_metrics_and_openapi(start_service: Any) -> None:
    async with start_service("catalog", token=None) as catalog:
        live = await catalog.client.get("/health/live")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        ready = await catalog.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "checks": {"mongo": "ok", "kafka": "ok"}}

        await catalog.client.get("/products/X")  # one request so a latency is recorded
        metrics = await catalog.client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "kontor_http_request_duration_seconds" in metrics.text
        assert "kontor_outbox_backlog" in metrics.text

        spec = (await catalog.client.get("/openapi.json")).json()
        assert {"/products", "/products/{sku}", "/health/live", "/health/ready"} <= set(
            spec["paths"]
        )
        post = spec["paths"]["/products"]["post"]
        request_schema = post["requestBody"]["content"]["application/json"]["schema"]
        ref = request_schema["$ref"].rsplit("/", 1)[1]
        assert spec["components"]["schemas"][ref]["examples"][0] == PRODUCT
        for status in ("401", "403", "409", "413", "422"):
            assert PROBLEM in post["responses"][status]["content"], status
        assert "404" in spec["paths"]["/products/{sku}"]["get"]["responses"]
        # money is a decimal string in the contract of the API, never a JSON number; a
        # price is given net or gross, exactly one of them (issue 10 point 1), and the
        # schema says exactly what the route accepts
        price_in = spec["components"]["schemas"]["PriceIn"]
        for side in ("net", "gross"):
            assert price_in["properties"][side]["type"] == "string", side
            assert "anyOf" not in price_in["properties"][side], side
        price_schema = jsonschema.Draft202012Validator(price_in)
        for accepted in ({"net": "19.99"}, {"gross": "19.99", "currency": "EUR"}):
            assert price_schema.is_valid(accepted), accepted
        for refused in (
            {"net": 19.99},
            {"gross": None},
            {},
            {"currency": "EUR"},
            {"net": "16.80", "gross": "19.99"},
        ):
            assert not price_schema.is_valid(refused), refused
        change_schema = jsonschema.Draft202012Validator(
            spec["components"]["schemas"]["PriceChangeIn"]
        )
        for accepted in ({"net": "16.80"}, {"gross": "19.99"}, {"vat_class": "reduced"}):
            assert change_schema.is_valid(accepted), accepted
        for refused in ({"net": "16.80", "gross": "19.99"}, {}, {"vat_class": None}, {"net": None}):
            assert not change_schema.is_valid(refused), refused
        assert (await catalog.client.get("/docs")).status_code == 200
