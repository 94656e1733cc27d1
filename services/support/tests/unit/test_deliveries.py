"""Queued replies: an attempt marked sent once, failures retried after a growing pause
until they are given up, a permanent failure given up at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_servicekit.domain_errors import IllegalTransition, NotFound
from kontor_servicekit.fakes import FakeTransactor
from kontor_support.application.deliveries import mark_delivery
from kontor_support.domain.delivery import MAX_ATTEMPTS, Delivery
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def queued() -> Delivery:
    return Delivery(
        id="d-1",
        ticket_id="T-2026-000001",
        ticket_message_id="m-1",
        channel="email",
        subject="Re: Wo ist mein Paket? [#T-2026-000001]",
        body_text="Es ist unterwegs.",
        created_at=AT,
        to_email="kunde@example.org",
    )


async def stored(delivery: Delivery) -> FakeTransactor[InMemorySupportUnitOfWork]:
    transactor = FakeTransactor(InMemorySupportUnitOfWork)

    async def add(uow: InMemorySupportUnitOfWork) -> None:
        await uow.deliveries.add(delivery)

    await transactor.run(add)
    return transactor


async def test_a_sent_delivery_is_sent_once() -> None:
    transactor = await stored(queued())
    first = await mark_delivery(transactor, "d-1", "sent", at=AT)
    again = await mark_delivery(transactor, "d-1", "sent", at=AT + timedelta(minutes=1))
    assert (first.status, first.attempts, first.sent_at) == ("sent", 1, AT)
    assert (again.attempts, again.sent_at) == (1, AT)


async def test_failures_are_retried_later_then_given_up() -> None:
    transactor = await stored(queued())
    first = await mark_delivery(transactor, "d-1", "failed", at=AT, error="451 try later")
    assert (first.status, first.not_before, first.last_error) == (
        "queued",
        AT + timedelta(minutes=1),
        "451 try later",
    )
    second = await mark_delivery(transactor, "d-1", "failed", at=AT, error="451 again")
    assert second.not_before == AT + timedelta(minutes=4)
    last = second
    for _ in range(MAX_ATTEMPTS - 2):
        last = await mark_delivery(transactor, "d-1", "failed", at=AT, error="451")
    assert (last.status, last.attempts) == ("failed", MAX_ATTEMPTS)
    with pytest.raises(IllegalTransition):
        await mark_delivery(transactor, "d-1", "sent", at=AT)


async def test_a_permanent_failure_is_given_up_at_once() -> None:
    transactor = await stored(queued())
    failed = await mark_delivery(
        transactor, "d-1", "failed", at=AT, error="550 no such user", permanent=True
    )
    assert (failed.status, failed.attempts) == ("failed", 1)


async def test_an_unknown_delivery_is_not_found() -> None:
    transactor = await stored(queued())
    with pytest.raises(NotFound):
        await mark_delivery(transactor, "d-2", "sent", at=AT)


def test_a_sender_takes_a_due_delivery_once_until_its_lease_runs_out() -> None:
    delivery = queued()
    lease = timedelta(minutes=5)
    assert delivery.take("a", AT, lease)
    assert not delivery.take("b", AT + timedelta(minutes=4), lease)  # a's lease holds
    assert delivery.take("b", AT + timedelta(minutes=6), lease)  # a died: b may
    assert delivery.claim == "b"
    delivery.mark_failed("421 try later", AT + timedelta(minutes=6))
    assert delivery.claim is None
    assert not delivery.take("c", AT + timedelta(minutes=6, seconds=30), lease)  # its pause
    assert delivery.take("c", AT + timedelta(minutes=8), lease)
    delivery.mark_sent(AT + timedelta(minutes=8))
    assert not delivery.take("d", AT + timedelta(hours=1), lease)


async def test_claiming_goes_through_the_unit_of_work() -> None:
    from kontor_support.application.deliveries import claim_delivery

    transactor = await stored(queued())
    taken = await claim_delivery(transactor, "d-1", at=AT, lease=timedelta(minutes=5))
    assert taken is not None and taken.claimed_until == AT + timedelta(minutes=5)
    assert await claim_delivery(transactor, "d-1", at=AT, lease=timedelta(minutes=5)) is None
    assert await claim_delivery(transactor, "nope", at=AT, lease=timedelta(minutes=5)) is None
