"""Prices entered gross (B2C) are kept exactly; net-entered prices work as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kontor_catalog.domain.events import PriceWasChanged
from kontor_catalog.domain.pricing import VAT_RATES, gross_price, net_from_gross
from kontor_catalog.domain.product import Product, ProductError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _product(**price: Decimal) -> Product:
    return Product.create(
        sku="COFFEE-250",
        name="Kaffee 250 g",
        currency="EUR",
        vat_class="reduced",
        stock=5,
        now=NOW,
        **{"price_net": None, **price},
    )


@given(
    cents=st.integers(min_value=0, max_value=10_000_000),
    vat_class=st.sampled_from(sorted(VAT_RATES)),
)
def test_a_gross_price_is_kept_exactly_through_its_four_place_net(
    cents: int, vat_class: str
) -> None:
    gross = Decimal(cents).scaleb(-2)
    net = net_from_gross(gross, vat_class)
    assert net.as_tuple().exponent == -4
    assert gross_price(net, vat_class, "EUR") == gross


def test_a_product_priced_gross_shows_that_gross() -> None:
    # 14.99 entered gross: net 14.0093..., no net rounded to cents gives 14.99 back
    product = _product(price_gross=Decimal("14.99"))
    assert product.price_basis == "gross"
    assert product.price_gross == Decimal("14.99")
    assert product.price_net == Decimal("14.0093")


def test_a_product_priced_net_works_as_before() -> None:
    product = _product(price_net=Decimal("17.66"))
    assert (product.price_basis, product.price_gross) == ("net", Decimal("18.90"))


def test_net_and_gross_together_are_refused() -> None:
    with pytest.raises(ProductError) as caught:
        _product(price_net=Decimal("1"), price_gross=Decimal("1.07"))
    assert caught.value.field == ("price",)


def test_a_vat_change_keeps_a_gross_entered_price() -> None:
    product = _product(price_gross=Decimal("14.99"))
    product.pull_events()
    product.change_price(None, "standard", NOW + timedelta(days=1))
    assert product.price_gross == Decimal("14.99")
    assert product.price_net == Decimal("12.5966")
    [event] = product.pull_events()
    assert isinstance(event, PriceWasChanged)
    assert event.new.gross == Decimal("14.99")


def test_a_new_gross_price_and_a_new_net_price_switch_the_basis() -> None:
    product = _product(price_net=Decimal("10.00"))
    product.change_price(None, "reduced", NOW, gross=Decimal("12.99"))
    assert (product.price_basis, product.price_gross) == ("gross", Decimal("12.99"))
    product.change_price(Decimal("10.00"), "reduced", NOW)
    assert (product.price_basis, product.price_gross) == ("net", Decimal("10.70"))
