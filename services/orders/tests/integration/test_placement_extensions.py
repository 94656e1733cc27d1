"""Placing orders with business buyers, coupons and shipping methods; address checks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ShippingMethodChanged, ShippingRate, ShippingZone
from kontor_contracts.events.marketing import CouponDefined
from kontor_contracts.samples import ORDER
from kontor_servicekit.store import INBOX, OUTBOX
from kontor_servicekit.testing import (
    as_message,
    eventually,
    outbox_events,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration

COMPANY_ADDRESS = {
    "name": "Einkauf",
    "company": "Muster GmbH",
    "street": "Industriestr. 5",
    "postcode": "80331",
    "city": "München",
    "country": "DE",
}


async def seed(orders: Any) -> None:
    db = orders.kit.store.db
    await db["catalog_products"].insert_one(
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
    await db["shipping_methods"].insert_many(
        [
            shipping_method("standard", "4.16", carrier="DHL"),
            shipping_method("express", "12.60", carrier="DHL"),
            shipping_method("pickup", "0", active=False),
        ]
    )


def shipping_method(
    method_id: str, net: str, *, carrier: str | None = None, active: bool = True
) -> dict[str, Any]:
    """As the shipping read model keeps a ShippingMethodChanged: one flat rate to DE/AT."""
    return {
        "_id": method_id,
        "name": method_id,
        "carrier": carrier,
        "basis": "value",
        "zones": [{"zone_id": "dach", "countries": ["DE", "AT"]}],
        "rates": [{"zone_id": "dach", "price_net": Decimal(net), "max_value": None}],
        "free_from": None,
        "currency": "EUR",
        "vat_rate": Decimal("0.19"),
        "active": active,
    }


def order(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(ORDER)
    body.update(extra)
    return body


async def placed_event(orders: Any, order_id: str) -> dict[str, Any]:
    events = [p for t, p in await outbox_events(orders, order_id) if t == "OrderPlaced"]
    assert events, "no OrderPlaced"
    return events[0]  # opened: the rows are sealed (ADR 0036)


def field_errors(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["loc"] for e in response.json()["errors"]]


async def define_coupon(infra: Any, namespace: str, orders: Any, coupon: CouponDefined) -> None:
    """Publish ``coupon`` as marketing will (CouponDefined on its topic) and wait until
    orders' read model holds it."""
    envelope = Envelope.wrap(coupon, producer="marketing", aggregate_id=coupon.code)
    await produce(
        infra.kafka_bootstrap, topic_of(namespace, "CouponDefined"), [as_message(envelope)]
    )

    async def known() -> bool:
        return bool(await orders.kit.store.db["coupons"].count_documents({"_id": coupon.code}))

    await eventually(known, timeout=30)


async def test_business_buyer_coupons_and_express_shipping(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await seed(orders)
        placement = order(
            billing_address=COMPANY_ADDRESS,
            buyer_vat_id="de 136 695 976",  # check digits valid (issue 10 point 4)
            coupon_codes=["summer10", "SUMMER10"],
            shipping_method="express",
        )
        # a code the read model does not know is refused at its place (issue 10 point 3)
        unknown = await orders.client.post("/orders", json=placement)
        assert ["body", "coupon_codes", 0] in field_errors(unknown)
        assert await orders.kit.store.db["orders"].count_documents({}) == 0

        now = datetime.now(UTC)
        await define_coupon(
            infra,
            namespace,
            orders,
            CouponDefined(
                code="SUMMER10",
                kind="percent",
                percent=Decimal("10"),
                valid_from=now - timedelta(hours=1),
                valid_until=now + timedelta(days=1),
            ),
        )
        response = await orders.client.post("/orders", json=placement)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["buyer_vat_id"] == "DE136695976"
        assert body["coupon_codes"] == ["SUMMER10"]  # given twice, applied once
        assert body["shipping"] == {
            "method": "express",
            "carrier": "DHL",
            "net": "12.60",
            "vat_rate": "0.19",
            "vat": "2.39",
            "gross": "14.99",
            # the goods are all at 19 %: so is all of the shipping (issue 10 point 5)
            "parts": [{"vat_rate": "0.19", "net": "12.60", "vat": "2.39", "gross": "14.99"}],
        }
        # a business buyer is priced net: 2 x 19.99 = 39.98 less 10 % (4.00) = 35.98
        # + 6.84 VAT = 42.82 (without the coupon 47.58); the shipping is not discounted
        assert body["lines"][0]["line_net"] == "35.98"
        assert body["net_total"] == "48.58"  # 35.98 + 12.60
        assert body["vat_total"] == "9.23"  # 6.84 + 2.39
        assert body["gross_total"] == "57.81"  # 42.82 + 14.99
        event = await placed_event(orders, body["id"])
        assert event["buyer_vat_id"] == "DE136695976"
        assert event["coupon_codes"] == ["SUMMER10"]
        assert event["discount_gross"] == "4.76"  # 47.58 - 42.82
        assert event["shipping"]["gross"] == "14.99"
        assert event["net_total"] == "48.58"
        assert event["gross_total"] == "57.81"
        read = await orders.client.get(f"/orders/{body['id']}")
        assert read.json()["shipping"] == body["shipping"]


async def test_without_the_new_fields_nothing_changes(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        response = await orders.client.post("/orders", json=order())
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["shipping"] is None and body["coupon_codes"] == []
        assert body["gross_total"] == "47.58"


@pytest.mark.parametrize(
    ("extra", "loc"),
    [
        (
            {"buyer_vat_id": "DE12345678", "billing_address": COMPANY_ADDRESS},
            ["body", "buyer_vat_id"],
        ),
        (
            {"buyer_vat_id": "XX123456789", "billing_address": COMPANY_ADDRESS},
            ["body", "buyer_vat_id"],
        ),
        (
            {"buyer_vat_id": "DE123456789", "billing_address": COMPANY_ADDRESS},
            ["body", "buyer_vat_id"],  # wrong check digit (issue 10 point 4)
        ),
        ({"buyer_vat_id": "DE136695976"}, ["body", "shipping_address", "company"]),
        ({"coupon_codes": ["10 % off"]}, ["body", "coupon_codes"]),
        ({"shipping_method": "drone"}, ["body", "shipping_method"]),
        ({"shipping_method": "pickup"}, ["body", "shipping_method"]),
        (
            {
                "shipping_method": "standard",
                "shipping_address": {**COMPANY_ADDRESS, "country": "CH", "postcode": "8001"},
            },
            ["body", "shipping_method"],
        ),
        (
            {"billing_address": {**COMPANY_ADDRESS, "country": "XX", "postcode": "1234"}},
            ["body", "billing_address", "country"],
        ),
        (
            {"billing_address": {**COMPANY_ADDRESS, "postcode": "8033"}},
            ["body", "billing_address", "postcode"],
        ),
    ],
)
async def test_bad_placement_input_is_refused_with_its_path(
    start_service: Any, extra: dict[str, Any], loc: list[Any]
) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        response = await orders.client.post("/orders", json=order(**extra))
        assert loc in field_errors(response)
        assert await orders.kit.store.db["orders"].count_documents({}) == 0
        assert await orders.kit.store.db[OUTBOX].count_documents({}) == 0


async def test_shipping_methods_come_from_catalog_events(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """ShippingMethodChanged replaces the method; an older event arriving late changes nothing."""

    def changed(net: str, at: datetime, active: bool = True) -> Envelope:
        event = ShippingMethodChanged(
            method_id="standard",
            name="DHL Paket",
            carrier="DHL",
            basis="weight",
            zones=[ShippingZone(zone_id="de", countries=["DE"])],
            rates=[ShippingRate(zone_id="de", price_net=Decimal(net))],
            currency="EUR",
            vat_rate=Decimal("0.19"),
            active=active,
        )
        envelope = Envelope.wrap(event, producer="catalog", aggregate_id="standard")
        return envelope.model_copy(update={"occurred_at": at})

    async with start_service("orders") as orders:
        await wait_for_assignment(orders)
        await orders.kit.store.db["catalog_products"].insert_one(
            {
                "_id": "TEE-RED-M",
                "name": "T-Shirt rot, M",
                "price_net": Decimal("19.99"),
                "vat_rate": Decimal("0.19"),
                "currency": "EUR",
            }
        )
        now = datetime.now(UTC)
        topic = topic_of(namespace, "ShippingMethodChanged")
        await produce(infra.kafka_bootstrap, topic, [as_message(changed("5.00", now))])
        await produce(
            infra.kafka_bootstrap, topic, [as_message(changed("1.00", now - timedelta(hours=1)))]
        )
        withdrawal = changed("6.00", now + timedelta(seconds=1), active=False)

        async def both_handled() -> bool:
            n = await orders.kit.store.db[INBOX].count_documents(
                {"_id": {"$regex": "shipping-projection"}}
            )
            return bool(n == 2)

        await eventually(both_handled)
        doc = await orders.kit.store.db["shipping_methods"].find_one({"_id": "standard"})
        assert str(doc["rates"][0]["price_net"]) == "5.00"

        placed = await orders.client.post("/orders", json=order(shipping_method="standard"))
        assert placed.status_code == 201, placed.text
        assert placed.json()["shipping"]["net"] == "5.00"

        await produce(infra.kafka_bootstrap, topic, [as_message(withdrawal)])

        async def withdrawn() -> bool:
            d = await orders.kit.store.db["shipping_methods"].find_one({"_id": "standard"})
            return bool(d and d["active"] is False)

        await eventually(withdrawn)
        refused = await orders.client.post("/orders", json=order(shipping_method="standard"))
        assert ["body", "shipping_method"] in field_errors(refused)
