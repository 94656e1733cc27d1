"""Shipping methods: validation of zones and rate tables, and quoting an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.domain.product import ProductError
from kontor_catalog.domain.shipping import Rate, ShippingMethod, Zone

DE = Zone("de", ("DE",), "Deutschland")
EU = Zone("eu", ("AT", "NL"), "EU 1")


def method(**changes: Any) -> ShippingMethod:
    values: dict[str, Any] = {
        "method_id": "standard",
        "name": "DHL Paket",
        "basis": "weight",
        "zones": (DE, EU),
        "rates": (
            Rate("de", Decimal("4.12"), max_weight_grams=2000),
            Rate("de", Decimal("5.88"), max_weight_grams=31500),
            Rate("eu", Decimal("12.61")),
        ),
        "free_from": Decimal("50.00"),
    }
    values.update(changes)
    return ShippingMethod(**values)


def test_weight_based_quote_follows_the_table_and_the_threshold() -> None:
    m = method()
    assert m.quote(country="DE", weight_grams=2000, goods_value=Decimal("10")) == Decimal("4.12")
    assert m.quote(country="DE", weight_grams=2001, goods_value=Decimal("10")) == Decimal("5.88")
    assert m.quote(country="DE", weight_grams=40000, goods_value=Decimal("10")) is None
    assert m.quote(country="AT", weight_grams=40000, goods_value=Decimal("10")) == Decimal("12.61")
    assert m.quote(country="DE", weight_grams=100, goods_value=Decimal("50.00")) == Decimal("0.00")
    assert m.quote(country="CH", weight_grams=100, goods_value=Decimal("10")) is None
    inactive = method(active=False)
    assert inactive.quote(country="DE", weight_grams=1, goods_value=Decimal(1)) is None


def test_value_based_quote() -> None:
    m = method(
        basis="value",
        zones=(DE,),
        rates=(
            Rate("de", Decimal("5.00"), max_value=Decimal("20.00")),
            Rate("de", Decimal("2.50")),
        ),
        free_from=None,
    )
    assert m.quote(country="DE", weight_grams=0, goods_value=Decimal("20.00")) == Decimal("5.00")
    assert m.quote(country="DE", weight_grams=0, goods_value=Decimal("20.01")) == Decimal("2.50")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method_id": "Express!"}, ("id",)),
        ({"zones": ()}, ("zones",)),
        ({"zones": (DE, Zone("de", ("AT",)))}, ("zones",)),
        ({"zones": (DE, Zone("eu", ("DE",)))}, ("zones", 1, "countries")),
        ({"zones": (DE, Zone("eu", ()))}, ("zones", 1, "countries")),
        ({"rates": (Rate("xx", Decimal(1)),)}, ("rates", 0, "zone_id")),
        ({"rates": (Rate("de", Decimal(1)),)}, ("rates",)),  # eu has no rate
        (
            {"rates": (Rate("de", Decimal(1)), Rate("de", Decimal(2), 10), Rate("eu", Decimal(1)))},
            ("rates", 0),
        ),
        (
            {
                "rates": (
                    Rate("de", Decimal(1), 10),
                    Rate("de", Decimal(2), 10),
                    Rate("eu", Decimal(1)),
                )
            },
            ("rates", 1),
        ),
        (
            {"rates": (Rate("de", Decimal(1), max_value=Decimal(5)), Rate("eu", Decimal(1)))},
            ("rates", 0, "max_value"),
        ),
        ({"rates": (Rate("de", Decimal(-1)), Rate("eu", Decimal(1)))}, ("rates", 0, "price_net")),
        ({"free_from": Decimal(-1)}, ("free_from",)),
        ({"vat_rate": Decimal(19)}, ("vat_rate",)),
    ],
)
def test_broken_methods_are_refused_with_the_field(
    changes: dict[str, Any], field: tuple[str | int, ...]
) -> None:
    with pytest.raises(ProductError) as refused:
        method(**changes)
    assert refused.value.field == field
