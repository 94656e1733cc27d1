"""Sample payloads for tests and benchmarks: realistic, valid, German merchant data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.common import Address, Customer
from kontor_contracts.events.orders import OrderConfirmed, OrderLine, OrderPlaced

PRODUCT = {
    "sku": "TEE-RED-M",
    "name": "T-Shirt rot, M",
    "price": {"net": "19.99", "currency": "EUR"},
    "vat_class": "standard",
    "stock": 10,
}

ORDER = {
    "customer": {"email": "anna@example.de", "name": "Anna Muster"},
    "shipping_address": {
        "name": "Anna Muster",
        "street": "Hauptstr. 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
    },
    "lines": [{"sku": "TEE-RED-M", "quantity": 2}],
}


def order_placed_envelope(
    order_id: str | None = None, number: int = 1, customer: Customer | None = None
) -> Envelope:
    """A valid OrderPlaced as the orders service would publish it (by ``customer``, else
    Anna Muster, a guest)."""
    order_id = order_id or str(uuid.uuid4())
    address = Address(
        name="Anna Muster", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"
    )
    event = OrderPlaced(
        order_id=order_id,
        order_number=f"B-2026-{number:06d}",
        customer=customer or Customer(email="anna@example.de", name="Anna Muster"),
        shipping_address=address,
        billing_address=None,
        lines=[
            OrderLine(
                line_no=1,
                sku="TEE-RED-M",
                name="T-Shirt rot, M",
                quantity=2,
                unit_price_net=Decimal("19.99"),
                unit_price_gross=Decimal("23.79"),
                vat_rate=Decimal("0.19"),
                line_net=Decimal("39.98"),
                line_vat=Decimal("7.60"),
                line_gross=Decimal("47.58"),
            ),
            OrderLine(
                line_no=2,
                sku="BOOK-1",
                name="Kochbuch",
                quantity=1,
                unit_price_net=Decimal("18.69"),
                unit_price_gross=Decimal("20.00"),
                vat_rate=Decimal("0.07"),
                line_net=Decimal("18.69"),
                line_vat=Decimal("1.31"),
                line_gross=Decimal("20.00"),
            ),
        ],
        currency="EUR",
        net_total=Decimal("58.67"),
        vat_total=Decimal("8.91"),
        gross_total=Decimal("67.58"),
        placed_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="orders", aggregate_id=order_id)


def order_confirmed_envelope(placed: Envelope) -> Envelope:
    """The OrderConfirmed orders would publish for the OrderPlaced ``placed`` (same
    order, same flow): billing invoices on it."""
    order_id = placed.aggregate_id
    event = OrderConfirmed(
        order_id=order_id,
        order_number=placed.payload.get("order_number"),
        confirmed_at=datetime.now(UTC),
    )
    return Envelope.wrap(
        event, producer="orders", aggregate_id=order_id, correlation_id=placed.correlation_id
    )
