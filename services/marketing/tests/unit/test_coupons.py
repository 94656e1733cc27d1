"""Coupon definitions: one kind of amount, sensible bounds and windows, field paths for
what is wrong; a use is counted once per order and a single-use coupon shows as used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.marketing import CouponDefined, CouponRedeemed
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.coupons import DefineCoupon, define_coupon, on_order_placed
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.domain_errors import Conflict, Invalid
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"code": "x"}, ("code",)),
        ({"percent": Decimal("10"), "value": Decimal("5")}, ("percent_off",)),
        ({"percent": None}, ("percent_off",)),
        ({"percent": Decimal("120")}, ("percent_off",)),
        ({"valid_until": AT - timedelta(days=1)}, ("valid_until",)),
        (
            {"valid_from": AT + timedelta(days=2), "valid_until": AT + timedelta(days=1)},
            ("valid_until",),
        ),
        ({"uses_per_customer": 0}, ("uses_per_customer",)),
        ({"max_redemptions": 0}, ("max_redemptions",)),
        ({"product_skus": ("TEE-1", " ")}, ("product_skus", 1)),
        ({"category_ids": ("",)}, ("category_ids", 0)),
    ],
)
def test_a_bad_definition_is_refused_at_its_field(fields: dict[str, Any], path: tuple[str]) -> None:
    values: dict[str, Any] = {"code": "WINTER10", "percent": Decimal("10"), "value": None}
    values.update(fields)
    with pytest.raises(Invalid) as refused:
        Coupon.define(currency="EUR", now=AT, **values)
    assert refused.value.field == path


async def test_a_use_is_counted_once_per_order_and_reported() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    command = DefineCoupon("sorry5", percent=None, value=Decimal("5.00"), single_use=True)
    await define_coupon(transactor, command, clock=lambda: AT)
    with pytest.raises(Conflict):
        await define_coupon(transactor, command, clock=lambda: AT)
    [defined] = transactor.db.events(CouponDefined)
    assert (defined.code, defined.kind, defined.value, defined.single_use) == (
        "SORRY5",
        "value",
        Decimal("5.00"),
        True,
    )
    envelope = order_placed_envelope()
    placed = envelope.payload_model()
    event = placed.model_copy(
        update={
            "coupon_codes": ["SORRY5"],
            "discount_gross": Decimal("5.00"),
            "coupon_discounts": {"SORRY5": Decimal("5.00")},
        }
    )
    assert await transactor.deliver(on_order_placed, event)
    assert await transactor.deliver(on_order_placed, event)  # another envelope, same order
    [redeemed] = transactor.db.events(CouponRedeemed)
    assert (redeemed.code, redeemed.discount, redeemed.customer_email) == (
        "SORRY5",
        Decimal("5.00"),
        "anna@example.de",
    )
    [coupon] = transactor.db.rows("coupons")
    assert (coupon.redemptions, coupon.status(AT)) == (1, "used")


async def test_the_limits_are_announced_and_a_coupon_used_up_shows_as_used() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    command = DefineCoupon("TWICE", Decimal("10"), None, uses_per_customer=1, max_redemptions=2)
    coupon = await define_coupon(transactor, command, clock=lambda: AT)
    [defined] = transactor.db.events(CouponDefined)
    assert (defined.uses_per_customer, defined.max_redemptions) == (1, 2)
    for n in (1, 2):
        coupon.redeemed(f"o-{n}", Decimal("1"), AT)
        assert coupon.status(AT) == ("active" if n == 1 else "used")


async def test_a_restriction_to_products_and_categories_is_announced_to_orders() -> None:
    """ADR 0116: the SKUs and category ids travel in CouponDefined, each once; a coupon
    without them announces none (v1 subscribers see the event they knew)."""
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    restricted = DefineCoupon(
        "TEES15",
        Decimal("15"),
        None,
        product_skus=("MUG-1", " MUG-1 "),
        category_ids=("t-shirts", "T-Shirts"),
    )
    coupon = await define_coupon(transactor, restricted, clock=lambda: AT)
    assert (coupon.product_skus, coupon.category_ids) == (("MUG-1",), ("t-shirts",))
    await define_coupon(transactor, DefineCoupon("ALL10", Decimal("10"), None), clock=lambda: AT)
    tees, everything = transactor.db.events(CouponDefined)
    assert (tees.product_skus, tees.category_ids) == (["MUG-1"], ["t-shirts"])
    assert (everything.product_skus, everything.category_ids) == (None, None)
    assert "product_skus" not in everything.model_dump(exclude_none=True)
