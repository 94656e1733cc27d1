"""Flows triggered by events: the abandoned-cart reminder, stopped by the order.

``CartAbandoned`` with an address whose owner confirmed the ``offers`` topic queues a
reminder that leaves after ``delay`` (it is advertising: consent is checked again when
it leaves); an order placed by the same person before then cancels it, and one placed
after the cart's last activity that arrived first (orders' carts and orders are two
topics, in no order with each other) keeps it from being queued. The welcome mail is
queued by the confirmation (``application/consent.py``); post-purchase, win-back and
back-in-stock flows are not built (README).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kontor_contracts.events.orders import CartAbandoned

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.mail import Mail, QueuedMail, with_unsubscribe

if TYPE_CHECKING:  # consent -> profiles -> flows: only the type is needed here
    from kontor_marketing.application.consent import ConsentLinks

CART_FLOW = "abandoned_cart"
CART_TOPIC = "offers"


@dataclass(frozen=True)
class CartFlow:
    links: ConsentLinks | None
    delay: timedelta
    imprint: str


async def remind_of_cart(
    uow: MarketingUnitOfWork, event: CartAbandoned, email: str, flow: CartFlow, now: datetime
) -> bool:
    consent = await uow.consents.get(email)
    if flow.links is None or consent is None or not consent.may_receive(CART_TOPIC):
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
        QueuedMail(
            id=str(uuid.uuid4()),
            kind="flow",
            mail=mail,
            created_at=now,
            topic=CART_TOPIC,
            not_before=now + flow.delay,
            meta={"flow": CART_FLOW, "cart_id": event.cart_id},
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
