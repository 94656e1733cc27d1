"""An accepted quote becomes an order at the quoted prices, once per quote number."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from kontor_contracts.events.billing import QuoteAccepted, QuotedLine
from kontor_contracts.events.common import Address, Customer
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.quote_orders import on_quote_accepted, order_id_of_quote
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit

ACCEPTED = datetime(2026, 12, 4, 10, 15, tzinfo=UTC)


def accepted(number: str = "AN-2026-000042") -> QuoteAccepted:
    return QuoteAccepted(
        quote_number=number,
        customer=Customer(email="einkauf@example.de", name="Erika Einkauf"),
        billing_address=Address(
            name="Erika Einkauf",
            company="Beispiel GmbH",
            street="Hauptstr. 1",
            postcode="10115",
            city="Berlin",
            country="DE",
        ),
        currency="EUR",
        lines=[
            QuotedLine(
                line_no=1,
                sku="TEE",
                name="T-Shirt rot, M",
                quantity=40,
                unit_price_net=Decimal("15.12"),
                unit_price_gross=Decimal("17.99"),
                vat_rate=Decimal("0.19"),
            )
        ],
        valid_until=date(2027, 1, 1),
        accepted_at=ACCEPTED,
    )


async def test_the_order_takes_the_quoted_prices_not_the_catalogs(world: Any) -> None:
    await world.product("TEE", "25.21")  # today's catalog price is higher
    handler = partial(on_quote_accepted, numbers=world.numbers)
    assert await world.transactor.deliver(handler, accepted())
    order = world.order(order_id_of_quote("AN-2026-000042"))
    assert order.quote_number == "AN-2026-000042"
    assert order.placed_at == ACCEPTED
    [line] = order.lines
    assert (line.quantity, line.unit_price_gross) == (40, Decimal("17.99"))
    assert order.gross_total == Decimal("719.60")
    assert order.billing_address is not None and order.billing_address.company == "Beispiel GmbH"
    assert order.shipping_address == order.billing_address
    [placed] = world.new_events()
    assert isinstance(placed, OrderPlaced)
    assert placed.lines[0].unit_price_gross == Decimal("17.99")


async def test_a_second_acceptance_of_the_same_quote_places_nothing(world: Any) -> None:
    handler = partial(on_quote_accepted, numbers=world.numbers)
    await world.transactor.deliver(handler, accepted())
    world.new_events()
    # another envelope (a replay from outside the inbox): the same quote number
    again = envelope_of(accepted(), aggregate_id="AN-2026-000042")
    assert await world.transactor.deliver(handler, accepted(), again)
    assert len(world.db.rows("orders")) == 1
    assert world.new_events() == []
    await world.transactor.deliver(handler, accepted("AN-2026-000043"))
    assert len(world.db.rows("orders")) == 2
