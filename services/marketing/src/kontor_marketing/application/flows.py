"""Flows triggered by events and by time (issue 15).

**Abandoned cart**, stopped by the order.

``CartAbandoned`` with an address whose owner confirmed the ``offers`` topic queues a
reminder that leaves after ``delay`` (it is advertising: consent is checked again when
it leaves); an order placed by the same person before then cancels it, and one placed
after the cart's last activity that arrived first (orders' carts and orders are two
topics, in no order with each other) keeps it from being queued. The welcome mail is
queued by the confirmation (``application/consent.py``).

**Review request** (``news``): ``OrderDelivered`` queues one per order, leaving ``delay``
after the delivery; a return completed before then stops it; a cancelled or returned
order gets none.

**Win-back** (``offers``): a sweeper finds the people whose newest kept order is
``delay`` old and who got no win-back since it, and queues one each; the next order
starts the clock anew.

**Entered segment**: ``refresh`` records who entered a segment with an entry mail; a
sweeper turns the entries into the mails (``domain/segment_flows.py``). Back in stock:
``application/stock_alerts.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kontor_contracts.events.orders import CartAbandoned, OrderDelivered
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.flow_mails import review_request_mail, win_back_mail
from kontor_marketing.domain.links import flow_utm
from kontor_marketing.domain.mail import Mail, flow_mail, with_unsubscribe
from kontor_marketing.domain.segment_flows import ENTRY_FLOW

if TYPE_CHECKING:  # consent -> profiles -> flows: only the type is needed here
    from kontor_marketing.application.consent import ConsentLinks

CART_FLOW = "abandoned_cart"
CART_TOPIC = "offers"
REVIEW_FLOW = "review_request"
REVIEW_TOPIC = "news"
WIN_BACK_FLOW = "win_back"
WIN_BACK_TOPIC = "offers"


@dataclass(frozen=True)
class Flow:
    """What a flow needs: the links of its mails, its delay, the imprint, the
    ``utm_source`` of the shop links in its mails (ADR 0121)."""

    links: ConsentLinks | None
    delay: timedelta
    imprint: str
    utm_source: str = "kontor"


CartFlow = Flow


async def _consent_to(uow: MarketingUnitOfWork, email: str, topic: str) -> Consent | None:
    """The person's consent if it holds for ``topic`` now, else None."""
    consent = await uow.consents.get(email)
    return consent if consent is not None and consent.may_receive(topic) else None


async def remind_of_cart(
    uow: MarketingUnitOfWork, event: CartAbandoned, email: str, flow: CartFlow, now: datetime
) -> bool:
    consent = await _consent_to(uow, email, CART_TOPIC)
    if flow.links is None or consent is None:
        return False
    profile = await uow.profiles.get(email)
    if profile is not None and any(
        o.placed_at >= event.last_activity_at for o in profile.kept_orders()
    ):
        return False  # the order arrived first (another topic): no reminder
    items = "\n".join(f"- {line.quantity} x {line.sku}" for line in event.lines) or "-"
    unsubscribe = flow.links.unsubscribe_url(email)
    german = consent.locale == "de"
    subject = "Ihr Warenkorb wartet noch" if german else "Your cart is still waiting"
    intro = "Sie haben noch Artikel im Warenkorb:" if german else "Your cart still holds:"
    text = (
        f"{intro}\n{items}\n\n{event.value} {event.currency}\n\n--\n"
        f"Abmelden / unsubscribe: {unsubscribe}\n{flow.imprint}"
    )
    mail = with_unsubscribe(Mail(to=email, subject=subject, text=text), unsubscribe_url=unsubscribe)
    await uow.mails.add(
        flow_mail(
            mail,
            mail_id=str(uuid.uuid4()),
            flow=CART_FLOW,
            topic=CART_TOPIC,
            now=now,
            not_before=now + flow.delay,
            cart_id=event.cart_id,
        )
    )
    return True


async def stop_cart_reminders(uow: MarketingUnitOfWork, email: str) -> int:
    """The person ordered: their waiting cart reminders are not sent."""
    stopped = 0
    for mail in await uow.mails.waiting_flow(email, CART_FLOW):
        mail.skipped("ordered")
        await uow.mails.save(mail)
        stopped += 1
    return stopped


async def ask_for_review(
    uow: MarketingUnitOfWork, event: OrderDelivered, flow: Flow, now: datetime
) -> bool:
    """Queue the order's review request (once, however many parcels were delivered)."""
    profile = await uow.profiles.by_order(event.order_id)
    if flow.links is None or profile is None:
        return False
    order = profile.orders.get(event.order_id)
    if order is None or order.status != "placed" or order.returned:
        return False
    consent = await _consent_to(uow, profile.email, REVIEW_TOPIC)
    if consent is None:
        return False
    asked = await uow.mails.of_flow(profile.email, REVIEW_FLOW)
    if any(m.meta.get("order_id") == event.order_id for m in asked):
        return False
    mail = review_request_mail(
        to=profile.email,
        locale=consent.locale,
        order_number=order.number or event.order_id,
        unsubscribe_url=flow.links.unsubscribe_url(profile.email, (REVIEW_TOPIC,)),
        imprint=flow.imprint,
    )
    await uow.mails.add(
        flow_mail(
            mail,
            mail_id=str(uuid.uuid4()),
            flow=REVIEW_FLOW,
            topic=REVIEW_TOPIC,
            now=now,
            not_before=max(event.delivered_at + flow.delay, now),
            order_id=event.order_id,
        )
    )
    return True


async def stop_review_request(uow: MarketingUnitOfWork, email: str, order_id: str) -> int:
    """The order came back: no review request for it."""
    stopped = 0
    for mail in await uow.mails.waiting_flow(email, REVIEW_FLOW):
        if mail.meta.get("order_id") == order_id:
            mail.skipped("returned")
            await uow.mails.save(mail)
            stopped += 1
    return stopped


async def win_back_due(
    transactor: Transactor[MarketingUnitOfWork], flow: Flow, *, clock: Clock
) -> int:
    """One round of the win-back sweeper: queue the win-back mails that are due."""

    async def work(uow: MarketingUnitOfWork) -> int:
        now, queued = clock(), 0
        if flow.links is None:
            return 0
        for profile in await uow.profiles.all():
            last = profile.last_order_at()
            if last is None or now - last < flow.delay:
                continue
            consent = await _consent_to(uow, profile.email, WIN_BACK_TOPIC)
            if consent is None:
                continue
            sent = await uow.mails.of_flow(profile.email, WIN_BACK_FLOW)
            if any(m.created_at >= last for m in sent):
                continue  # one per quiet spell; the next order starts the clock anew
            mail = win_back_mail(
                to=profile.email,
                locale=consent.locale,
                days=(now - last).days,
                unsubscribe_url=flow.links.unsubscribe_url(profile.email, (WIN_BACK_TOPIC,)),
                imprint=flow.imprint,
            )
            await uow.mails.add(
                flow_mail(
                    mail,
                    mail_id=str(uuid.uuid4()),
                    flow=WIN_BACK_FLOW,
                    topic=WIN_BACK_TOPIC,
                    now=now,
                )
            )
            queued += 1
        return queued

    return await transactor.run(work)


async def entry_mails_due(
    transactor: Transactor[MarketingUnitOfWork], flow: Flow, *, clock: Clock, limit: int = 200
) -> int:
    """Turn recorded segment entries into their mails (the sweeper holds the links)."""

    async def work(uow: MarketingUnitOfWork) -> int:
        if flow.links is None:
            return 0
        queued = 0
        for entry in await uow.segment_entries.oldest(limit):
            await uow.segment_entries.delete(entry.id)
            segment = await uow.segments.get(entry.segment_id)
            if segment is None or segment.entry_mail is None:
                continue  # the mail was taken off the segment meanwhile
            template = segment.entry_mail
            profile = await uow.profiles.get(entry.email)
            mail = template.to(
                entry.email,
                (profile.name if profile else None) or "",
                unsubscribe_url=flow.links.unsubscribe_url(entry.email, (template.topic,)),
                imprint=flow.imprint,
                utm=flow_utm(flow.utm_source, ENTRY_FLOW),
            )
            await uow.mails.add(
                flow_mail(
                    mail,
                    mail_id=str(uuid.uuid4()),
                    flow=ENTRY_FLOW,
                    topic=template.topic,
                    now=clock(),
                    not_before=entry.at + timedelta(minutes=template.delay_minutes),
                    segment_id=segment.id,
                )
            )
            queued += 1
        return queued

    return await transactor.run(work)
