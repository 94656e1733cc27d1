"""PAngV: the 30-day lowest price behind a strike-through price, and base prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_catalog.domain.pricing import (
    PricePoint,
    base_price,
    reference_price,
)
from kontor_catalog.domain.product import ProductError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(days_ago: float, net: str, vat_class: str = "zero") -> PricePoint:
    return PricePoint(NOW - timedelta(days=days_ago), Decimal(net), vat_class, "EUR")


def test_no_history_before_the_current_price_means_no_reference() -> None:
    assert reference_price([]).lowest_30_days is None
    only = reference_price([at(0, "10.00")])
    assert (only.lowest_30_days, only.strike_through) == (None, None)


def test_reduction_is_struck_through_against_the_lowest_of_30_days() -> None:
    history = [at(60, "30.00"), at(20, "25.00"), at(10, "28.00"), at(0, "19.99")]
    ref = reference_price(history)
    assert ref.lowest_30_days == Decimal("25.00")
    assert ref.strike_through == Decimal("25.00")


def test_price_in_effect_when_the_window_opened_counts() -> None:
    # 22.00 from 45 days ago until 10 days ago: it applied inside the window.
    ref = reference_price([at(45, "22.00"), at(10, "30.00"), at(0, "25.00")])
    assert ref.lowest_30_days == Decimal("22.00")
    assert ref.strike_through is None  # 25 is not below 22: no reduction to announce


def test_prices_that_ended_before_the_window_do_not_count() -> None:
    ref = reference_price([at(50, "5.00"), at(31, "30.00"), at(0, "20.00")])
    assert ref.lowest_30_days == Decimal("30.00")
    assert ref.strike_through == Decimal("30.00")


def test_a_short_lived_low_price_blocks_the_strike_through() -> None:
    # the "raise and cut" trick: briefly 15, up to 40, then "reduced" to 20
    ref = reference_price([at(20, "15.00"), at(5, "40.00"), at(0, "20.00")])
    assert ref.lowest_30_days == Decimal("15.00")
    assert ref.strike_through is None


def test_reference_is_gross_and_follows_vat_class() -> None:
    ref = reference_price([at(10, "10.00", "standard"), at(0, "10.00", "reduced")])
    assert ref.lowest_30_days == Decimal("11.90")
    assert ref.strike_through == Decimal("11.90")


def test_base_price_per_kilogram_litre_and_metre() -> None:
    assert base_price(Decimal("2.49"), Decimal("250"), "g", "EUR").amount == Decimal("9.96")
    assert base_price(Decimal("2.49"), Decimal("250"), "g", "EUR").per == "1 kg"
    assert base_price(Decimal("1.99"), Decimal("0.75"), "l", "EUR").amount == Decimal("2.65")
    assert base_price(Decimal("1.00"), Decimal("330"), "ml", "EUR").per == "1 l"
    assert base_price(Decimal("12.00"), Decimal("5"), "m", "EUR").amount == Decimal("2.40")
    assert base_price(Decimal("0.05"), Decimal("200"), "cm", "EUR").amount == Decimal(
        "0.03"
    )  # 0.025 up


def test_base_price_refuses_nonsense() -> None:
    with pytest.raises(ProductError):
        base_price(Decimal("1"), Decimal("0"), "kg", "EUR")
    with pytest.raises(ProductError):
        base_price(Decimal("1"), Decimal("1"), "stone", "EUR")
