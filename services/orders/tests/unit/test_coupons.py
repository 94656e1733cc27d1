"""Coupons at placement (issue 10 point 3): unknown codes refused, known ones applied
from the read model, single-use codes used once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.marketing import CouponCodesIssued, CouponDefined, CouponWithdrawn
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.coupon_projection import (
    project_coupon_codes_issued,
    project_coupon_defined,
    project_coupon_withdrawn,
)
from kontor_orders.domain.order import Customer, OrderError
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit


async def define(world: Any, **fields: Any) -> None:
    event = CouponDefined(**{"kind": "percent", "percent": Decimal("10"), **fields})
    await world.deliver(
        project_coupon_defined, event, envelope_of(event, occurred_at=world.clock())
    )


async def test_an_unknown_coupon_is_refused_at_its_place(world: Any) -> None:
    # before: WINTER10 was accepted, stored, carried in OrderPlaced, nothing discounted
    with pytest.raises(OrderError) as caught:
        await world.place(coupon_codes=["WINTER10"])
    assert caught.value.field == ("coupon_codes", 0)
    assert "WINTER10" in str(caught.value)
    assert world.db.rows("orders") == [] and world.numbers.issued == {}


async def test_a_percent_coupon_is_taken_off_the_goods_and_spread_over_the_lines(
    world: Any,
) -> None:
    await define(world, code="WINTER10")
    await world.shipping_method("standard", "4.16")
    order = await world.place(coupon_codes=["WINTER10"], shipping_method="standard")
    # goods 2 x 11.90 + 5.95 = 29.75 gross; 10 % = 2.98 (2.975 half up)
    assert order.discount_gross == Decimal("2.98")
    assert sum(line.line_gross for line in order.lines) == Decimal("26.77")
    assert order.shipping is not None and order.shipping.gross == Decimal("4.95")
    assert order.gross_total == Decimal("26.77") + Decimal("4.95")
    [placed] = world.db.events(OrderPlaced)
    assert placed.discount_gross == Decimal("2.98")
    assert placed.coupon_codes == ["WINTER10"]
    assert placed.coupon_discounts == {"WINTER10": Decimal("2.98")}  # marketing's CouponRedeemed
    assert sum(order.line_discounts().values()) == Decimal("2.98")  # shown per line
    assert placed.gross_total == sum(x.line_gross for x in placed.lines) + Decimal("4.95")


async def test_a_value_coupon_with_a_minimum_order_value(world: Any) -> None:
    await define(
        world,
        code="FIVE",
        kind="value",
        percent=None,
        value=Decimal("5.00"),
        minimum_order_value=Decimal("30.00"),
    )
    with pytest.raises(OrderError, match=r"at least 30\.00"):
        await world.place(coupon_codes=["FIVE"])  # 29.75
    order = await world.place(lines=[("TEE", 3)], coupon_codes=["FIVE"])  # 35.70
    assert order.gross_total == Decimal("30.70")


async def test_outside_its_validity_or_withdrawn_a_coupon_is_refused(world: Any) -> None:
    now = world.clock()
    await define(world, code="LATER", valid_from=now + timedelta(days=1))
    await define(world, code="OVER", valid_until=now)
    await define(world, code="GONE")
    gone = CouponWithdrawn(code="GONE")
    await world.deliver(project_coupon_withdrawn, gone, envelope_of(gone, occurred_at=now))
    for code in ("LATER", "OVER", "GONE"):
        with pytest.raises(OrderError) as caught:
            await world.place(coupon_codes=["LATER", code][-1:])
        assert caught.value.field == ("coupon_codes", 0)


async def test_a_single_use_code_is_used_once(world: Any) -> None:
    await define(world, code="ONCE-ABC", single_use=True)
    first = await world.place(coupon_codes=["ONCE-ABC"])
    assert first.discount_gross == Decimal("2.98")
    with pytest.raises(OrderError, match="used already") as caught:
        await world.place(coupon_codes=["ONCE-ABC"])
    assert caught.value.field == ("coupon_codes", 0)
    assert [r["order_id"] for r in world.db.rows("coupon_redemptions")] == [first.id]
    assert len(world.db.rows("orders")) == 1


async def test_each_code_of_a_pool_is_a_single_use_coupon_of_the_pools_rules(
    world: Any,
) -> None:
    """ADR 0118: a batch of a pool's codes makes each a single-use coupon of its rules."""
    batch = CouponCodesIssued(
        pool_id="pool-1",
        codes=["WELCOME-7K3Q-9XPA", "WELCOME-M4HT-2WZC"],
        batch=0,
        kind="value",
        value=Decimal("5.00"),
        minimum_order_value=Decimal("20.00"),
    )
    await world.deliver(
        project_coupon_codes_issued, batch, envelope_of(batch, occurred_at=world.clock())
    )
    first = await world.place(coupon_codes=["WELCOME-7K3Q-9XPA"])  # 29.75 goods
    assert first.discount_gross == Decimal("5.00")
    with pytest.raises(OrderError, match="used already") as caught:
        await world.place(coupon_codes=["WELCOME-7K3Q-9XPA"])
    assert caught.value.field == ("coupon_codes", 0)
    other = await world.place(coupon_codes=["WELCOME-M4HT-2WZC"])  # its sibling still works
    assert other.discount_gross == Decimal("5.00")
    with pytest.raises(OrderError) as unknown:
        await world.place(coupon_codes=["WELCOME-AAAA-BBBB"])  # not issued
    assert unknown.value.field == ("coupon_codes", 0)


async def test_a_code_limited_per_customer_and_in_all_is_counted_at_placement(
    world: Any,
) -> None:
    """ADR 0057: uses per customer (by the pseudonymous subject of the e-mail, so the
    counters hold no address) and in all, counted in the order's transaction."""
    await define(world, code="TWICE", uses_per_customer=1, max_redemptions=2)
    await world.place(coupon_codes=["TWICE"])
    with pytest.raises(OrderError, match="by this customer") as caught:
        await world.place(
            coupon_codes=["TWICE"], customer=Customer(email=" Anna@Example.de", name="Anna")
        )
    assert caught.value.field == ("coupon_codes", 0)
    await world.place(
        coupon_codes=["TWICE"], customer=Customer(email="bert@example.de", name="Bert")
    )
    with pytest.raises(OrderError, match="as often as it may be"):
        await world.place(
            coupon_codes=["TWICE"], customer=Customer(email="carla@example.de", name="Carla")
        )
    counters = {r["_id"]: r["count"] for r in world.db.rows("coupon_redemptions")}
    assert counters["TWICE#all"] == 2
    assert not any("@" in key for key in counters)
    assert len(world.db.rows("orders")) == 2
