"""Dunning over the in-memory unit of work with a clock the test moves: the payment
reminder, the 1st and 2nd notice, each once, numbered without gaps, with fees,
§288 BGB interest (a dated base-rate table) and the business flat fee; a payment that
settles the receivable or a dispute stops it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from kontor_billing.application.dunning import run_dunning
from kontor_billing.application.invoicing import on_order_confirmed, on_order_placed
from kontor_billing.application.payments import book_payment
from kontor_billing.application.receivables import dispute_receivable
from kontor_billing.domain.dunning import (
    BaseRateTable,
    BaseRateUnknown,
    DunningPolicy,
    default_interest,
)
from kontor_billing.domain.receivables import PaymentBooking, Receivable
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import PaymentOverdue
from kontor_contracts.events.orders import OrderConfirmed, OrderPlaced
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

ISSUED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # due 14 days later: 2026-03-16
POLICY = DunningPolicy()
Billing = FakeTransactor[InMemoryBillingUnitOfWork]


async def invoiced(billing: Billing, clock: FakeClock, *, company: str | None = None) -> Receivable:
    placed = order_placed_envelope("o-1").payload_model()
    assert isinstance(placed, OrderPlaced)
    if company:
        placed = placed.model_copy(
            update={
                "shipping_address": placed.shipping_address.model_copy(update={"company": company})
            }
        )
    await billing.deliver(partial(on_order_placed, clock=clock), placed)
    await billing.deliver(
        partial(on_order_confirmed, clock=clock),
        OrderConfirmed(order_id="o-1", confirmed_at=ISSUED),
    )
    return await receivable(billing)


async def receivable(billing: Billing) -> Receivable:
    found = await billing.run(lambda uow: uow.receivables.of_order("o-1"))
    assert found is not None
    return found


def at(clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 8, tzinfo=UTC))


async def sweep(billing: Billing, clock: FakeClock) -> list[int]:
    return [n.level for n in await run_dunning(billing, policy=POLICY, clock=clock)]


async def pay(billing: Billing, clock: FakeClock, amount: Decimal, payment_id: str) -> None:
    booking = PaymentBooking(
        payment_id=payment_id,
        amount=amount,
        currency="EUR",
        method="bank_transfer",
        received_at=clock(),
        order_id="o-1",
    )
    await billing.run(lambda uow: book_payment(uow, booking, clock()))


def setup() -> tuple[Billing, FakeClock]:
    return FakeTransactor(InMemoryBillingUnitOfWork), FakeClock(ISSUED)


async def test_all_levels_each_once_then_a_payment_stops_dunning() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    assert r.due_date == date(2026, 3, 16)
    at(clock, date(2026, 3, 22))  # 6 days overdue: too early for the reminder (7)
    assert await sweep(billing, clock) == []
    at(clock, date(2026, 3, 23))
    assert await sweep(billing, clock) == [1]
    assert await sweep(billing, clock) == []  # once per level, however often it runs
    at(clock, date(2026, 4, 5))  # 13 days after the reminder
    assert await sweep(billing, clock) == []
    at(clock, date(2026, 4, 6))
    assert await sweep(billing, clock) == [2]
    await pay(billing, clock, Decimal("10.00"), "p-1")  # partial: dunning goes on
    at(clock, date(2026, 4, 20))
    assert await sweep(billing, clock) == [3]
    at(clock, date(2026, 6, 1))
    assert await sweep(billing, clock) == []  # after the last level nothing more

    notices = billing.db.rows("dunning_notices")
    assert [n.number for n in notices] == ["MA-2026-000001", "MA-2026-000002", "MA-2026-000003"]
    reminder, first, second = notices
    assert (reminder.fee, first.fee, second.fee) == (
        Decimal("0.00"),
        Decimal("2.50"),
        Decimal("5.00"),
    )
    assert second.fees_total == Decimal("7.50")
    assert reminder.interest == 0 and reminder.interest_since is None
    assert first.interest > 0 and first.interest_since == date(2026, 3, 17)
    assert first.flat_fee == 0  # a consumer: no §288 (5) flat fee
    assert second.open_amount == r.gross_total - Decimal("10.00")
    assert second.pay_by == date(2026, 4, 30)
    events = billing.db.events(PaymentOverdue)
    assert [(e.dunning_level, e.notice_number, e.days_overdue) for e in events] == [
        (1, "MA-2026-000001", 7),
        (2, "MA-2026-000002", 21),
        (3, "MA-2026-000003", 35),
    ]
    assert events[0].invoice_number == r.invoice_number
    assert events[0].customer is not None and events[0].customer.email == r.customer_email
    assert billing.db.outbox[-1].aggregate_id == "o-1"


async def test_a_payment_that_settles_the_receivable_stops_dunning() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    at(clock, date(2026, 3, 23))
    assert await sweep(billing, clock) == [1]
    await pay(billing, clock, r.gross_total, "p-all")
    at(clock, date(2026, 4, 6))
    assert await sweep(billing, clock) == []
    assert (await receivable(billing)).dunning_stopped == "settled"
    assert len(billing.db.events(PaymentOverdue)) == 1


async def test_a_dispute_stops_dunning() -> None:
    billing, clock = setup()
    r = await invoiced(billing, clock)
    await billing.run(
        lambda uow: dispute_receivable(uow, r.invoice_number, "Ware defekt", now=clock())
    )
    at(clock, date(2026, 5, 1))
    assert await sweep(billing, clock) == []
    assert billing.db.rows("dunning_notices") == []


async def test_a_business_pays_9_points_and_the_flat_fee_once() -> None:
    billing, clock = setup()
    await invoiced(billing, clock, company="Beispiel GmbH")
    at(clock, date(2026, 3, 23))
    await sweep(billing, clock)
    at(clock, date(2026, 4, 6))
    await sweep(billing, clock)
    at(clock, date(2026, 4, 20))
    await sweep(billing, clock)
    reminder, first, second = billing.db.rows("dunning_notices")
    assert reminder.flat_fee == 0
    assert first.flat_fee == second.flat_fee == Decimal("40.00")  # the same claim, once
    assert second.total_claim == second.open_amount + Decimal("7.50") + second.interest + Decimal(
        "40.00"
    )
    assert first.interest_rate_percent == Decimal("10.27")  # 1.27 + 9 points
    [event] = [e for e in billing.db.events(PaymentOverdue) if e.dunning_level == 2]
    assert event.flat_fee == Decimal("40.00")


def test_interest_is_days_over_365_at_the_rate_of_each_day_rounded_once_half_up() -> None:
    table = BaseRateTable()
    # a consumer, July 2025 (base 1.27 %): 1000 x 6.27 % x 30/365 = 5.1534... -> 5.15
    july = default_interest(
        Decimal("1000.00"), date(2025, 6, 30), date(2025, 7, 30), business=False, table=table
    )
    assert (july.amount, july.rate_percent, july.days) == (Decimal("5.15"), Decimal("6.27"), 30)
    # a business across 1 January 2025: 10 days at 3.37 + 9, then 10 days at 2.27 + 9:
    # 3.3890... + 3.0876... = 6.4767... -> 6.48 (rounded once, not per period: 3.39 + 3.09)
    turn = default_interest(
        Decimal("1000.00"), date(2024, 12, 21), date(2025, 1, 10), business=True, table=table
    )
    assert turn.amount == Decimal("6.48")
    assert turn.base_rate_percent == Decimal("2.27")
    # half up at the cent: 100.01 x 6.27 % x 1/365 = 0.01717... -> 0.02
    one_day = default_interest(
        Decimal("100.01"), date(2025, 7, 1), date(2025, 7, 2), business=False, table=table
    )
    assert one_day.amount == Decimal("0.02")
    # not yet due: nothing
    assert default_interest(
        Decimal("100"), date(2025, 7, 1), date(2025, 7, 1), business=False, table=table
    ).amount == Decimal("0")


def test_the_base_rate_table_is_dated_and_extended_by_settings() -> None:
    table = BaseRateTable()
    assert table.on(date(2023, 6, 30)) == Decimal("1.62")
    assert table.on(date(2023, 7, 1)) == Decimal("3.12")
    assert table.on(date(2024, 12, 31)) == Decimal("3.37")
    assert table.on(date(2025, 7, 1)) == Decimal("1.27")
    extended = BaseRateTable.with_extra({date(2026, 7, 1): Decimal("1.02")})
    assert extended.on(date(2026, 8, 1)) == Decimal("1.02")
    assert extended.on(date(2026, 6, 30)) == Decimal("1.27")
    periods = extended.periods(date(2026, 6, 29), date(2026, 7, 2))
    assert periods == [
        (date(2026, 6, 29), date(2026, 6, 30), Decimal("1.27")),
        (date(2026, 7, 1), date(2026, 7, 2), Decimal("1.02")),
    ]


def test_a_day_past_the_last_known_half_year_is_refused_not_given_the_old_rate() -> None:
    table = BaseRateTable()
    assert table.known_until == date(2026, 6, 30)
    assert table.on(date(2026, 6, 30)) == Decimal("1.27")
    with pytest.raises(BaseRateUnknown) as refused:
        table.on(date(2026, 7, 1))
    assert refused.value.known_until == date(2026, 6, 30)
    assert refused.value.field == ("dunning_base_rates",)
    with pytest.raises(BaseRateUnknown):
        table.periods(date(2026, 6, 1), date(2026, 7, 1))
    # a value from settings extends what is known by its half year
    extended = BaseRateTable.with_extra({date(2026, 7, 1): Decimal("1.02")})
    assert extended.known_until == date(2026, 12, 31)
    with pytest.raises(BaseRateUnknown):
        extended.on(date(2027, 1, 1))


def test_interest_past_the_table_stops_at_its_last_day_and_says_so() -> None:
    table = BaseRateTable()
    # due 2026-06-20, asked on 2026-07-20: only 21-30 June (10 days) are charged:
    # 1000 x 6.27 % x 10/365 = 1.7178... -> 1.72, not 31 days at a carried-on 1.27 %
    short = default_interest(
        Decimal("1000.00"), date(2026, 6, 20), date(2026, 7, 20), business=False, table=table
    )
    assert (short.amount, short.since, short.until) == (
        Decimal("1.72"),
        date(2026, 6, 21),
        date(2026, 6, 30),
    )
    assert short.rate_unknown_from == date(2026, 7, 1)
    # due after the table ends: nothing can be charged yet, and it says why
    none = default_interest(
        Decimal("1000.00"), date(2026, 7, 10), date(2026, 8, 10), business=True, table=table
    )
    assert (none.amount, none.rate_unknown_from) == (Decimal("0"), date(2026, 7, 1))
    # within the table nothing is flagged
    inside = default_interest(
        Decimal("1000.00"), date(2026, 5, 31), date(2026, 6, 30), business=False, table=table
    )
    assert (inside.until, inside.rate_unknown_from) == (date(2026, 6, 30), None)


async def test_a_notice_past_the_table_claims_interest_through_its_last_day() -> None:
    billing, clock = setup()
    placed = order_placed_envelope("o-1").payload_model()
    assert isinstance(placed, OrderPlaced)
    await billing.deliver(partial(on_order_placed, clock=clock), placed)
    issued = datetime(2026, 6, 1, 9, tzinfo=UTC)  # due 2026-06-15
    clock.set(issued)
    await billing.deliver(
        partial(on_order_confirmed, clock=clock),
        OrderConfirmed(order_id="o-1", confirmed_at=issued),
    )
    at(clock, date(2026, 6, 22))
    assert await sweep(billing, clock) == [1]
    at(clock, date(2026, 7, 6))
    assert await sweep(billing, clock) == [2]
    reminder, first = billing.db.rows("dunning_notices")
    assert reminder.base_rate_unknown_from is None  # a reminder claims no interest
    assert (first.interest_since, first.interest_until) == (date(2026, 6, 16), date(2026, 6, 30))
    assert first.base_rate_unknown_from == date(2026, 7, 1)
    expected = first.open_amount * Decimal("6.27") / 100 * 15 / 365
    assert first.interest == expected.quantize(Decimal("0.01"))
    assert first.interest > 0


def test_levels_are_configurable_and_checked() -> None:
    shorter = replace(POLICY.levels[0], days=3)
    policy = DunningPolicy(levels=(shorter, *POLICY.levels[1:]))
    r = Receivable.open(
        invoice_number="RE-2026-000001",
        invoice_id="i",
        order_id="o",
        order_number=None,
        customer_email="a@example.org",
        customer_name="A",
        currency="EUR",
        gross_total=Decimal("10"),
        issue_date=date(2026, 3, 2),
        due_date=date(2026, 3, 16),
        opened_at=ISSUED,
    )
    level = policy.next_level(r, date(2026, 3, 16) + timedelta(days=3))
    assert level is not None and level.level == 1
    with pytest.raises(Invalid, match="1, 2, 3"):
        DunningPolicy(levels=POLICY.levels[1:])
