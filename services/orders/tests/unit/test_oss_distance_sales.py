"""Distance sales to consumers abroad: German VAT below the One-Stop-Shop threshold,
the destination's rates from the sale that crosses it (§3c UStG, ADR 0026)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.catalog import ReservationShortfall, StockReservationRejected
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.order_life import cancel_order, on_stock_reservation_rejected
from kontor_orders.application.place_order import PlaceOrder, place_order
from kontor_orders.domain.order import Address, Order
from kontor_servicekit.fakes import envelope_of

from .conftest import ANNA, HOME

pytestmark = pytest.mark.unit

PARIS = Address(name="Anne Dupont", street="1 Rue", postcode="75001", city="Paris", country="FR")
VIENNA = replace(PARIS, city="Wien", postcode="1010", country="AT")


async def _order(world: Any, address: Address, quantity: int, **kw: Any) -> Order:
    fields: dict[str, Any] = {"lines": [("BIG", quantity)], **kw.pop("command", {})}
    command = PlaceOrder(
        customer=ANNA,
        shipping_address=address,
        billing_address=None,
        buyer_vat_id=kw.pop("buyer_vat_id", None),
        **fields,
    )
    return await place_order(world.transactor, world.numbers, command, world.clock, **kw)


def _total(world: Any, year: int) -> Decimal:
    rows = {r["_id"]: r["net"] for r in world.db.rows("oss_distance_sales")}
    return Decimal(rows.get(str(year), "0"))


@pytest.fixture
async def shop(world: Any) -> Any:
    await world.product("BIG", "1000.00")  # 1,190.00 gross
    await world.product("BOOK", "10.00", vat_rate="0.07")
    return world


async def test_below_the_threshold_german_vat_then_the_crossing_sale_is_taxed_abroad(
    shop: Any,
) -> None:
    first = await _order(shop, PARIS, 4)  # 4,000 net
    second = await _order(shop, VIENNA, 5)  # 9,000
    assert (first.vat_country, second.vat_country) == (None, None)
    assert {line.vat_rate for line in [*first.lines, *second.lines]} == {Decimal("0.19")}
    assert _total(shop, 2026) == Decimal("9000.00")

    # 9,000 + 1,000 = 10,000: not exceeded yet
    at_limit = await _order(shop, PARIS, 1)
    assert at_limit.vat_country is None
    crossing = await _order(shop, PARIS, 1)  # 10,000 + 1,000 at home rates: exceeds
    assert crossing.vat_treatment == "oss_distance_sale"
    assert crossing.vat_country == "FR"
    [line] = crossing.lines
    assert line.vat_rate == Decimal("0.20")
    assert line.line_gross == Decimal("1190.00")  # the shop's gross stays
    assert (line.line_net, line.line_vat) == (Decimal("991.67"), Decimal("198.33"))
    assert _total(shop, 2026) == Decimal("10991.67")  # the net invoiced counts

    later = await _order(shop, VIENNA, 1)
    assert later.vat_country == "AT"
    assert later.lines[0].vat_rate == Decimal("0.20")
    event = [e for e in shop.new_events() if isinstance(e, OrderPlaced)][-1]
    assert event.vat_country == "AT"
    assert event.vat_total == later.vat_total


async def test_domestic_and_business_sales_neither_count_nor_change(shop: Any) -> None:
    await _order(shop, HOME, 20)
    company = replace(VIENNA, company="Gruber GmbH")
    b2b = await _order(shop, company, 20, buyer_vat_id="ATU13585627")
    assert b2b.vat_treatment == "intra_community_supply"
    assert _total(shop, 2026) == Decimal("0")
    consumer = await _order(shop, PARIS, 1)
    assert consumer.vat_country is None


async def test_last_years_total_over_the_threshold_taxes_the_whole_year_abroad(
    shop: Any,
) -> None:
    shop.clock.set(datetime(2025, 12, 1, 10, tzinfo=UTC))
    for _ in range(10):
        await _order(shop, PARIS, 1)
    crossing = await _order(shop, PARIS, 1)  # 11,000 at home rates: crosses in 2025
    assert crossing.vat_country == "FR"
    assert _total(shop, 2025) > Decimal("10000")
    shop.clock.set(datetime(2026, 1, 2, 10, tzinfo=UTC))
    first_of_the_year = await _order(shop, VIENNA, 1)
    assert first_of_the_year.vat_country == "AT"
    assert _total(shop, 2026) == first_of_the_year.net_total


async def test_an_opt_in_taxes_abroad_from_the_first_euro_reduced_rate_for_reduced(
    shop: Any,
) -> None:
    order = await _order(
        shop, PARIS, 1, oss_opt_in=True, command={"lines": [("BIG", 1), ("BOOK", 2)]}
    )
    rates = {line.sku: line.vat_rate for line in order.lines}
    assert rates == {"BIG": Decimal("0.20"), "BOOK": Decimal("0.055")}
    assert order.gross_total == Decimal("1190.00") + Decimal("21.40")


async def test_a_cancelled_or_rejected_distance_sale_is_taken_off_the_total_once(
    shop: Any,
) -> None:
    kept = await _order(shop, PARIS, 5)
    cancelled = await _order(shop, VIENNA, 5)
    assert _total(shop, 2026) == Decimal("10000.00")
    await cancel_order(
        shop.transactor, cancelled.id, reason="customer", cancelled_by="m.mueller", clock=shop.clock
    )
    assert _total(shop, 2026) == Decimal("5000.00")
    assert shop.order(cancelled.id).distance_sale_net is None
    rejected = await _order(shop, PARIS, 1)
    refusal = StockReservationRejected(
        order_id=rejected.id,
        reasons=[ReservationShortfall(sku="BIG", requested=1, available=0)],
    )
    for _ in range(2):  # a redelivery takes nothing back twice
        await shop.deliver(
            on_stock_reservation_rejected, refusal, envelope_of(refusal, occurred_at=shop.clock())
        )
    assert _total(shop, 2026) == Decimal("5000.00")
    # 5,000 + 6,000 at home rates exceeds it again: the next sale is taxed abroad
    assert (await _order(shop, PARIS, 6)).vat_country == "FR"
    assert kept.distance_sale_net == Decimal("5000.00")
