"""The use-case unit tests' world: the orders service over its in-memory unit of work.

``world`` holds a ``FakeTransactor`` over ``InMemoryOrdersUnitOfWork`` (a block that
raises leaves nothing behind), a ``FakeClock`` and gap-free order numbers, plus
helpers that bring orders into a state through the same use cases the routes and
consumers call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.catalog import ReservationLine, StockReserved
from kontor_orders.application.order_life import deliver_order, on_stock_reserved, ship_order
from kontor_orders.application.place_order import PlaceOrder, place_order
from kontor_orders.domain.order import Address, Customer, Order
from kontor_orders.store.memory import InMemoryNumbers, InMemoryOrdersUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeDatabase, FakeTransactor, envelope_of

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
ANNA = Customer(email="anna@example.de", name="Anna Muster")
HOME = Address(
    name="Anna Muster", street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"
)


class World:
    def __init__(self) -> None:
        self.transactor = FakeTransactor(InMemoryOrdersUnitOfWork)
        self.clock = FakeClock(T0)
        self.numbers = InMemoryNumbers()
        self._seen = 0

    @property
    def db(self) -> FakeDatabase:
        return self.transactor.db

    # ------------------------------------------------------------ what happened

    def new_events(self) -> list[Any]:
        """The events committed since the last call, oldest first."""
        events = self.db.events()[self._seen :]
        self._seen = len(self.db.outbox)
        return events

    def new_event_types(self) -> list[str]:
        return [type(e).__name__ for e in self.new_events()]

    def order(self, order_id: str) -> Order:
        [order] = [o for o in self.db.rows("orders") if o.id == order_id]
        assert isinstance(order, Order)
        return order

    # ------------------------------------------------------------ the catalog

    async def product(
        self,
        sku: str,
        net: str = "10.00",
        *,
        vat_rate: str = "0.19",
        currency: str = "EUR",
        weight_grams: int | None = None,
        discontinued: bool = False,
    ) -> None:
        facts = {
            "name": f"Artikel {sku}",
            "price_net": Decimal(net),
            "vat_rate": Decimal(vat_rate),
            "vat_class": "standard",
            "currency": currency,
            "discontinued": discontinued,
            "weight_grams": weight_grams,
        }
        await self.transactor.run(lambda uow: uow.products.apply(sku, facts, self.clock()))

    async def shipping_method(
        self,
        method_id: str,
        net: str,
        *,
        free_from: str | None = None,
        countries: tuple[str, ...] = ("DE",),
    ) -> None:
        state = {
            "name": method_id,
            "carrier": "DHL",
            "basis": "weight",
            "zones": [{"zone_id": "z", "countries": list(countries)}],
            "rates": [{"zone_id": "z", "price_net": Decimal(net), "max_weight_grams": None}],
            "free_from": None if free_from is None else Decimal(free_from),
            "currency": "EUR",
            "vat_rate": Decimal("0.19"),
            "active": True,
        }
        await self.transactor.run(
            lambda uow: uow.shipping_methods.replace(method_id, state, self.clock())
        )

    # ------------------------------------------------------------ use cases

    async def deliver(self, handler: Any, event: Event, envelope: Envelope | None = None) -> bool:
        """An event through a consumer handler, in one unit with the inbox."""
        return await self.transactor.deliver(handler, event, envelope)

    async def place(
        self, lines: Sequence[tuple[str, int]] | None = (("TEE", 2), ("MUG", 1)), **changes: Any
    ) -> Order:
        """Place Anna's order (``lines=None`` with a ``cart_id`` to order a cart)."""
        fields: dict[str, Any] = {
            "customer": ANNA,
            "shipping_address": HOME,
            "billing_address": None,
            "lines": None if lines is None else list(lines),
        }
        fields.update(changes)
        return await place_order(self.transactor, self.numbers, PlaceOrder(**fields), self.clock)

    async def confirmed(self, **changes: Any) -> Order:
        order = await self.place(**changes)
        reserved = StockReserved(
            order_id=order.id, lines=[ReservationLine(sku="TEE", quantity=2, warehouse="main")]
        )
        await self.deliver(
            on_stock_reserved, reserved, envelope_of(reserved, occurred_at=self.clock())
        )
        return self.order(order.id)

    async def delivered(self, **changes: Any) -> Order:
        """Placed, confirmed, shipped completely (a day later) and delivered (a day after)."""
        order = await self.confirmed(**changes)
        self.clock.advance(timedelta(days=1))
        await ship_order(
            self.transactor,
            order.id,
            carrier="DHL",
            tracking_number="1",
            lines=[(line.line_no, line.quantity) for line in order.lines],
            clock=self.clock,
        )
        self.clock.advance(timedelta(days=1))
        return await deliver_order(self.transactor, order.id, delivered_at=None, clock=self.clock)


@pytest.fixture
async def world() -> World:
    w = World()
    await w.product("TEE", "10.00", weight_grams=200)
    await w.product("MUG", "5.00", weight_grams=400)
    return w
