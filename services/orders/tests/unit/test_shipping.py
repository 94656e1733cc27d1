"""Shipping charges: zones, weight and value rate tables, free shipping, the standard cap."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from kontor_orders.domain.order import OrderError
from kontor_orders.domain.shipping import RateRow, ShippingMethod, shipping_charge

STANDARD = ShippingMethod(
    method_id="standard",
    name="Standard",
    basis="weight",
    zones={"de": ("DE",), "eu": ("AT", "FR", "NL")},
    rates=(
        RateRow("de", Decimal("8.32"), max_weight_grams=None),
        RateRow("de", Decimal("4.16"), max_weight_grams=2000),
        RateRow("de", Decimal("5.80"), max_weight_grams=10000),
        RateRow("eu", Decimal("12.00")),
    ),
    currency="EUR",
    vat_rate=Decimal("0.19"),
    active=True,
    carrier="DHL",
    free_from=Decimal("50.00"),
)
EXPRESS = ShippingMethod(
    method_id="express",
    name="Express",
    basis="value",
    zones={"de": ("DE",)},
    rates=(
        RateRow("de", Decimal("12.60"), max_value=Decimal("100")),
        RateRow("de", Decimal("8.40")),
    ),
    currency="EUR",
    vat_rate=Decimal("0.19"),
    active=True,
)


@pytest.mark.parametrize(
    ("grams", "net"),
    [(0, "4.16"), (2000, "4.16"), (2001, "5.80"), (10000, "5.80"), (10001, "8.32")],
)
def test_weight_table_takes_the_first_row_whose_bound_fits(grams: int, net: str) -> None:
    assert STANDARD.price_net(
        country="DE", goods_gross=Decimal("10"), weight_grams=grams
    ) == Decimal(net)


def test_value_table_and_zones() -> None:
    assert EXPRESS.price_net(country="DE", goods_gross=Decimal("100"), weight_grams=0) == Decimal(
        "12.60"
    )
    assert EXPRESS.price_net(
        country="DE", goods_gross=Decimal("100.01"), weight_grams=0
    ) == Decimal("8.40")
    assert STANDARD.price_net(
        country="FR", goods_gross=Decimal("10"), weight_grams=99999
    ) == Decimal("12.00")


def test_free_from_a_gross_goods_value() -> None:
    assert STANDARD.price_net(country="DE", goods_gross=Decimal("50.00"), weight_grams=500) == 0


@pytest.mark.parametrize(
    ("method", "country", "message"),
    [
        (STANDARD, "CH", "does not ship to CH"),
        (replace(STANDARD, active=False), "DE", "no longer offered"),
        (
            replace(EXPRESS, rates=(RateRow("de", Decimal("1"), max_value=Decimal("5")),)),
            "DE",
            "no rate",
        ),
    ],
)
def test_refusals_point_at_the_shipping_method(
    method: ShippingMethod, country: str, message: str
) -> None:
    with pytest.raises(OrderError, match=message) as caught:
        method.price_net(country=country, goods_gross=Decimal("10"), weight_grams=100)
    assert caught.value.field == ("shipping_method",)


def test_charge_carries_what_standard_would_have_cost() -> None:
    charge = shipping_charge(
        EXPRESS,
        STANDARD,
        requested="express",
        currency="EUR",
        country="DE",
        goods_gross=Decimal("20"),
        weight_grams=500,
    )
    assert (charge.net, charge.gross, charge.standard_gross) == (
        Decimal("12.60"),
        Decimal("14.99"),
        Decimal("4.95"),
    )


def test_unknown_method_or_currency() -> None:
    with pytest.raises(OrderError, match="no shipping method"):
        shipping_charge(
            None,
            STANDARD,
            requested="drone",
            currency="EUR",
            country="DE",
            goods_gross=Decimal("1"),
            weight_grams=1,
        )
    with pytest.raises(OrderError, match="priced in EUR"):
        shipping_charge(
            EXPRESS,
            None,
            requested="express",
            currency="CHF",
            country="DE",
            goods_gross=Decimal("1"),
            weight_grams=1,
        )


def test_no_standard_to_the_destination_leaves_no_cap() -> None:
    only_de = replace(STANDARD, zones={"de": ("DE",)})
    to_at = replace(EXPRESS, zones={"de": ("AT",)})
    charge = shipping_charge(
        to_at,
        only_de,
        requested="express",
        currency="EUR",
        country="AT",
        goods_gross=Decimal("1"),
        weight_grams=1,
    )
    assert charge.standard_gross is None
