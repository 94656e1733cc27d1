"""The invoicing use case over the in-memory unit of work (no database, no broker).

An order is invoiced on its confirmation (see ``test_invoice_life.py`` for the rest of
an invoice's life); these tests place and confirm it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest
from kontor_billing.application.invoicing import on_order_confirmed, on_order_placed
from kontor_billing.domain.invoice import Invoice
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import InvoiceIssued
from kontor_contracts.events.common import Address
from kontor_contracts.events.orders import OrderConfirmed, OrderPlaced, ShippingCharge
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit


def placed(order_id: str = "o-1", **changes: object) -> OrderPlaced:
    event = order_placed_envelope(order_id).payload_model()
    assert isinstance(event, OrderPlaced)
    return event.model_copy(update=changes)


def confirmed(order_id: str = "o-1") -> OrderConfirmed:
    return OrderConfirmed(order_id=order_id, confirmed_at=datetime(2026, 6, 1, 9, tzinfo=UTC))


async def place_and_confirm(
    transactor: FakeTransactor[InMemoryBillingUnitOfWork], clock: FakeClock, event: OrderPlaced
) -> None:
    await transactor.deliver(partial(on_order_placed, clock=clock), event)
    await transactor.deliver(partial(on_order_confirmed, clock=clock), confirmed(event.order_id))


def billing() -> tuple[FakeTransactor[InMemoryBillingUnitOfWork], FakeClock]:
    return FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(
        datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    )


async def test_a_placed_order_gets_an_invoice_with_the_years_first_number() -> None:
    transactor, clock = billing()
    await place_and_confirm(transactor, clock, placed())
    [invoice] = transactor.db.rows("invoices")
    assert invoice.number == "RE-2026-000001"
    assert invoice.issued_at == clock()
    [issued] = transactor.db.events(InvoiceIssued)
    assert issued.number == "RE-2026-000001"
    assert issued.order_id == "o-1"
    assert issued.gross_total == invoice.gross_total
    assert transactor.db.outbox[0].aggregate_id == invoice.id


async def test_numbers_follow_each_other_without_gaps() -> None:
    transactor, clock = billing()
    for n in range(3):
        await place_and_confirm(transactor, clock, placed(f"o-{n}"))
    numbers = sorted(i.number for i in transactor.db.rows("invoices"))
    assert numbers == ["RE-2026-000001", "RE-2026-000002", "RE-2026-000003"]


async def test_the_numbering_year_is_the_year_in_berlin() -> None:
    transactor, clock = billing()
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 January in Berlin
    await place_and_confirm(transactor, clock, placed())
    [invoice] = transactor.db.rows("invoices")
    assert invoice.number == "RE-2027-000001"
    assert transactor.db.sequences == {"invoice:2027": 1}


async def test_a_second_orderplaced_for_the_same_order_bills_nothing() -> None:
    transactor, clock = billing()
    handle = partial(on_order_placed, clock=clock)
    await place_and_confirm(transactor, clock, placed("o-1"))
    # another event id (a replay from elsewhere), so the inbox does not catch it
    await transactor.deliver(handle, placed("o-1"))
    await transactor.deliver(partial(on_order_confirmed, clock=clock), confirmed("o-1"))
    assert len(transactor.db.rows("invoices")) == 1
    assert transactor.db.event_types() == ["InvoiceIssued"]
    assert transactor.db.sequences == {"invoice:2026": 1}


async def test_shipping_is_its_own_line_and_the_billing_address_wins() -> None:
    transactor, clock = billing()
    company = Address(
        name="Bernd Beispiel",
        company="Beispiel GmbH",
        street="Am Markt 2",
        postcode="20095",
        city="Hamburg",
        country="DE",
    )
    shipping = ShippingCharge(
        method="standard",
        net=Decimal("4.12"),
        vat_rate=Decimal("0.19"),
        vat=Decimal("0.78"),
        gross=Decimal("4.90"),
    )
    await place_and_confirm(transactor, clock, placed(billing_address=company, shipping=shipping))
    [invoice] = transactor.db.rows("invoices")
    assert isinstance(invoice, Invoice)
    assert invoice.buyer.company == "Beispiel GmbH"
    last = invoice.lines[-1]
    assert (last.sku, last.description, last.net) == (None, "Versand (standard)", Decimal("4.12"))
    assert invoice.gross_total == sum((line.gross for line in invoice.lines), Decimal(0))
