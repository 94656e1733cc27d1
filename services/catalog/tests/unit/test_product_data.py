"""Descriptive product data: GTIN on create, variants, PATCH semantics, discontinuing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.domain.events import (
    PriceWasChanged,
    ProductWasCreated,
    ProductWasDiscontinued,
    ProductWasUpdated,
)
from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product import Product, ProductError
from kontor_catalog.store.products import normalise_words, search_terms
from kontor_servicekit.domain_errors import IllegalTransition

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def product(**changes: Any) -> Product:
    values: dict[str, Any] = {
        "sku": "TEE-RED-M",
        "name": "T-Shirt rot, M",
        "price_net": Decimal("19.99"),
        "currency": "EUR",
        "vat_class": "standard",
        "stock": 1,
        "now": NOW,
    }
    values.update(changes)
    return Product.create(**values)


def test_gtin_with_wrong_check_digit_is_refused_on_create() -> None:
    assert product(gtin="4006381333931").gtin == "4006381333931"
    with pytest.raises(ProductError) as refused:
        product(gtin="4006381333932")
    assert refused.value.field == ("gtin",)


def test_a_variant_has_a_parent_and_variant_attributes_together() -> None:
    variant = product(parent_sku="TEE-RED", variant_attributes={"size": "M"})
    assert (variant.parent_sku, variant.variant_attributes) == ("TEE-RED", {"size": "M"})
    for changes in (
        {"parent_sku": "TEE-RED"},
        {"variant_attributes": {"size": "M"}},
        {"parent_sku": "TEE-RED", "variant_attributes": {}},
        {"parent_sku": "TEE-RED-M", "variant_attributes": {"size": "M"}},
    ):
        with pytest.raises(ProductError):
            product(**changes)


def test_a_new_product_records_that_it_was_created() -> None:
    assert product().pull_events() == [ProductWasCreated("TEE-RED-M")]


def test_update_records_only_what_changed_and_clears_with_none() -> None:
    p = product(brand="Nordfaser", categories=["a", "a", "b"])
    p.pull_events()
    assert p.categories == ["a", "b"]
    p.update({"name": " T-Shirt rot, M ", "brand": None, "name_en": "T-shirt red, M"})
    assert p.pull_events() == [ProductWasUpdated("TEE-RED-M", ("name_en", "brand"))]
    assert (p.brand, p.name_en) == (None, "T-shirt red, M")
    p.update({"attributes": {"material": "Baumwolle"}})
    assert p.pull_events() == [ProductWasUpdated("TEE-RED-M", ("attributes",))]
    p.update({"attributes": {"material": "Baumwolle"}})
    assert p.pull_events() == []


def test_a_price_change_records_old_and_new_and_the_same_price_records_nothing() -> None:
    p = product()
    p.pull_events()
    later = datetime(2026, 12, 1, tzinfo=UTC)
    p.change_price(Decimal("16.80"), "standard", later)
    assert (p.price_net, p.price_gross) == (Decimal("16.80"), Decimal("19.99"))
    assert p.pull_events() == [
        PriceWasChanged(
            "TEE-RED-M",
            old_net=Decimal("19.99"),
            old_gross=Decimal("23.79"),
            new=PricePoint(later, Decimal("16.80"), "standard", "EUR"),
        )
    ]
    p.change_price(Decimal("16.80"), "standard", later)
    assert p.pull_events() == []
    with pytest.raises(ProductError) as refused:
        p.change_price(Decimal("1"), "luxury", later)
    assert refused.value.field == ("vat_class",)


def test_update_refuses_blank_names_bad_gtins_and_prices() -> None:
    p = product()
    for changes, field in (
        ({"name": "  "}, ("name",)),
        ({"name": None}, ("name",)),
        ({"gtin": "12345678"}, ("gtin",)),
        ({"price_net": Decimal(1)}, ("price_net",)),
    ):
        with pytest.raises(ProductError) as refused:
            p.update(changes)
        assert refused.value.field == field
    assert p.name == "T-Shirt rot, M"


def test_discontinue_once() -> None:
    p = product()
    p.pull_events()
    p.discontinue(NOW, "end of line")
    assert (p.discontinued, p.discontinued_at, p.discontinue_reason) == (True, NOW, "end of line")
    assert p.pull_events() == [ProductWasDiscontinued("TEE-RED-M", "end of line", NOW)]
    with pytest.raises(IllegalTransition) as refused:
        p.discontinue(NOW, None)
    assert str(refused.value) == "cannot discontinue product TEE-RED-M: it is discontinued"
    assert refused.value.current_state == "discontinued"
    assert p.pull_events() == []


def test_search_terms_are_folded_lower_case_words() -> None:
    assert normalise_words("Größe XL, Café-Crème") == ["groesse", "xl", "cafe", "creme"]
    terms = search_terms(
        product(brand="Nordfaser", name_en="T-shirt red", attributes={"material": "Baumwolle"})
    )
    assert {"tee-red-m", "tee", "red", "m", "t", "shirt", "rot", "nordfaser", "baumwolle"} <= set(
        terms
    )
