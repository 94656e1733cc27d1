"""Product data over HTTP: categories, variants, PATCH, discontinue, search and filters."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration


async def _events(catalog: Any, type_: str) -> list[dict[str, Any]]:
    rows = await catalog.kit.store.db[OUTBOX].find({"type": type_}).sort("seq", 1).to_list()
    return [Envelope.from_bytes(row["value"].encode()).payload for row in rows]


async def _post(catalog: Any, path: str, body: dict[str, Any], status: int = 201) -> Any:
    response = await catalog.client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def _tree(catalog: Any) -> None:
    await _post(catalog, "/categories", {"id": "bekleidung", "name": "Bekleidung"})
    await _post(
        catalog, "/categories", {"id": "t-shirts", "name": "T-Shirts", "parent_id": "bekleidung"}
    )
    await _post(catalog, "/categories", {"id": "kaffee", "name": "Kaffee", "name_en": "Coffee"})


async def test_categories_form_a_tree(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _tree(catalog)
        listed = (await catalog.client.get("/categories")).json()
        by_id = {c["id"]: c for c in listed}
        assert by_id["t-shirts"]["path"] == ["bekleidung"]
        assert by_id["t-shirts"]["parent_id"] == "bekleidung"
        assert by_id["kaffee"]["name_en"] == "Coffee"
        assert (await catalog.client.get("/categories/t-shirts")).json()["path"] == ["bekleidung"]
        assert (await catalog.client.get("/categories/nope")).status_code == 404
        orphan = await catalog.client.post(
            "/categories", json={"id": "x", "name": "X", "parent_id": "nope"}
        )
        assert orphan.status_code == 422
        assert orphan.json()["errors"][0]["loc"] == ["body", "parent_id"]
        again = await catalog.client.post("/categories", json={"id": "kaffee", "name": "K"})
        assert again.status_code == 409
        assert await catalog.kit.store.db["categories"].count_documents({}) == 3


async def test_variants_gtin_categories_and_attributes(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _tree(catalog)
        parent = {**PRODUCT, "sku": "TEE-RED", "name": "T-Shirt rot", "categories": ["t-shirts"]}
        # a parent with stock cannot get variants (issue 10 point 14): its stock goes first
        await _post(catalog, "/products", parent)
        stranded = {**PRODUCT, "sku": "TEE-RED-S", "parent_sku": "TEE-RED"}
        stranded["variant_attributes"] = {"size": "S"}
        refused = await _post(catalog, "/products", stranded, 409)
        assert refused["on_hand"] == PRODUCT["stock"]
        await _post(catalog, "/stock/TEE-RED/counts", {"warehouse": "main", "counted": 0})
        variant = await _post(
            catalog,
            "/products",
            {
                **PRODUCT,
                "sku": "TEE-RED-L",
                "name": "T-Shirt rot, L",
                "name_en": "T-shirt red, L",
                "description_en": "Organic cotton",
                "brand": "Nordfaser",
                "gtin": "4006381333931",
                "categories": ["t-shirts"],
                "attributes": {"material": "Baumwolle"},
                "parent_sku": "TEE-RED",
                "variant_attributes": {"size": "L", "colour": "rot"},
                "stock": 4,
                "weight_grams": 180,
            },
        )
        assert variant["parent_sku"] == "TEE-RED"
        assert variant["variant_attributes"] == {"size": "L", "colour": "rot"}
        assert variant["stock"] == 4
        assert (await catalog.client.get("/products/TEE-RED")).json()["variants"] == ["TEE-RED-L"]
        assert (await catalog.client.get("/stock/TEE-RED-L")).json()["available"] == 4
        receipt = {"warehouse": "main", "quantity": 5}
        on_parent = await _post(catalog, "/stock/TEE-RED/receipts", receipt, 409)
        assert on_parent["variants"] == ["TEE-RED-L"]
        created = (await _events(catalog, "ProductCreated"))[1]
        assert created["parent_sku"] == "TEE-RED"
        assert created["variant_attributes"] == {"size": "L", "colour": "rot"}
        assert (created["category"], created["brand"]) == ("t-shirts", "Nordfaser")
        assert (created["weight_grams"], variant["weight_grams"]) == (180, 180)

        for body, status, loc in (
            ({"gtin": "4006381333932"}, 422, ["body", "gtin"]),
            ({"gtin": "4006381333931"}, 409, None),  # taken by TEE-RED-L
            ({"categories": ["nope"]}, 422, ["body", "categories"]),
            (
                {"parent_sku": "NOPE", "variant_attributes": {"size": "S"}},
                422,
                ["body", "parent_sku"],
            ),
            (
                {"parent_sku": "TEE-RED-L", "variant_attributes": {"x": "y"}},
                422,
                ["body", "parent_sku"],
            ),
            ({"parent_sku": "TEE-RED"}, 422, ["body", "variant_attributes"]),
            ({"attributes": {"Bad Key": "x"}}, 422, None),
        ):
            refused = await catalog.client.post(
                "/products", json={**PRODUCT, "sku": "TEE-NEW", **body}
            )
            assert refused.status_code == status, (body, refused.text)
            if loc:
                assert refused.json()["errors"][0]["loc"] == loc, body
        assert await catalog.kit.store.db["products"].count_documents({}) == 2
        assert await catalog.kit.store.db["stock"].count_documents({"sku": "TEE-NEW"}) == 0


async def test_patch_announces_changed_fields_and_discontinue_keeps_history(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog:
        await _tree(catalog)
        await _post(catalog, "/products", {**PRODUCT, "brand": "Nordfaser"})
        patched = await catalog.client.patch(
            "/products/TEE-RED-M",
            json={
                "name_en": "T-shirt red, M",
                "brand": None,
                "categories": ["t-shirts"],
                "weight_grams": 200,
            },
        )
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert (body["name_en"], body["brand"], body["categories"]) == (
            "T-shirt red, M",
            None,
            ["t-shirts"],
        )
        same = await catalog.client.patch("/products/TEE-RED-M", json={"brand": None})
        assert same.status_code == 200
        updated = await _events(catalog, "ProductUpdated")
        assert len(updated) == 1
        assert updated[0]["changed_fields"] == [
            "name_en",
            "brand",
            "categories",
            "weight_grams",
            "category",
        ]
        assert (updated[0]["brand"], updated[0]["category"]) == (None, "t-shirts")
        assert updated[0]["weight_grams"] == 200

        for body, status in (
            ({"price": {"net": "1.00"}}, 422),
            ({"name": ""}, 422),
            ({"gtin": "4006381333932"}, 422),
            ({"categories": ["nope"]}, 422),
        ):
            refused = await catalog.client.patch("/products/TEE-RED-M", json=body)
            assert refused.status_code == status, body
        assert (
            await catalog.client.patch("/products/NOPE", json={"brand": "x"})
        ).status_code == 404
        assert len(await _events(catalog, "ProductUpdated")) == 1

        gone = await catalog.client.post("/products/TEE-RED-M/discontinue", json={"reason": "EOL"})
        assert gone.status_code == 200, gone.text
        assert gone.json()["discontinued"] is True
        assert gone.json()["discontinued_at"]
        twice = await catalog.client.post("/products/TEE-RED-M/discontinue", json={})
        assert twice.status_code == 409
        assert twice.json()["current_state"]["discontinued"] is True
        # the refusal shows the product as GET shows it
        shown = (await catalog.client.get("/products/TEE-RED-M")).json()
        assert twice.json()["current_state"] == shown == gone.json()
        assert twice.json()["detail"] == "cannot discontinue product TEE-RED-M: it is discontinued"
        missing = await catalog.client.post("/products/NOPE/discontinue", json={})
        assert missing.status_code == 404
        discontinued = await _events(catalog, "ProductDiscontinued")
        assert [(e["sku"], e["reason"]) for e in discontinued] == [("TEE-RED-M", "EOL")]
        # still there, with its data and price history
        kept = (await catalog.client.get("/products/TEE-RED-M")).json()
        assert (kept["name_en"], kept["price"]["net"]) == ("T-shirt red, M", "19.99")


async def test_search_filters_and_pages(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _tree(catalog)
        for sku, name, net, categories, stock in (
            ("TEE-RED-M", "T-Shirt rot, Größe M", "10.00", ["t-shirts"], 3),
            ("TEE-BLUE-M", "T-Shirt blau, Größe M", "20.00", ["t-shirts"], 0),
            ("JACKE-1", "Regenjacke", "50.00", ["bekleidung"], 1),
            ("KAFFEE-1", "Espresso Crème", "8.00", ["kaffee"], 5),
        ):
            await _post(
                catalog,
                "/products",
                {
                    **PRODUCT,
                    "sku": sku,
                    "name": name,
                    "price": {"net": net, "currency": "EUR"},
                    "categories": categories,
                    "stock": stock,
                },
            )

        async def skus(**params: Any) -> list[str]:
            response = await catalog.client.get("/products", params=params)
            assert response.status_code == 200, response.text
            return [p["sku"] for p in response.json()["items"]]

        assert await skus(q="t-shirt") == ["TEE-BLUE-M", "TEE-RED-M"]
        assert await skus(q="T-SHIRT ro") == ["TEE-RED-M"]
        assert await skus(q="groesse") == ["TEE-BLUE-M", "TEE-RED-M"]
        assert await skus(q="größe bl") == ["TEE-BLUE-M"]
        assert await skus(q="creme") == ["KAFFEE-1"]
        assert await skus(q="sh.*rt") == []  # no regex: words "sh" and "rt", no term starts "rt"
        # a search with nothing to search for finds nothing, not everything (issue 10 point 14)
        assert await skus(q="\N{T-SHIRT}\N{SMILING FACE WITH SMILING EYES}") == []
        assert await skus(q="?!-…") == []
        assert await skus(q="\N{T-SHIRT} t-shirt ro") == ["TEE-RED-M"]  # words beside an emoji
        assert len(await skus(q="  ")) == 4  # blank: no filter, as without q
        assert await skus(category="bekleidung") == ["JACKE-1", "TEE-BLUE-M", "TEE-RED-M"]
        assert await skus(category="t-shirts") == ["TEE-BLUE-M", "TEE-RED-M"]
        assert await skus(category="nope") == []
        # gross prices: 11.90, 23.80, 59.50, 9.52
        assert await skus(min_price="11.90", max_price="59.49") == ["TEE-BLUE-M", "TEE-RED-M"]
        assert await skus(in_stock="true") == ["JACKE-1", "KAFFEE-1", "TEE-RED-M"]
        assert await skus(in_stock="false") == ["TEE-BLUE-M"]
        assert await skus(q="t-shirt", in_stock="true", category="bekleidung") == ["TEE-RED-M"]

        first = (await catalog.client.get("/products", params={"page_size": 3})).json()
        second = (await catalog.client.get("/products", params={"page": 2, "page_size": 3})).json()
        assert (first["total"], second["total"]) == (4, 4)
        assert [p["sku"] for p in first["items"] + second["items"]] == [
            "JACKE-1",
            "KAFFEE-1",
            "TEE-BLUE-M",
            "TEE-RED-M",
        ]
        for params in ({"page": 0}, {"page_size": 101}, {"min_price": "-1"}, {"min_price": "x"}):
            refused = await catalog.client.get("/products", params=params)
            assert refused.status_code == 422, params
            assert refused.json()["errors"][0]["loc"][0] == "query"
