"""Coupons from marketing to orders and back (issue 15): codes defined with POST /coupons
reach orders as CouponDefined; orders refuses unknown and expired codes at their field
path, applies a valid one in the totals and lines, lets a single-use code be used by one
of six concurrent orders only; marketing counts the use and reports CouponRedeemed."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.samples import ORDER
from kontor_orders.context import OrdersContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import consume_all, eventually, topic_of

pytestmark = pytest.mark.integration


async def seed_product(orders: Any) -> None:
    await orders.kit.store.db["catalog_products"].insert_one(
        {
            "_id": "TEE-RED-M",
            "name": "T-Shirt rot, M",
            "price_net": Decimal("19.99"),
            "vat_rate": Decimal("0.19"),
            "vat_class": "standard",
            "currency": "EUR",
            "discontinued": False,
        }
    )


def order(*codes: str, email: str = "anna@example.de") -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(ORDER)
    body["coupon_codes"] = list(codes)
    body["customer"]["email"] = email
    return body


async def test_coupons_defined_in_marketing_are_applied_once_by_orders(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders, start_service("marketing") as marketing:
        await seed_product(orders)
        soon = datetime.now(UTC) + timedelta(hours=1)
        for body in (
            {"code": "winter10", "percent_off": "10", "valid_until": "2027-03-31T23:59:59+01:00"},
            {
                "code": "SORRY5",
                "amount_off": {"gross": "5.00", "currency": "EUR"},
                "single_use": True,
            },
            {"code": "HOUR", "percent_off": "50", "valid_until": soon.isoformat()},
        ):
            made = await marketing.client.post("/coupons", json=body)
            assert made.status_code == 201, made.text
        assert made.json()["status"] == "active"
        again = await marketing.client.post("/coupons", json={"code": "SORRY5", "percent_off": "1"})
        assert again.status_code == 409

        async def known() -> bool:
            return await orders.kit.store.db["coupons"].count_documents({}) == 3

        await eventually(known, timeout=30)

        unknown = await orders.client.post("/orders", json=order("WINTER10", "NOSUCH"))
        assert unknown.status_code == 422, unknown.text
        assert [e["loc"] for e in unknown.json()["errors"]] == [["body", "coupon_codes", 1]]

        ctx = context_of(orders.app, OrdersContext)
        real_clock = ctx.clock
        ctx.clock = lambda: real_clock() + timedelta(hours=2)  # HOUR has expired
        expired = await orders.client.post("/orders", json=order("HOUR"))
        ctx.clock = real_clock
        assert expired.status_code == 422 and "not valid now" in expired.text

        # 2 x 23.79 gross = 47.58; 10 % = 4.76 off, in the totals and spread over the line
        applied = await orders.client.post("/orders", json=order("WINTER10"))
        assert applied.status_code == 201, applied.text
        placed = applied.json()
        assert (placed["gross_total"], placed["discount_gross"]) == ("42.82", "4.76")
        assert placed["coupon_discounts"] == {"WINTER10": "4.76"}
        assert [(x["line_gross"], x["discount_gross"]) for x in placed["lines"]] == [
            ("42.82", "4.76")
        ]

        answers = await asyncio.gather(
            *(
                orders.client.post("/orders", json=order("SORRY5", email=f"k{n}@example.de"))
                for n in range(6)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 422, 422, 422, 422, 422], [a.text for a in answers]
        for refused in (a for a in answers if a.status_code == 422):
            assert [e["loc"] for e in refused.json()["errors"]] == [["body", "coupon_codes", 0]]
        [winner] = [a.json() for a in answers if a.status_code == 201]
        assert winner["discount_gross"] == "5.00" and winner["gross_total"] == "42.58"
        later = await orders.client.post("/orders", json=order("SORRY5"))
        assert later.status_code == 422 and "used already" in later.text

        async def used() -> dict[str, Any] | None:
            shown = (await marketing.client.get("/coupons/SORRY5")).json()
            return shown if shown["redemptions"] == 1 else None

        shown = await eventually(used, timeout=30)
        assert (shown["status"], shown["discount_total"]) == ("used", "5.00")
        records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "CouponRedeemed"), expected=5
        )
        redeemed = [
            json.loads(r.value)["payload"]
            for r in records
            if json.loads(r.value)["type"] == "CouponRedeemed"
        ]
        assert sorted((p["code"], p["discount"], p["order_id"]) for p in redeemed) == sorted(
            [("WINTER10", "4.76", placed["id"]), ("SORRY5", "5.00", winner["id"])]
        )
        listed = (await marketing.client.get("/coupons?page_size=10")).json()
        assert listed["total"] == 3


async def test_limits_per_customer_and_in_all_hold_under_concurrent_orders(
    start_service: Any,
) -> None:
    """ADR 0057: ``uses_per_customer`` and ``max_redemptions`` from marketing are counted
    by orders in each order's transaction: concurrent orders cannot overrun them."""
    async with start_service("orders") as orders, start_service("marketing") as marketing:
        await seed_product(orders)
        body = {
            "code": "WELCOME",
            "percent_off": "10",
            "uses_per_customer": 1,
            "max_redemptions": 3,
        }
        made = await marketing.client.post("/coupons", json=body)
        assert made.status_code == 201, made.text
        assert (made.json()["uses_per_customer"], made.json()["max_redemptions"]) == (1, 3)

        async def known() -> bool:
            return await orders.kit.store.db["coupons"].count_documents({}) == 1

        await eventually(known, timeout=30)

        async def statuses(*emails: str) -> list[int]:
            answers = await asyncio.gather(
                *(orders.client.post("/orders", json=order("WELCOME", email=e)) for e in emails)
            )
            return sorted(a.status_code for a in answers)

        assert await statuses(*["anna@example.de"] * 4) == [201, 422, 422, 422]
        others = [f"k{n}@example.de" for n in range(4)]
        assert await statuses(*others) == [201, 201, 422, 422]  # 3 in all
        refused = await orders.client.post("/orders", json=order("WELCOME", email="z@example.de"))
        assert refused.status_code == 422 and "as often as it may be" in refused.text


async def test_a_category_code_from_marketing_discounts_only_that_categorys_line(
    start_service: Any,
) -> None:
    """ADR 0116, 0117: the catalog announces each product's categories (the T-shirt's
    second is ``t-shirts``; its variant in size M has none of its own), marketing a code for
    ``t-shirts``; orders takes 10 % off the T-shirt line only (the mug pays full price),
    shows it on that line and in the totals, and refuses the code on an order of mugs;
    marketing counts the use."""
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("marketing") as marketing,
    ):
        for category in (
            {"id": "neu", "name": "Neu"},
            {"id": "t-shirts", "name": "T-Shirts"},
            {"id": "tassen", "name": "Tassen"},
        ):
            added = await catalog.client.post("/categories", json=category)
            assert added.status_code == 201, added.text
        variant = {"parent_sku": "TEE-1", "variant_attributes": {"size": "M"}}
        for sku, gross, categories, more in (
            ("TEE-1", "19.99", ["neu", "t-shirts"], {"stock": 0}),  # a parent holds none
            ("TEE-1-M", "19.99", [], variant),
            ("MUG-1", "9.99", ["neu", "tassen"], {}),
        ):
            product = {
                "sku": sku,
                "name": f"Artikel {sku}",
                "price": {"gross": gross, "currency": "EUR"},
                "vat_class": "standard",
                "stock": 50,
                "categories": categories,
                **more,
            }
            created = await catalog.client.post("/products", json=product)
            assert created.status_code == 201, created.text
        bad = {"code": "TEES10", "percent_off": "10", "category_ids": ["t-shirts", "T Shirts"]}
        refused = await marketing.client.post("/coupons", json=bad)
        assert refused.status_code == 422, refused.text
        assert [e["loc"] for e in refused.json()["errors"]] == [["body", "category_ids", 1]]
        body = {"code": "TEES10", "percent_off": "10", "category_ids": ["t-shirts"]}
        made = await marketing.client.post("/coupons", json=body)
        assert made.status_code == 201, made.text
        assert (made.json()["category_ids"], made.json()["product_skus"]) == (["t-shirts"], [])

        async def known() -> bool:
            db = orders.kit.store.db
            coupons = await db["coupons"].count_documents({"category_ids": "t-shirts"})
            products = await db["catalog_products"].count_documents({"categories": "neu"})
            variants = await db["catalog_products"].count_documents({"parent_sku": "TEE-1"})
            return bool(coupons == 1 and products == 2 and variants == 1)

        await eventually(known, timeout=30)

        mixed = order("TEES10")
        mixed["lines"] = [{"sku": "TEE-1-M", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}]
        applied = await orders.client.post("/orders", json=mixed)
        assert applied.status_code == 201, applied.text
        placed = applied.json()
        # T-shirts 2 x 19.99 = 39.98, 10 % = 4.00 (3.998); the mug 9.99 stays as it is
        assert [(x["sku"], x["line_gross"], x["discount_gross"]) for x in placed["lines"]] == [
            ("TEE-1-M", "35.98", "4.00"),
            ("MUG-1", "9.99", "0.00"),
        ]
        assert (placed["discount_gross"], placed["gross_total"]) == ("4.00", "45.97")
        assert placed["coupon_discounts"] == {"TEES10": "4.00"}

        mugs = order("TEES10")
        mugs["lines"] = [{"sku": "MUG-1", "quantity": 3}]
        refused = await orders.client.post("/orders", json=mugs)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in problem["errors"]] == [["body", "coupon_codes", 0]]
        assert "applies to none of the order's articles" in refused.text

        async def counted() -> dict[str, Any] | None:
            shown = (await marketing.client.get("/coupons/TEES10")).json()
            return shown if shown["redemptions"] == 1 else None

        shown = await eventually(counted, timeout=30)
        assert shown["discount_total"] == "4.00"
        assert shown["category_ids"] == ["t-shirts"]  # as stored, read back
