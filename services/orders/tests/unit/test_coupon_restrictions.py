"""Coupons restricted to products or categories (issue 15, ADR 0116): only eligible lines
are discounted, an amount off is capped at them and spread over them (cents, the
remainder to the largest line), a minimum order value counts them, and an order without
one is refused at the code's place."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.catalog import ProductCreated, ProductUpdated
from kontor_contracts.events.marketing import CouponDefined
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.catalog_projection import (
    project_product_created,
    project_product_updated,
)
from kontor_orders.application.coupon_projection import project_coupon_defined
from kontor_orders.domain.coupons import (
    Article,
    Coupon,
    CouponLine,
    coupon_discount,
    spread,
)
from kontor_orders.domain.order import Address, OrderError
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
D = Decimal


def line(sku: str, gross: str, category: str | None = None, parent: str | None = None) -> Any:
    categories = frozenset(() if category is None else (category,))
    return CouponLine(Article(sku, parent, categories), gross=D(gross), base=D(gross))


#: A mixed cart: two T-shirts (one a variant of TEE) and a mug.
CART = [
    line("TEE-RED-M", "40.00", "t-shirts", parent="TEE"),
    line("MUG", "10.00", "mugs"),
    line("TEE-BLUE-L", "19.99", "t-shirts", parent="TEE"),
]


def percent(code: str, p: str, **fields: Any) -> Coupon:
    return Coupon(code=code, kind="percent", percent=D(p), **fields)


def amount(code: str, v: str, **fields: Any) -> Coupon:
    return Coupon(code=code, kind="value", value=D(v), **fields)


def apply(*coupons: Coupon, lines: list[Any] = CART) -> tuple[list[Decimal], list[Decimal]]:
    """What each line got off, and what each coupon took."""
    discounts, applied = coupon_discount(
        [c.code for c in coupons],
        {c.code: c for c in coupons},
        used=set(),
        lines=lines,
        currency="EUR",
        now=NOW,
    )
    return discounts, [taken for _, taken in applied]


# ----------------------------------------------------------------------- the spread


def test_the_cents_left_by_rounding_down_go_to_the_largest_line() -> None:
    # 1.00 over 3 : 3 : 1 is 0.4285.., 0.4285.., 0.1428..: 0.42 + 0.42 + 0.14 = 0.98;
    # the 2 cents go to the largest line (the first of the two equal ones), not one each
    assert spread(D("1.00"), [D("3.00"), D("3.00"), D("1.00")], "EUR") == [
        D("0.44"),
        D("0.42"),
        D("0.14"),
    ]
    assert spread(D("0.00"), [D("3.00")], "EUR") == [D("0")]


def test_the_remainder_moves_on_where_the_largest_line_is_used_up() -> None:
    assert spread(D("0.02"), [D("0.01"), D("0.01"), D("0.01")], "EUR") == [
        D("0.01"),
        D("0.01"),
        D("0.00"),
    ]
    with pytest.raises(ValueError):
        spread(D("0.04"), [D("0.01"), D("0.01"), D("0.01")], "EUR")  # more than the lines
    with pytest.raises(ValueError):
        spread(D("0.015"), [D("1.00")], "EUR")  # not in cents


# ----------------------------------------------------------------------- restrictions


def test_a_percent_off_a_category_discounts_only_its_lines() -> None:
    discounts, taken = apply(percent("TEES10", "10", category_ids=frozenset({"t-shirts"})))
    # 10 % of 59.99 = 6.00 (5.999); 6.00 x 40/59.99 = 4.0006 -> 4.00, x 19.99/59.99 -> 1.99,
    # the cent left to the largest line
    assert taken == [D("6.00")]
    assert discounts == [D("4.01"), D("0"), D("1.99")]


def test_unrestricted_a_percent_off_takes_from_every_line() -> None:
    discounts, taken = apply(percent("ALL10", "10"))
    assert taken == [D("7.00")]  # 10 % of 69.99 = 6.999
    assert discounts == [D("4.01"), D("1.00"), D("1.99")]  # 4.0005.., 1.0001.., 1.9994..


def test_an_amount_off_is_spread_over_the_eligible_lines_only() -> None:
    discounts, taken = apply(amount("TEES10", "10.00", category_ids=frozenset({"t-shirts"})))
    # 10.00 x 40/59.99 = 6.667 -> 6.66, x 19.99/59.99 = 3.332 -> 3.33; the cent to 40.00
    assert taken == [D("10.00")]
    assert discounts == [D("6.67"), D("0"), D("3.33")]


def test_an_amount_off_is_capped_at_the_eligible_lines() -> None:
    discounts, taken = apply(amount("MUG25", "25.00", product_skus=frozenset({"MUG"})))
    assert (discounts, taken) == ([D("0"), D("10.00"), D("0")], [D("10.00")])


def test_a_parents_sku_takes_in_its_variants() -> None:
    discounts, _ = apply(amount("TEE5", "5.00", product_skus=frozenset({"TEE"})))
    assert discounts == [D("3.34"), D("0"), D("1.66")]  # 3.3338.. and 1.6661..


def test_a_line_matching_products_or_categories_is_eligible() -> None:
    either = percent(
        "MIX", "50", product_skus=frozenset({"TEE-BLUE-L"}), category_ids=frozenset({"mugs"})
    )
    discounts, _ = apply(either)
    assert discounts == [D("0"), D("5.00"), D("10.00")]  # 50 % of 29.99 = 15.00 (14.995)


def test_an_order_without_an_eligible_line_is_refused_at_the_code() -> None:
    shoes = percent("SHOES", "10", category_ids=frozenset({"shoes"}))
    with pytest.raises(OrderError) as refused:
        coupon_discount(
            ["ALL10", "SHOES"],
            {"ALL10": percent("ALL10", "10"), "SHOES": shoes},
            used=set(),
            lines=CART,
            currency="EUR",
            now=NOW,
        )
    assert refused.value.field == ("coupon_codes", 1)
    assert "applies to none of the order's articles" in str(refused.value)


def test_a_minimum_order_value_counts_the_eligible_lines_when_restricted() -> None:
    mugs = amount("MUG3", "3.00", category_ids=frozenset({"mugs"}), minimum_order_value=D("30.00"))
    with pytest.raises(OrderError, match=r"of the articles it applies to of at least 30\.00"):
        apply(mugs)  # the order is 69.99, its mugs 10.00
    anything = amount("ANY3", "3.00", minimum_order_value=D("30.00"))
    assert apply(anything)[1] == [D("3.00")]
    two_mugs = [*CART[:1], line("MUG", "30.00", "mugs")]
    assert apply(mugs, lines=two_mugs)[0] == [D("0"), D("3.00")]


def test_a_second_coupon_takes_from_what_the_first_left_of_its_lines() -> None:
    tees = amount("TEES10", "10.00", category_ids=frozenset({"t-shirts"}))
    discounts, taken = apply(tees, percent("ALL10", "10"))
    # left: 33.33, 10.00, 16.66 = 59.99; 10 % = 6.00 (3.3335.. -> 3.33, 1.0001.. -> 1.00,
    # 1.6662.. -> 1.66, the cent to 33.33)
    assert taken == [D("10.00"), D("6.00")]
    assert discounts == [D("10.01"), D("1.00"), D("4.99")]


# ------------------------------------------------------------- through the use case


async def created(
    world: Any,
    sku: str,
    gross: str,
    category: str | None,
    parent: str | None = None,
    *,
    categories: list[str] | None = None,
) -> None:
    """ProductCreated as the catalog announces it (``categories`` None: as it did before
    it told every category, only the first as ``category``)."""
    event = ProductCreated(
        sku=sku,
        name=f"Artikel {sku}",
        price_net=(D(gross) / D("1.19")).quantize(D("0.01")),
        price_gross=D(gross),
        vat_class="standard",
        vat_rate=D("0.19"),
        currency="EUR",
        stock=10,
        category=category,
        categories=categories,
        parent_sku=parent,
        variant_attributes=None if parent is None else {"size": "M"},
    )
    await world.deliver(
        project_product_created, event, envelope_of(event, occurred_at=world.clock())
    )


async def define(world: Any, **fields: Any) -> None:
    event = CouponDefined(**fields)
    await world.deliver(
        project_coupon_defined, event, envelope_of(event, occurred_at=world.clock())
    )


async def test_a_category_code_discounts_the_variant_of_a_product_in_it(world: Any) -> None:
    await created(world, "SHIRT", "20.00", "t-shirts")
    await created(world, "SHIRT-M", "20.00", None, parent="SHIRT")  # takes its parent's
    await created(world, "CUP", "10.00", "mugs")
    await define(world, code="TEES10", kind="value", value=D("10.00"), category_ids=["t-shirts"])
    order = await world.place(lines=[("SHIRT-M", 2), ("CUP", 3)], coupon_codes=["TEES10"])
    assert order.discount_gross == D("10.00")
    assert order.line_discounts() == {1: D("10.00"), 2: D("0")}
    assert [x.line_gross for x in order.lines] == [D("30.00"), D("30.00")]
    assert order.gross_total == D("60.00")
    [placed] = world.db.events(OrderPlaced)
    assert placed.coupon_discounts == {"TEES10": D("10.00")}
    assert [x.line_gross for x in placed.lines] == [D("30.00"), D("30.00")]


async def test_a_product_moved_out_of_the_category_is_no_longer_eligible(world: Any) -> None:
    await created(world, "CUP", "10.00", "mugs")
    await define(world, code="MUGS20", kind="percent", percent=D("20"), category_ids=["mugs"])
    first = await world.place(lines=[("CUP", 1), ("TEE", 1)], coupon_codes=["MUGS20"])
    assert first.line_discounts() == {1: D("2.00"), 2: D("0")}
    moved = ProductUpdated(sku="CUP", changed_fields=["category"], category="sale")
    await world.deliver(
        project_product_updated, moved, envelope_of(moved, occurred_at=world.clock())
    )
    with pytest.raises(OrderError, match="applies to none") as refused:
        await world.place(lines=[("CUP", 1), ("TEE", 1)], coupon_codes=["MUGS20"])
    assert refused.value.field == ("coupon_codes", 0)
    assert len(world.db.rows("orders")) == 1


async def test_a_business_buyer_gets_the_restricted_discount_off_the_net(world: Any) -> None:
    await define(world, code="MUG5", kind="value", value=D("5.00"), product_skus=["MUG"])
    firma = Address(
        name="Einkauf",
        company="Muster GmbH",
        street="Hauptstr. 1",
        postcode="10115",
        city="Berlin",
        country="DE",
    )
    order = await world.place(
        lines=[("TEE", 1), ("MUG", 2)],
        coupon_codes=["MUG5"],
        buyer_vat_id="DE136695976",
        shipping_address=firma,
    )
    # net: TEE 10.00, MUG 2 x 5.00 = 10.00 less 5.00; VAT 19 % on 15.00 = 2.85
    assert [x.line_net for x in order.lines] == [D("10.00"), D("5.00")]
    assert order.net_total == D("15.00") and order.vat_total == D("2.85")


async def test_every_category_of_a_product_counts_not_only_its_first(world: Any) -> None:
    await created(world, "SHIRT", "20.00", "kleidung", categories=["kleidung", "sale"])
    await define(world, code="SALE50", kind="percent", percent=D("50"), category_ids=["sale"])
    order = await world.place(lines=[("SHIRT", 1), ("MUG", 1)], coupon_codes=["SALE50"])
    assert order.line_discounts() == {1: D("10.00"), 2: D("0")}
    out = ProductUpdated(sku="SHIRT", changed_fields=["categories", "category"], categories=[])
    await world.deliver(project_product_updated, out, envelope_of(out, occurred_at=world.clock()))
    with pytest.raises(OrderError, match="applies to none"):
        await world.place(lines=[("SHIRT", 1)], coupon_codes=["SALE50"])
