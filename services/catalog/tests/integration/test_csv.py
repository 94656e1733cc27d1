"""CSV import and export over HTTP: every bad row reported, whole file or nothing, round
trip, formulas neutralised."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration

BOM = "\ufeff"
HEADER = (
    "sku;name;name_en;price_net;vat_class;stock;categories;attributes;brand;gtin;"
    "parent_sku;variant_attributes;weight_grams;content_quantity;content_unit\r\n"
)


async def _import(catalog: Any, text: str, encoding: str = "utf-8") -> Any:
    return await catalog.client.post(
        "/products/import", files={"file": ("products.csv", text.encode(encoding), "text/csv")}
    )


async def _categories(catalog: Any) -> None:
    for body in ({"id": "kaffee", "name": "Kaffee"}, {"id": "bekleidung", "name": "Bekleidung"}):
        assert (await catalog.client.post("/categories", json=body)).status_code == 201


async def test_import_reports_every_bad_row_and_applies_the_whole_file_or_nothing(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog:
        await _categories(catalog)
        good = (
            "KAFFEE-1;Espresso Crème;Espresso cream;17,66;7;120;kaffee;roast=dark;Hanse;"
            "4006381333931;;;1000;1;kg\r\n"
            "TEE-RED;T-Shirt rot;;16,80;standard;0;bekleidung;;;;;;;;\r\n"
            "TEE-RED-M;T-Shirt rot, M;;16,80;19;5;bekleidung;;;;TEE-RED;size=M;180;;\r\n"
        )
        text = (
            BOM
            + HEADER
            + good
            + (
                "BAD-CAT;Unbekannt;;1,00;standard;3;nope;;;;;;;;\r\n"
                "BAD-GTIN;Falsch;;1,00;standard;3;;;;4006381333932;;;;;\r\n"
                "DUP-GTIN;Doppelt;;1,00;standard;3;;;;4006381333931;;;;;\r\n"
                "BAD-PRICE;Preis;;1,2,3;luxury;-4;;;;;;;;;\r\n"
                "ORPHAN;Waise;;1,00;standard;1;;;;;NOPE;size=L;;;\r\n"
                "HUGE-STOCK;Lager;;1,00;standard;99999999999999999999999;;;;;;;;;\r\n"
                "WHERE;Injektion;;1,00;standard;1;;$where=1;;;;;;;\r\n"
                "DOTTED;Punkt;;1,00;standard;1;;a.b=1;;;;;;;\r\n"
                "HUGE-PRICE;Preis;;999999999999999999999,123456789;standard;1;;;;;;;;;\r\n"
            )
        )
        response = await _import(catalog, text)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["failed"]) == (0, 0, 9)
        assert report["applied"] is False
        assert [(e["row"], e["column"]) for e in report["errors"]] == [
            (5, "categories"),
            (6, "gtin"),
            (7, "gtin"),
            (8, "price_net"),
            (8, "stock"),
            (9, "parent_sku"),
            (10, "stock"),
            (11, "attributes"),
            (12, "attributes"),
            (13, "price_net"),
        ]
        db = catalog.kit.store.db
        assert await db["products"].count_documents({}) == 0
        assert await db[OUTBOX].count_documents({"type": "ProductCreated"}) == 0

        applied = (await _import(catalog, BOM + HEADER + good)).json()
        assert (applied["created"], applied["failed"], applied["applied"]) == (3, 0, True)
        assert sorted(await db["products"].distinct("_id")) == ["KAFFEE-1", "TEE-RED", "TEE-RED-M"]
        # the failed rows left nothing behind: no stock, no events
        assert sorted(await db["stock"].distinct("sku")) == ["KAFFEE-1", "TEE-RED", "TEE-RED-M"]
        assert await db[OUTBOX].count_documents({"type": "ProductCreated"}) == 3

        coffee = (await catalog.client.get("/products/KAFFEE-1")).json()
        assert (coffee["price"]["net"], coffee["vat_class"], coffee["stock"]) == (
            "17.66",
            "reduced",
            120,
        )
        assert coffee["attributes"] == {"roast": "dark"}
        assert coffee["price"]["base_price"] == {"amount": "18.90", "per": "1 kg"}
        variant = (await catalog.client.get("/products/TEE-RED-M")).json()
        assert (variant["parent_sku"], variant["variant_attributes"]) == ("TEE-RED", {"size": "M"})

        # again, with a new price and name: updated (price history and events), stock ignored
        again = (
            BOM
            + HEADER
            + (
                "KAFFEE-1;Espresso Crème Classico;Espresso cream;15,99;7;999;kaffee;roast=dark;"
                "Hanse;4006381333931;;;1000;1;kg\r\n"
                "TEE-RED;T-Shirt rot;;16,80;standard;0;bekleidung;;;;;;;;\r\n"
                "TEE-RED-M;T-Shirt rot, M;;16,80;19;5;bekleidung;;;;TEE-RED;size=L;180;;\r\n"
            )
        )
        second = (await _import(catalog, again)).json()
        assert (second["created"], second["updated"], second["applied"]) == (0, 0, False)
        assert [(e["row"], e["column"]) for e in second["errors"]] == [(4, "variant_attributes")]
        second = (await _import(catalog, again.rsplit("TEE-RED-M;", 1)[0])).json()
        assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
        coffee = (await catalog.client.get("/products/KAFFEE-1")).json()
        assert (coffee["name"], coffee["price"]["net"], coffee["stock"]) == (
            "Espresso Crème Classico",
            "15.99",
            120,
        )
        assert coffee["price"]["strike_through"] == "18.90"
        assert await db[OUTBOX].count_documents({"type": "ProductPriceChanged"}) == 1
        assert await db[OUTBOX].count_documents({"type": "ProductUpdated"}) == 1


async def test_unreadable_files_are_422_and_change_nothing(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        for text, encoding in (
            ("sku;name;price_net;vat_class\r\nA;Größe;1,00;standard\r\n", "latin-1"),
            ("", "utf-8"),
            ("sku,name,price_net,vat_class\r\n", "utf-8"),  # commas: one unknown column
            ("sku;name\r\n", "utf-8"),
        ):
            refused = await _import(catalog, text, encoding)
            assert refused.status_code == 422, text
            assert refused.json()["errors"][0]["loc"] == ["body", "file"]
        assert await catalog.kit.store.db["products"].count_documents({}) == 0


async def test_export_round_trips_through_import(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await _categories(catalog)
        text = (
            BOM
            + HEADER
            + (
                "A-PARENT;Jacke;Jacket;50,00;standard;0;bekleidung;material=Wolle|fit=slim;Nord;;;;;;\r\n"
                'A-PARENT-L;"Jacke; L ""Winter""";;50,00;standard;2;bekleidung;;;;A-PARENT;'
                "size=L;900;;\r\n"
                "KAFFEE-1;Espresso;;17,66;reduced;120;kaffee;;;4006381333931;;;1000;1;kg\r\n"
            )
        )
        assert (await _import(catalog, text)).json()["created"] == 3
        await catalog.client.post(
            "/stock/KAFFEE-1/receipts", json={"warehouse": "east", "quantity": 5}
        )
        export = await catalog.client.get("/products/export")
        assert export.status_code == 200
        assert export.headers["content-type"] == "text/csv; charset=utf-8"
        exported = export.content.decode("utf-8")
        assert exported.startswith(BOM + "sku;name;")
        assert "17,66" in exported
        lines = exported.splitlines()
        assert [line.split(";")[0] for line in lines[1:]] == [
            "A-PARENT",
            "KAFFEE-1",
            "A-PARENT-L",
        ]

        before = {
            sku: _comparable((await catalog.client.get(f"/products/{sku}")).json())
            for sku in ("A-PARENT", "A-PARENT-L", "KAFFEE-1")
        }
    # a fresh catalog (its own database) imports the export and holds the same products
    async with start_service("catalog", mongo_database=f"rt_{uuid.uuid4().hex[:12]}") as fresh:
        await _categories(fresh)
        report = (await _import(fresh, exported)).json()
        assert (report["created"], report["errors"]) == (3, [])
        after = {
            sku: _comparable((await fresh.client.get(f"/products/{sku}")).json())
            for sku in ("A-PARENT", "A-PARENT-L", "KAFFEE-1")
        }
        assert after == before
        # on hand of both warehouses (120 + 5) arrived in the default one
        stock = (await fresh.client.get("/stock/KAFFEE-1")).json()
        assert [(w["warehouse"], w["on_hand"]) for w in stock["warehouses"]] == [("main", 125)]
        assert (await fresh.client.get("/products/export")).content.decode() == exported


def _comparable(product: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in product.items()
        if k not in {"created_at", "images", "variants", "discontinued_at"}
    }


async def test_export_neutralises_formulas_and_the_import_restores_them(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog:
        names = {
            "F-EQ": '=HYPERLINK("http://evil.example";"klick")',
            "F-PLUS": "+49 Hotline",
            "F-MINUS": "-20 % Rabatt",
            "F-AT": "@SUM(1+1)",
            "F-QUOTE": "'zitiert",
        }
        for sku, name in names.items():
            body = {"sku": sku, "name": name, "price": {"net": "1.00"}, "vat_class": "standard"}
            assert (await catalog.client.post("/products", json=body)).status_code == 201
        exported = (await catalog.client.get("/products/export")).content.decode("utf-8")
        cells = {line.split(";")[0]: line for line in exported.splitlines()[1:]}
        assert cells["F-EQ"].split(";")[1].startswith("\"'=HYPERLINK(")
        for sku in ("F-PLUS", "F-MINUS", "F-AT", "F-QUOTE"):
            assert cells[sku].split(";")[1].startswith("'"), cells[sku]
        assert all(
            not cell.startswith(("=", "+", "-", "@"))
            for line in exported.splitlines()
            for cell in line.split(";")
        )
    async with start_service("catalog", mongo_database=f"rt_{uuid.uuid4().hex[:12]}") as fresh:
        report = (await _import(fresh, exported)).json()
        assert (report["created"], report["errors"]) == (5, [])
        for sku, name in names.items():
            assert (await fresh.client.get(f"/products/{sku}")).json()["name"] == name
