"""The assortment's rules: gross prices per VAT class and what a product may be."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kontor_catalog.domain.product import VAT_RATES, Product, ProductError, gross_price

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _create(**overrides: Any) -> Product:
    values: dict[str, Any] = {
        "sku": "TEE-RED-M",
        "name": "T-Shirt rot, M",
        "price_net": Decimal("19.99"),
        "currency": "EUR",
        "vat_class": "standard",
        "stock": 10,
        "now": NOW,
    }
    values.update(overrides)
    return Product.create(**values)


@pytest.mark.parametrize(
    ("net", "vat_class", "gross"),
    [
        ("19.99", "standard", "23.79"),  # 23.7881
        ("17.66", "reduced", "18.90"),  # 18.8962
        ("19.99", "zero", "19.99"),
        ("0", "standard", "0.00"),
        # exactly half a cent: half up, where banker's rounding would go down
        ("1.50", "standard", "1.79"),  # 1.7850
        ("1.50", "reduced", "1.61"),  # 1.6050
        ("0.005", "zero", "0.01"),
        ("0.0050", "zero", "0.01"),
        # just below and just above half a cent
        ("0.0042", "standard", "0.00"),  # 0.004998
        ("0.0043", "standard", "0.01"),  # 0.005117
        ("0.0046", "reduced", "0.00"),  # 0.004922
        ("0.0047", "reduced", "0.01"),  # 0.005029
        ("0.0049", "zero", "0.00"),
    ],
)
def test_gross_price_is_net_plus_vat_rounded_half_up_to_the_cent(
    net: str, vat_class: str, gross: str
) -> None:
    result = gross_price(Decimal(net), vat_class, "EUR")
    assert result == Decimal(gross)
    assert result.as_tuple().exponent == -2  # always two places, also for "0"


def test_vat_rates_are_the_german_ones() -> None:
    assert {
        "standard": Decimal("0.19"),
        "reduced": Decimal("0.07"),
        "zero": Decimal("0"),
    } == VAT_RATES


@given(
    cents=st.integers(min_value=0, max_value=10**11),
    vat_class=st.sampled_from(sorted(VAT_RATES)),
)
def test_gross_price_is_within_half_a_cent_of_the_exact_value(cents: int, vat_class: str) -> None:
    net = Decimal(cents).scaleb(-2)
    exact = net * (1 + VAT_RATES[vat_class])
    gross = gross_price(net, vat_class, "EUR")
    assert exact - Decimal("0.005") < gross <= exact + Decimal("0.005")
    assert gross >= net


def test_product_exposes_rate_and_gross_of_its_class() -> None:
    product = _create(price_net=Decimal("10.50"), vat_class="reduced")
    assert product.vat_rate == Decimal("0.07")
    assert product.price_gross == Decimal("11.24")  # 11.235 half up


def test_create_trims_the_name_and_starts_at_version_1() -> None:
    product = _create(name="  Kochbuch  ")
    assert product.name == "Kochbuch"
    assert product.version == 1
    assert product.discontinued is False
    assert product.created_at == NOW


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": ""}, ("sku",)),
        ({"sku": "-LEADING-DASH"}, ("sku",)),
        ({"sku": "HAS SPACE"}, ("sku",)),
        ({"sku": "X" * 65}, ("sku",)),
        ({"sku": "UMLAUT-Ä"}, ("sku",)),
        ({"name": ""}, ("name",)),
        ({"name": "   "}, ("name",)),
        ({"vat_class": "super-reduced"}, ("vat_class",)),
        ({"vat_class": "STANDARD"}, ("vat_class",)),
        ({"price_net": Decimal("-0.01")}, ("price", "net")),
        ({"stock": -1}, ("stock",)),
    ],
)
def test_a_rule_broken_names_the_field(overrides: dict[str, Any], field: tuple[str, ...]) -> None:
    with pytest.raises(ProductError) as caught:
        _create(**overrides)
    assert caught.value.field == field
    assert str(caught.value)  # a message a person can read


def test_a_slash_is_not_allowed_in_a_sku() -> None:
    # A SKU is one segment of /products/{sku}; with "/" it could never be read back.
    with pytest.raises(ProductError) as caught:
        _create(sku="TEE/RED/M")
    assert caught.value.field == ("sku",)


def test_product_error_is_a_value_error() -> None:
    assert issubclass(ProductError, ValueError)


@pytest.mark.parametrize("sku", ["A", "TEE-RED-M", "a.b_c-d", "9" * 64])
def test_valid_skus_are_accepted(sku: str) -> None:
    assert _create(sku=sku).sku == sku


def test_zero_price_and_zero_stock_are_allowed() -> None:
    product = _create(price_net=Decimal("0"), stock=0)
    assert product.price_gross == Decimal("0.00")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _create(now=datetime(2026, 3, 2, 9, 30))  # noqa: DTZ001
