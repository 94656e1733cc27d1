"""Carts: pricing, changes, checkout, abandonment after a quiet period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_orders.domain.cart import Cart, NoSuchLine
from kontor_orders.domain.events import CartWasAbandoned, CartWasChanged, CheckoutWasStarted
from kontor_orders.domain.order import IllegalTransition, OrderError, PricedProduct

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
QUIET = timedelta(hours=2)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("19.99"), Decimal("0.19"), "EUR")
BOOK = PricedProduct("BOOK", "Buch", Decimal("18.69"), Decimal("0.07"), "EUR")
CHF = PricedProduct("SWISS", "Uhr", Decimal("100"), Decimal("0.081"), "CHF")


def cart() -> Cart:
    return Cart(id="c-1", created_at=T0, last_activity_at=T0)


def test_lines_are_priced_and_valued_like_order_lines() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 2, T0)
    c.set_line(BOOK, "BOOK", 1, T0)
    assert c.lines[0].unit_price_gross == Decimal("23.79")
    # 39.98 + 7.60 and 18.69 + 1.31
    assert c.value == Decimal("47.58") + Decimal("20.00")


def test_set_line_replaces_quantity_in_place_and_remove_drops_it() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 2, T0)
    c.set_line(BOOK, "BOOK", 1, T0)
    c.set_line(TEE, "TEE", 5, T0 + timedelta(minutes=1))
    assert [(line.sku, line.quantity) for line in c.lines] == [("TEE", 5), ("BOOK", 1)]
    assert c.last_activity_at == T0 + timedelta(minutes=1)
    c.pull_events()
    c.remove_line("TEE", T0)
    assert c.pull_events() == [CartWasChanged("c-1")]
    with pytest.raises(NoSuchLine) as caught:
        c.remove_line("TEE", T0)
    assert str(caught.value) == "cart 'c-1' holds no 'TEE'"
    assert c.pull_events() == []
    assert [line.sku for line in c.lines] == ["BOOK"]


@pytest.mark.parametrize(
    ("product", "sku", "quantity", "field"),
    [
        (None, "NOPE", 1, ("path", "sku")),
        (PricedProduct("OLD", "x", Decimal(1), Decimal(0), "EUR", True), "OLD", 1, ("path", "sku")),
        (TEE, "TEE", 0, ("body", "quantity")),
        (TEE, "TEE", 1000, ("body", "quantity")),
    ],
)
def test_bad_lines_are_refused(
    product: PricedProduct | None, sku: str, quantity: int, field: tuple[str, ...]
) -> None:
    c = cart()
    with pytest.raises(OrderError) as caught:
        c.set_line(product, sku, quantity, T0)
    assert caught.value.field == field
    assert c.lines == []


def test_one_currency_per_cart() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 1, T0)
    with pytest.raises(OrderError):
        c.set_line(CHF, "SWISS", 1, T0)


def test_checkout_of_an_empty_cart_is_refused() -> None:
    with pytest.raises(OrderError):
        cart().start_checkout(T0)


def test_cart_is_abandoned_only_after_checkout_and_the_quiet_period() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 1, T0)
    assert c.pull_events() == [CartWasChanged("c-1")]
    c.abandon(T0 + QUIET * 10, QUIET)  # never checked out: just a cart
    assert c.pull_events() == []
    c.start_checkout(T0 + timedelta(minutes=5))
    assert c.pull_events() == [CheckoutWasStarted("c-1")]
    c.abandon(T0 + timedelta(minutes=5) + QUIET - timedelta(milliseconds=1), QUIET)
    assert c.pull_events() == []
    c.abandon(T0 + timedelta(minutes=5) + QUIET, QUIET)
    assert c.pull_events() == [CartWasAbandoned("c-1", T0 + timedelta(minutes=5))]
    assert c.status == "abandoned"
    c.abandon(T0 + QUIET * 10, QUIET)  # once
    assert c.pull_events() == []


def test_activity_during_checkout_postpones_abandonment() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 1, T0)
    c.start_checkout(T0)
    c.set_line(TEE, "TEE", 2, T0 + QUIET - timedelta(minutes=1))
    c.pull_events()
    c.abandon(T0 + QUIET, QUIET)
    assert c.pull_events() == []
    assert c.status == "checkout"


def test_changing_an_abandoned_cart_reopens_it() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 1, T0)
    c.start_checkout(T0)
    c.abandon(T0 + QUIET, QUIET)
    c.set_line(BOOK, "BOOK", 1, T0 + QUIET * 2)
    assert c.status == "open" and c.abandoned_at is None


def test_ordered_cart_is_closed() -> None:
    c = cart()
    c.set_line(TEE, "TEE", 1, T0)
    assert c.order_from() == [("TEE", 1)]
    c.mark_ordered("o-1", T0)
    for change in (
        lambda: c.set_line(TEE, "TEE", 3, T0),
        lambda: c.remove_line("TEE", T0),
        lambda: c.start_checkout(T0),
        lambda: c.order_from(),
    ):
        with pytest.raises(IllegalTransition) as caught:
            change()
        assert caught.value.current_state == "ordered"
