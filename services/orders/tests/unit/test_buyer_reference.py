"""A public-sector buyer's Leitweg-ID (issue 11): its format and check digits are checked on
``POST /orders`` and it travels in OrderPlaced for billing's XRechnung (BT-10)."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.events.orders import OrderPlaced
from kontor_contracts.samples import ORDER
from kontor_orders.api.orders import OrderIn
from kontor_orders.domain.leitweg import check_digits, leitweg_id_problem
from pydantic import ValidationError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value", ["04011000-12345-03", "991-33333TEST-33", "04011000-1234512345-06", "12-62"]
)
def test_well_formed_leitweg_ids_with_right_check_digits_pass(value: str) -> None:
    assert leitweg_id_problem(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("04011000-12345-04", "should be 03"),
        ("04011000-12345", "2 check digits"),
        ("4-12345-03", "2-12 digits"),
        ("04011000_12345_03", "hyphens"),
        ("04011000-123 45-03", "hyphens"),
    ],
)
def test_wrong_leitweg_ids_are_refused_with_the_reason(value: str, says: str) -> None:
    problem = leitweg_id_problem(value)
    assert problem is not None and says in problem


def test_check_digits_are_iso_7064_mod_97_10() -> None:
    assert check_digits("0401100012345") == "03"
    assert check_digits("99133333TEST") == "33"


def test_the_order_body_takes_and_checks_a_buyer_reference() -> None:
    body = OrderIn.model_validate({**ORDER, "buyer_reference": " 04011000-12345-03 "})
    assert body.buyer_reference == "04011000-12345-03"
    with pytest.raises(ValidationError) as refused:
        OrderIn.model_validate({**ORDER, "buyer_reference": "04011000-12345-99"})
    assert refused.value.errors()[0]["loc"] == ("buyer_reference",)


async def test_the_buyer_reference_travels_in_order_placed(world: Any) -> None:
    order = await world.place(buyer_reference="04011000-12345-03")
    assert world.order(order.id).buyer_reference == "04011000-12345-03"
    [placed] = world.db.events(OrderPlaced)
    assert placed.buyer_reference == "04011000-12345-03"


async def test_without_one_the_event_carries_none(world: Any) -> None:
    await world.place()
    [placed] = world.db.events(OrderPlaced)
    assert placed.buyer_reference is None


async def test_the_customers_locale_travels_in_order_placed(world: Any) -> None:
    """The shop's locale decides the invoice's language in billing (ADR 0025's
    ``OrderPlaced.locale``) and the rating mail's in support; orders only keeps and
    publishes it."""
    order = await world.place(locale="en-GB")
    assert world.order(order.id).locale == "en-GB"
    [placed] = world.db.events(OrderPlaced)
    assert placed.locale == "en-GB"
