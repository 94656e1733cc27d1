"""Profiles folded from orders' and support's events, and segments kept live over them.

Each handler changes one profile and re-decides its segment membership in the same
unit (:func:`refresh`), so "who is in the segment" follows the events as they arrive;
a new segment is decided for every profile when it is saved; a size preview evaluates
a rule over the profiles without saving it. Rules on time (days since the last order)
are re-decided by the profile sweeper (``main.py``) as time passes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import (
    CartAbandoned,
    OrderCancelled,
    OrderDelivered,
    OrderPlaced,
    OrderRejected,
    ReturnCompleted,
)
from kontor_contracts.events.support import TicketOpened, TicketResolved, TicketUpdated
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.attribution import attribute, order_cancelled, order_refunded
from kontor_marketing.application.flows import (
    CartFlow,
    Flow,
    ask_for_review,
    remind_of_cart,
    stop_cart_reminders,
    stop_review_request,
)
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.profile import (
    Profile,
    Segment,
    check_rule,
    matches,
    profile_email,
)
from kontor_marketing.domain.segment_flows import EntryMail, SegmentEntry, entered


async def refresh(uow: MarketingUnitOfWork, profile: Profile, now: datetime) -> Profile:
    """Take the consent status, re-decide the segments, save."""
    consent = await uow.consents.get(profile.email)
    profile.consent = "none" if consent is None else consent.status
    figures = profile.figures(now)
    segments = await uow.segments.all()
    before = profile.segments
    profile.segments = tuple(sorted(s.id for s in segments if matches(s.rule, figures)))
    with_mail = {s.id for s in segments if s.entry_mail is not None}
    for segment_id in entered(before, profile.segments):
        if segment_id in with_mail:  # "entered segment" as a trigger
            entry = SegmentEntry(str(uuid.uuid4()), profile.email, segment_id, now)
            await uow.segment_entries.add(entry)
    await uow.profiles.save(profile)
    return profile


async def refresh_email(uow: MarketingUnitOfWork, email: str, now: datetime) -> None:
    """After a consent change: the person's profile (if any) follows it."""
    profile = await uow.profiles.get(email)
    if profile is not None:
        await refresh(uow, profile, now)


ATTRIBUTION_WINDOW = timedelta(days=5)


async def on_order_placed(
    event: OrderPlaced,
    uow: MarketingUnitOfWork,
    env: Envelope,
    *,
    window: timedelta = ATTRIBUTION_WINDOW,
) -> None:
    """Fold the order, attribute it to a campaign, stop the person's cart reminders."""
    email = profile_email(event.customer.email)
    if email is None:
        return
    profile = await uow.profiles.get(email) or Profile(email=email)
    profile.customer_id = event.customer.customer_id or profile.customer_id
    profile.name = event.customer.name or profile.name
    known = await uow.catalog.of(sorted({line.sku for line in event.lines}))
    categories: dict[str, int] = {}
    for line in event.lines:
        if line.sku in known:
            categories[known[line.sku]] = categories.get(known[line.sku], 0) + line.quantity
    profile.order_placed(
        event.order_id,
        event.gross_total,
        event.placed_at,
        tuple(event.coupon_codes),
        number=event.order_number,
        categories=categories,
    )
    early = await uow.early_refunds.take(event.order_id)  # read before the order
    for amount, at in early:
        profile.refunded(event.order_id, amount, at)
    await refresh(uow, profile, env.occurred_at)
    await attribute(uow, event, email, window)
    for amount, _ in early:
        await order_refunded(uow, event.order_id, amount)
    await stop_cart_reminders(uow, email)


async def _of_order(uow: MarketingUnitOfWork, order_id: str, change: Any, now: datetime) -> None:
    profile = await uow.profiles.by_order(order_id)
    if profile is None:  # an order placed before marketing listened: nothing to fold
        return
    change(profile)
    await refresh(uow, profile, now)


async def on_order_cancelled(
    event: OrderCancelled, uow: MarketingUnitOfWork, env: Envelope
) -> None:
    await _of_order(
        uow, event.order_id, lambda p: p.order_ended(event.order_id, "cancelled"), env.occurred_at
    )
    await order_cancelled(uow, event.order_id)


async def on_order_rejected(event: OrderRejected, uow: MarketingUnitOfWork, env: Envelope) -> None:
    await _of_order(
        uow, event.order_id, lambda p: p.order_ended(event.order_id, "rejected"), env.occurred_at
    )
    await order_cancelled(uow, event.order_id)


async def on_return_completed(
    event: ReturnCompleted, uow: MarketingUnitOfWork, env: Envelope
) -> None:
    at = event.completed_at or env.occurred_at
    profile = await uow.profiles.by_order(event.order_id)
    if profile is None:  # its order is on another topic, not read yet (ADR 0112)
        await uow.early_refunds.park(event.return_id, event.order_id, event.refund_amount, at)
        return
    profile.refunded(event.order_id, event.refund_amount, at)
    await refresh(uow, profile, env.occurred_at)
    await order_refunded(uow, event.order_id, event.refund_amount)
    await stop_review_request(uow, profile.email, event.order_id)


async def on_order_delivered(
    event: OrderDelivered,
    uow: MarketingUnitOfWork,
    env: Envelope,
    *,
    flow: Flow | None,
    now: datetime,
) -> None:
    """The review request after the delivery (nothing to fold into the profile)."""
    if flow is not None:
        await ask_for_review(uow, event, flow, now)


async def on_cart_abandoned(
    event: CartAbandoned,
    uow: MarketingUnitOfWork,
    env: Envelope,
    *,
    flow: CartFlow | None = None,
    now: datetime | None = None,
) -> None:
    email = None if event.customer_email is None else profile_email(event.customer_email)
    if email is None:
        return
    profile = await uow.profiles.get(email) or Profile(email=email)
    profile.cart_abandoned(event.value, event.last_activity_at)
    await refresh(uow, profile, env.occurred_at)
    if flow is not None:
        await remind_of_cart(uow, event, email, flow, now or env.occurred_at)


# ------------------------------------------------------------------------ tickets


async def on_ticket_opened(event: TicketOpened, uow: MarketingUnitOfWork, env: Envelope) -> None:
    """A person contacted support: the ticket counts on their profile (opened, open)."""
    email = profile_email(event.customer.email)
    if email is None:
        return
    profile = await uow.profiles.get(email) or Profile(email=email)
    profile.ticket_opened(event.ticket_id, event.opened_at or env.occurred_at)
    await refresh(uow, profile, env.occurred_at)


async def _ticket_moved(
    uow: MarketingUnitOfWork, ticket_id: str, status: str, env: Envelope
) -> None:
    # no e-mail in these: the ticket's TicketOpened (same key, so read before) named it;
    # a ticket support never announced (no customer known) is not anyone's
    profile = await uow.profiles.by_ticket(ticket_id)
    if profile is None:
        return
    profile.ticket_status(ticket_id, status)
    await refresh(uow, profile, env.occurred_at)


async def on_ticket_updated(event: TicketUpdated, uow: MarketingUnitOfWork, env: Envelope) -> None:
    await _ticket_moved(uow, event.ticket_id, event.status, env)


async def on_ticket_resolved(
    event: TicketResolved, uow: MarketingUnitOfWork, env: Envelope
) -> None:
    await _ticket_moved(uow, event.ticket_id, "resolved", env)


# ----------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Preview:
    size: int
    sample: list[str]


async def preview_segment(
    transactor: Transactor[MarketingUnitOfWork], rule: dict[str, Any], *, clock: Clock
) -> Preview:
    check_rule(rule)

    async def work(uow: MarketingUnitOfWork) -> Preview:
        now = clock()
        members = [p.email for p in await uow.profiles.all() if matches(rule, p.figures(now))]
        return Preview(len(members), sorted(members)[:10])

    return await transactor.run(work)


async def create_segment(
    transactor: Transactor[MarketingUnitOfWork], name: str, rule: dict[str, Any], *, clock: Clock
) -> Segment:
    check_rule(rule)

    async def work(uow: MarketingUnitOfWork) -> Segment:
        now = clock()
        segment = Segment(id=str(uuid.uuid4()), name=name, rule=rule, created_at=now)
        await uow.segments.add(segment)
        for profile in await uow.profiles.all():
            await refresh(uow, profile, now)
            segment.size += segment.id in profile.segments
        return segment

    return await transactor.run(work)


async def refresh_all(transactor: Transactor[MarketingUnitOfWork], *, clock: Clock) -> int:
    """Re-decide every profile's segments (time moves rules on recency)."""

    async def work(uow: MarketingUnitOfWork) -> int:
        now = clock()
        profiles = await uow.profiles.all()
        for profile in profiles:
            await refresh(uow, profile, now)
        return len(profiles)

    return await transactor.run(work)


async def set_entry_mail(
    transactor: Transactor[MarketingUnitOfWork], segment_id: str, mail: EntryMail | None
) -> Segment:
    """Whoever enters the segment from now on gets ``mail`` (None: nobody any more)."""

    async def work(uow: MarketingUnitOfWork) -> Segment:
        segment = await uow.segments.get(segment_id)
        if segment is None:
            raise NotFound("segment", segment_id)
        segment.entry_mail = mail
        await uow.segments.save(segment)
        segment.size = len(await uow.profiles.in_segment(segment_id))
        return segment

    return await transactor.run(work)
