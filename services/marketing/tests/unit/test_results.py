"""What worked: the send time from a seeded history (own, else the segment's, else the
shop's), attribution by coupon and by click, net of a return and of a cancellation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_contracts.events.orders import OrderCancelled, ReturnCompleted
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.profiles import (
    on_order_cancelled,
    on_order_placed,
    on_return_completed,
)
from kontor_marketing.domain.campaign import Campaign, Engagement
from kontor_marketing.domain.results import best_send_time, hour_of_week, roi
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 13, 15, tzinfo=UTC)  # Wednesday 14:15 Berlin


def _refund(order_id: str) -> ReturnCompleted:
    return ReturnCompleted(
        return_id="r-1",
        order_id=order_id,
        refund_amount=Decimal("20.00"),
        currency="EUR",
        includes_shipping=False,
    )


def test_the_send_time_comes_from_the_persons_history_then_the_segment_then_the_shop() -> None:
    evening = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)  # a Wednesday, 20:30 Berlin
    morning = datetime(2026, 11, 26, 6, 5, tzinfo=UTC)  # a Thursday, 07:05 Berlin
    own = Counter({hour_of_week(evening, BERLIN): 3, hour_of_week(morning, BERLIN): 1})
    segment = Counter({hour_of_week(morning, BERLIN): 9})
    chosen = best_send_time(NOW, own=own, segment=segment, shop=Counter(), zone=BERLIN)
    assert chosen.astimezone(BERLIN).strftime("%a %H:%M") == "Wed 20:00"
    fallback = best_send_time(NOW, own=Counter(), segment=segment, shop=Counter(), zone=BERLIN)
    assert fallback.astimezone(BERLIN).strftime("%a %H:%M") == "Thu 07:00"
    assert best_send_time(NOW, own=Counter(), segment=Counter(), shop=Counter(), zone=BERLIN) == NOW
    assert (
        roi(Decimal("150"), Decimal("100")) == Decimal("0.5000")
        and roi(Decimal(1), Decimal(0)) is None
    )


async def test_attribution_by_coupon_and_by_click_is_net_of_returns_and_cancellations() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)

    async def seed(uow: InMemoryMarketingUnitOfWork) -> None:
        campaign = Campaign.draft(
            campaign_id="c-1",
            name="Winter",
            subject="s",
            text="t",
            topic="offers",
            segment_id="s-1",
            now=NOW,
            coupon_code="WINTER10",
        )
        campaign.status = "sent"
        await uow.campaigns.save(campaign)
        await uow.engagements.add(
            Engagement("c-2", "anna@example.de", "click", NOW - timedelta(days=1))
        )

    await transactor.run(seed)
    with_coupon, by_click, too_late = (order_placed_envelope(number=n) for n in (1, 2, 3))
    coupon_event = with_coupon.payload_model().model_copy(update={"coupon_codes": ["WINTER10"]})
    await transactor.deliver(on_order_placed, coupon_event, with_coupon)
    await transactor.deliver(on_order_placed, by_click.payload_model(), by_click)
    late = too_late.payload_model().model_copy(update={"placed_at": NOW + timedelta(days=9)})
    await transactor.deliver(on_order_placed, late, too_late)
    conversions = {c.order_id: c for c in transactor.db.rows("conversions")}
    assert {(c.campaign_id, c.by) for c in conversions.values()} == {
        ("c-1", "coupon"),
        ("c-2", "click"),
    }

    refund = _refund(with_coupon.aggregate_id)
    await transactor.deliver(on_return_completed, refund, envelope_of(refund))
    cancel = OrderCancelled(order_id=by_click.aggregate_id, reason="customer")
    await transactor.deliver(on_order_cancelled, cancel, envelope_of(cancel))
    conversions = {c.order_id: c for c in transactor.db.rows("conversions")}
    gross = coupon_event.gross_total
    assert conversions[with_coupon.aggregate_id].net == gross - Decimal("20.00")
    assert conversions[with_coupon.aggregate_id].returned
    assert conversions[by_click.aggregate_id].net == 0


async def test_a_return_read_before_its_order_is_folded_when_the_order_arrives() -> None:
    """Orders and returns are on different topics: a catch-up can read the return
    first; the profile and the attribution end as if it came second (ADR 0112)."""
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)

    async def seed(uow: InMemoryMarketingUnitOfWork) -> None:
        await uow.engagements.add(
            Engagement("c-2", "anna@example.de", "click", NOW - timedelta(days=1))
        )

    await transactor.run(seed)
    placed = order_placed_envelope(number=1)
    refund = _refund(placed.aggregate_id)
    await transactor.deliver(on_return_completed, refund, envelope_of(refund))
    assert transactor.db.rows("profiles") == []  # nothing to fold yet, nothing lost
    await transactor.deliver(on_order_placed, placed.payload_model(), placed)
    [profile] = transactor.db.rows("profiles")
    [order] = profile.orders.values()
    gross = placed.payload_model().gross_total  # type: ignore[attr-defined]
    assert (order.refunded, order.returned) == (Decimal("20.00"), True)
    [conversion] = transactor.db.rows("conversions")
    assert (conversion.net, conversion.returned) == (gross - Decimal("20.00"), True)
    assert transactor.db.tables["early_refunds"] == {}  # taken once


async def test_a_cart_reminder_waits_and_the_order_cancels_it() -> None:
    from kontor_contracts.events.orders import CartAbandoned, CartLine
    from kontor_marketing.application.consent import ConsentLinks
    from kontor_marketing.application.flows import CartFlow
    from kontor_marketing.application.mail import send_due_mails
    from kontor_marketing.domain.consent import Consent
    from kontor_marketing.domain.links import LinkSigner

    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    links = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=1))
    flow = CartFlow(links, timedelta(hours=1), "Kontor GmbH")

    async def consent(uow: InMemoryMarketingUnitOfWork) -> None:
        person = Consent(email="anna@example.de", locale="de")
        person.request(("offers",), request_id="r", at=NOW, source="x", ip=None, locale="de")
        person.confirm("r", at=NOW, ip=None)
        await uow.consents.save(person)

    await transactor.run(consent)
    cart = CartAbandoned(
        cart_id="cart-1",
        value=Decimal("47.58"),
        currency="EUR",
        last_activity_at=NOW - timedelta(hours=2),
        customer_email="anna@example.de",
        lines=[CartLine(sku="TEE", quantity=2, unit_price_gross=Decimal("23.79"))],
    )

    async def abandoned(
        event: CartAbandoned, uow: InMemoryMarketingUnitOfWork, env: object
    ) -> None:
        from kontor_marketing.application.profiles import on_cart_abandoned

        await on_cart_abandoned(event, uow, env, flow=flow, now=NOW)  # type: ignore[arg-type]

    await transactor.deliver(abandoned, cart)
    [waiting] = transactor.db.rows("mails")
    assert (waiting.status, waiting.not_before) == ("queued", NOW + timedelta(hours=1))
    placed = order_placed_envelope()
    await transactor.deliver(on_order_placed, placed.payload_model(), placed)
    [stopped] = transactor.db.rows("mails")
    assert (stopped.status, stopped.reason) == ("skipped", "ordered")

    class Never:
        async def send(self, mail: object) -> None:
            raise AssertionError("nothing may be sent")

    later = NOW + timedelta(hours=2)
    assert (await send_due_mails(transactor, Never(), clock=lambda: later, limit=5)).sent == 0
