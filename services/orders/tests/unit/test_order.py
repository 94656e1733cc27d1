"""Placing an order: how lines are priced and which requests are refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kontor_contracts.bounds import MAX_QUANTITY
from kontor_contracts.money import quantize
from kontor_orders.domain.order import (
    Address,
    Customer,
    Order,
    OrderError,
    OrderLine,
    PricedProduct,
)

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
TEE = PricedProduct("TEE-RED-M", "T-Shirt rot, M", Decimal("19.99"), Decimal("0.19"), "EUR")
BOOK = PricedProduct("BOOK-1", "Kochbuch", Decimal("18.69"), Decimal("0.07"), "EUR")
CATALOG = {p.sku: p for p in (TEE, BOOK)}
ANNA = Customer(email="anna@example.de", name="Anna Muster")
BERLIN = Address(
    name="Anna Muster", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"
)


def _place(
    requested: list[tuple[str, int]],
    products: dict[str, PricedProduct] | None = None,
    **overrides: Any,
) -> Order:
    values: dict[str, Any] = {
        "order_id": "o-1",
        "number": "B-2026-000001",
        "customer": ANNA,
        "shipping_address": BERLIN,
        "billing_address": None,
        "requested": requested,
        "products": CATALOG if products is None else products,
        "now": NOW,
    }
    values.update(overrides)
    return Order.place(**values)


def _line(net: str, rate: str, quantity: int = 1) -> OrderLine:
    """A business buyer's (net-priced) single line."""
    product = PricedProduct("X", "X", Decimal(net), Decimal(rate), "EUR")
    order = _place(
        [("X", quantity)],
        {"X": product},
        buyer_vat_id="DE136695976",
        billing_address=replace(BERLIN, company="Muster GmbH"),
    )
    return order.lines[0]


# --------------------------------------------------------------------------- line pricing


def test_line_is_priced_from_the_catalog_and_rounded_per_line() -> None:
    order = _place([("TEE-RED-M", 2), ("BOOK-1", 1)])
    tee, book = order.lines
    assert (tee.line_no, tee.sku, tee.name, tee.quantity) == (1, "TEE-RED-M", "T-Shirt rot, M", 2)
    assert tee.unit_price_gross == Decimal("23.79")  # 23.7881
    assert tee.line_net == Decimal("39.98")
    assert tee.line_vat == Decimal("7.60")  # 7.5962
    assert tee.line_gross == Decimal("47.58")
    assert book.line_no == 2
    assert book.unit_price_gross == Decimal("20.00")  # 19.9983
    assert (book.line_net, book.line_vat, book.line_gross) == (
        Decimal("18.69"),
        Decimal("1.31"),  # 1.3083
        Decimal("20.00"),
    )
    # the same figures as the sample OrderPlaced of the contracts
    assert (order.net_total, order.vat_total, order.gross_total) == (
        Decimal("58.67"),
        Decimal("8.91"),
        Decimal("67.58"),
    )
    assert order.currency == "EUR"


def test_vat_is_computed_on_the_line_net_not_summed_from_unit_vat() -> None:
    # 3 x 0.35 at 19 %: unit VAT 0.0665 -> 0.07 would give 0.21; on the line 0.1995 -> 0.20.
    line = _line("0.35", "0.19", quantity=3)
    assert line.line_net == Decimal("1.05")
    assert line.line_vat == Decimal("0.20")
    assert line.line_gross == Decimal("1.25")
    assert line.unit_price_gross * 3 == Decimal("1.26")  # why gross is not unit gross x qty


@pytest.mark.parametrize(
    ("net", "rate", "quantity", "vat"),
    [
        ("1.50", "0.19", 1, "0.29"),  # 0.285: half up (half even would give 0.28)
        ("2.50", "0.07", 1, "0.18"),  # 0.175
        ("0.0125", "0", 1, "0.00"),
        ("0.0125", "0.19", 4, "0.01"),  # net 0.05 -> VAT 0.0095
    ],
)
def test_line_vat_rounds_half_up(net: str, rate: str, quantity: int, vat: str) -> None:
    assert _line(net, rate, quantity).line_vat == Decimal(vat)


def test_four_decimal_unit_price_is_rounded_on_the_line_net() -> None:
    line = _line("0.0125", "0.19", quantity=3)  # 0.0375
    assert line.line_net == Decimal("0.04")
    assert line.unit_price_gross == Decimal("0.01")  # 0.014875


@given(
    lines=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10_000_000),  # unit net in 1/10000
            st.sampled_from(["0.19", "0.07", "0"]),
            st.integers(min_value=1, max_value=MAX_QUANTITY),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda t: t[0],
    )
)
def test_totals_are_the_sums_of_the_rounded_lines(lines: list[tuple[int, str, int]]) -> None:
    # ADR 0017: a consumer's line gross is quantity x displayed unit gross; the VAT is
    # derived once per rate from the gross sum and spread over the lines (it was
    # rounded per line from the net, so a line's VAT was within half a cent of its
    # net x rate; now the rate's VAT is, and the lines add up to it)
    products = {
        f"SKU-{i}": PricedProduct(f"SKU-{i}", "x", Decimal(n).scaleb(-4), Decimal(r), "EUR")
        for i, (n, r, _) in enumerate(lines)
    }
    order = _place([(f"SKU-{i}", q) for i, (_, _, q) in enumerate(lines)], products)
    assert order.net_total == sum(line.line_net for line in order.lines)
    assert order.vat_total == sum(line.line_vat for line in order.lines)
    assert order.gross_total == sum(line.line_gross for line in order.lines)
    for line in order.lines:
        assert line.line_net.as_tuple().exponent == -2
        assert line.line_vat.as_tuple().exponent == -2
        assert line.line_gross == line.quantity * line.unit_price_gross
        assert line.line_net + line.line_vat == line.line_gross
    for row in order.vat_breakdown:
        rate_gross = sum(x.line_gross for x in order.lines if x.vat_rate == row.vat_rate)
        assert row.gross == rate_gross
        assert row.vat == quantize(rate_gross * row.vat_rate / (1 + row.vat_rate), "EUR")


@pytest.mark.parametrize(
    ("gross", "quantity", "line_gross"),
    [("14.99", 2, "29.98"), ("19.99", 3, "59.97"), ("19.99", 6, "119.94")],
)
def test_a_consumers_line_is_quantity_times_the_displayed_unit_gross(
    gross: str, quantity: int, line_gross: str
) -> None:
    # issue 10 point 1: these were 29.99, 59.98 and 119.95, rounded from the net
    net = (Decimal(gross) / Decimal("1.19")).quantize(Decimal("0.0001"))  # as the catalog keeps it
    product = PricedProduct("P", "P", net, Decimal("0.19"), "EUR", price_gross=Decimal(gross))
    order = _place([("P", quantity)], {"P": product})
    [line] = order.lines
    assert line.unit_price_gross == Decimal(gross)
    assert line.line_gross == order.gross_total == Decimal(line_gross)
    assert line.line_vat == quantize(Decimal(line_gross) * Decimal("0.19") / Decimal("1.19"), "EUR")
    assert order.price_basis == "gross"


def test_the_vat_of_a_consumer_order_is_derived_per_rate_from_the_gross_sum() -> None:
    # two 19 % lines of 14.99 (VAT 2.39 each from its own gross, 4.78 together) and the
    # gross sum 29.98 whose VAT is 4.7866 -> 4.79: the rate's VAT is 4.79
    a = PricedProduct(
        "A", "A", Decimal("12.5966"), Decimal("0.19"), "EUR", price_gross=Decimal("14.99")
    )
    b = replace(a, sku="B")
    order = _place([("A", 1), ("B", 1)], {"A": a, "B": b})
    assert [row.vat for row in order.vat_breakdown] == [Decimal("4.79")]
    assert sorted(line.line_vat for line in order.lines) == [Decimal("2.39"), Decimal("2.40")]
    assert order.gross_total == Decimal("29.98")


def test_a_business_buyer_is_priced_from_the_net_with_vat_per_rate() -> None:
    order = _place(
        [("TEE-RED-M", 6)],
        buyer_vat_id="DE136695976",
        billing_address=replace(BERLIN, company="Muster GmbH"),
    )
    [line] = order.lines
    assert order.price_basis == "net"
    assert (line.line_net, line.line_vat, line.line_gross) == (
        Decimal("119.94"),
        Decimal("22.79"),  # 22.7886
        Decimal("142.73"),
    )


# --------------------------------------------------------------------------- refusals


def test_unknown_sku_names_the_line() -> None:
    with pytest.raises(OrderError) as caught:
        _place([("TEE-RED-M", 1), ("NOPE", 1)])
    assert caught.value.field == ("lines", 1, "sku")
    assert "NOPE" in str(caught.value)


def test_discontinued_product_cannot_be_ordered() -> None:
    products = {**CATALOG, "TEE-RED-M": replace(TEE, discontinued=True)}
    with pytest.raises(OrderError, match="discontinued") as caught:
        _place([("BOOK-1", 1), ("TEE-RED-M", 1)], products)
    assert caught.value.field == ("lines", 1, "sku")


def test_the_second_line_of_a_duplicate_sku_is_named() -> None:
    with pytest.raises(OrderError, match="twice") as caught:
        _place([("TEE-RED-M", 1), ("BOOK-1", 1), ("TEE-RED-M", 2)])
    assert caught.value.field == ("lines", 2, "sku")


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 1000])
def test_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    with pytest.raises(OrderError) as caught:
        _place([("BOOK-1", 1), ("TEE-RED-M", quantity)])
    assert caught.value.field == ("lines", 1, "quantity")


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_quantity_bounds_are_inclusive(quantity: int) -> None:
    assert _place([("TEE-RED-M", quantity)]).lines[0].quantity == quantity


def test_max_quantity_is_999() -> None:
    assert MAX_QUANTITY == 999


def test_an_order_needs_a_line() -> None:
    with pytest.raises(OrderError) as caught:
        _place([])
    assert caught.value.field == ("lines",)


def test_mixed_currencies_are_refused() -> None:
    chf = PricedProduct("SWISS-1", "Schokolade", Decimal("3.00"), Decimal("0.07"), "CHF")
    with pytest.raises(OrderError, match="currency") as caught:
        _place([("TEE-RED-M", 1), ("SWISS-1", 1)], {**CATALOG, "SWISS-1": chf})
    assert caught.value.field == ("lines",)


def test_order_in_another_single_currency_takes_that_currency() -> None:
    chf = PricedProduct("SWISS-1", "Schokolade", Decimal("3.00"), Decimal("0.07"), "CHF")
    assert _place([("SWISS-1", 2)], {"SWISS-1": chf}).currency == "CHF"


def test_lines_are_rounded_to_the_minor_unit_of_the_orders_currency() -> None:
    camera = PricedProduct("CAM-1", "Kamera", Decimal("1000.5"), Decimal("0.1"), "JPY")
    order = _place([("CAM-1", 1)], {"CAM-1": camera})
    [line] = order.lines
    # yen have no minor unit: 1000.5 -> 1001 net, 100.1 -> 100 VAT
    assert (line.line_net, line.line_vat, line.line_gross) == (
        Decimal("1001"),
        Decimal("100"),
        Decimal("1101"),
    )
    assert line.unit_price_gross == Decimal("1101")  # 1100.55
    assert order.gross_total == Decimal("1101")


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _place([("TEE-RED-M", 1)], now=datetime(2026, 5, 4, 10, 0))  # noqa: DTZ001


def test_order_error_is_a_value_error() -> None:
    assert issubclass(OrderError, ValueError)


# --------------------------------------------------------------------------- placement


def test_placed_order_records_when_and_its_status() -> None:
    at = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    order = _place([("TEE-RED-M", 1)], now=at)
    assert order.status == "placed"
    assert order.placed_at == at
    assert [(e.event, e.at, e.status) for e in order.timeline] == [("placed", at, "placed")]
    assert order.version == 1


def test_price_is_fixed_at_placement() -> None:
    products = dict(CATALOG)
    order = _place([("TEE-RED-M", 2)], products)
    # the catalog changes the price afterwards (a new PricedProduct arrives)
    products["TEE-RED-M"] = replace(TEE, price_net=Decimal("25.00"), vat_rate=Decimal("0.07"))
    line = order.lines[0]
    assert line.unit_price_net == Decimal("19.99")
    assert line.vat_rate == Decimal("0.19")
    assert order.gross_total == Decimal("47.58")
    # and a new order gets the new price
    assert _place([("TEE-RED-M", 2)], products).gross_total == Decimal("53.50")


def test_lines_are_immutable() -> None:
    line = _place([("TEE-RED-M", 1)]).lines[0]
    with pytest.raises(AttributeError):
        line.quantity = 5  # type: ignore[misc]
