"""The one evaluation of shipping rate tables: bounds, open rows, free shipping, VAT, gross."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kontor_servicekit.shipping_rates import (
    FREE,
    RateRow,
    bound_of,
    rate_net,
    shipping_gross,
    shipping_vat,
)

pytestmark = pytest.mark.unit

WEIGHT = (
    RateRow("de", Decimal("4.16"), max_weight_grams=2000),
    RateRow("de", Decimal("5.80"), max_weight_grams=10000),
    RateRow("de", Decimal("8.32")),
    RateRow("eu", Decimal("12.00")),
)
VALUE = (
    RateRow("de", Decimal("12.60"), max_value=Decimal("100")),
    RateRow("de", Decimal("8.40")),
)


def weight_net(grams: int, rates: tuple[RateRow, ...] = WEIGHT, zone: str = "de") -> Decimal | None:
    return rate_net(
        rates,
        basis="weight",
        zone_id=zone,
        weight_grams=grams,
        goods_gross=Decimal("10"),
        free_from=Decimal("50.00"),
    )


@pytest.mark.parametrize(
    ("grams", "net"),
    [(0, "4.16"), (2000, "4.16"), (2001, "5.80"), (10000, "5.80"), (10001, "8.32")],
)
def test_the_first_row_whose_bound_fits_applies_bounds_inclusive(grams: int, net: str) -> None:
    assert weight_net(grams) == Decimal(net)


def test_rows_are_taken_by_their_bound_not_their_position() -> None:
    shuffled = (WEIGHT[2], WEIGHT[3], WEIGHT[1], WEIGHT[0])
    assert [weight_net(g, shuffled) for g in (0, 2001, 10001)] == [
        Decimal("4.16"),
        Decimal("5.80"),
        Decimal("8.32"),
    ]


def test_zones_and_beyond_the_last_bounded_row() -> None:
    assert weight_net(99999, zone="eu") == Decimal("12.00")
    assert weight_net(1, zone="ch") is None  # no rows for the zone
    bounded_only = (RateRow("de", Decimal("1"), max_weight_grams=5),)
    assert weight_net(5, bounded_only) == Decimal("1")
    assert weight_net(6, bounded_only) is None


def test_value_basis_uses_the_gross_goods_value_and_ignores_weights() -> None:
    def net(goods: str) -> Decimal | None:
        return rate_net(
            VALUE,
            basis="value",
            zone_id="de",
            weight_grams=10**6,
            goods_gross=Decimal(goods),
            free_from=None,
        )

    assert (net("100"), net("100.01")) == (Decimal("12.60"), Decimal("8.40"))
    assert bound_of(RateRow("de", Decimal(1), max_weight_grams=5), "value") is None
    assert bound_of(RateRow("de", Decimal(1), max_value=Decimal(5)), "weight") is None


def test_free_from_the_threshold_inclusive() -> None:
    def net(goods: str) -> Decimal | None:
        return rate_net(
            WEIGHT,
            basis="weight",
            zone_id="de",
            weight_grams=500,
            goods_gross=Decimal(goods),
            free_from=Decimal("50.00"),
        )

    assert net("50.00") == FREE
    assert str(net("50.00")) == "0.00"
    assert net("49.99") == Decimal("4.16")


@pytest.mark.parametrize(
    ("net", "rate", "vat", "gross"),
    [
        ("12.60", "0.19", "2.39", "14.99"),  # 2.394
        ("4.16", "0.19", "0.79", "4.95"),  # 0.7904
        ("0.05", "0.07", "0.00", "0.05"),  # 0.0035
        ("0.50", "0.07", "0.04", "0.54"),  # 0.035: half up
        ("4.2017", "0.19", "0.80", "5.0017"),  # 0.798323; a net beyond cents stays so
        ("0.00", "0.19", "0.00", "0.00"),
    ],
)
def test_vat_is_rounded_half_up_and_gross_is_net_plus_vat(
    net: str, rate: str, vat: str, gross: str
) -> None:
    assert shipping_vat(Decimal(net), Decimal(rate), "EUR") == Decimal(vat)
    assert shipping_gross(Decimal(net), Decimal(rate), "EUR") == Decimal(gross)


def test_rounding_follows_the_currency() -> None:
    assert shipping_vat(Decimal("1000"), Decimal("0.19"), "JPY") == Decimal("190")
    assert shipping_vat(Decimal("1005"), Decimal("0.1"), "JPY") == Decimal("101")  # 100.5
    assert shipping_gross(Decimal("1005"), Decimal("0.1"), "JPY") == Decimal("1106")


cents = st.integers(min_value=0, max_value=10**7).map(lambda c: Decimal(c).scaleb(-2))


@given(net=cents, rate=st.sampled_from(["0", "0.07", "0.19", "0.081", "0.2"]))
def test_for_cent_nets_gross_is_the_rounded_net_times_one_plus_rate(
    net: Decimal, rate: str
) -> None:
    # net + round(net * rate) == round(net * (1 + rate)) whenever net is whole cents
    exact = net * (1 + Decimal(rate))
    assert shipping_gross(net, Decimal(rate), "EUR") == exact.quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
