"""The flows over real SMTP (issue 15): CartAbandoned queues a reminder for a person
with consent to offers; the order placed before it leaves cancels it; the person who did
not order gets it, with the one-click unsubscribe. The review request, the entry mail and
the back-in-stock notice arrive; inside quiet hours the confirmation leaves and the flow
mails wait for their end (ADR 0119)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import StockAdjusted
from kontor_contracts.events.orders import CartAbandoned, CartLine, OrderDelivered
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.context import MarketingContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, eventually, produce, topic_of

from .awake import quiet_hours_around_now, quiet_hours_not_now

pytestmark = pytest.mark.integration


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


FAST = {
    "mail_sweep_interval_s": 0.1,
    "public_base_url": "https://shop.example",
    "quiet_hours": quiet_hours_not_now(),
}


async def opted_in(client: Any, mail_sink: Any, email: str, topic: str) -> None:
    """``email`` subscribed to ``topic`` and clicked the confirmation link."""
    await client.post("/newsletter/subscriptions", json={"email": email, "topics": [topic]})
    [mail] = await mail_sink.arrived(
        1, where=lambda m: m["To"] == email and "bestätigen" in str(m["Subject"])
    )
    link = re.findall(r"https://shop.example(/newsletter/confirmations/\S+)", text_of(mail))
    assert (await client.get(link[0])).status_code == 200


async def test_an_abandoned_cart_reminder_is_cancelled_by_the_order(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    settings = {**mail_sink.smtp_settings(), **FAST, "cart_reminder_after_s": 3.0}
    async with start_service("marketing", **settings) as marketing:
        client = marketing.client
        for email in ("anna@example.de", "carla@example.de"):
            await opted_in(client, mail_sink, email, "offers")
        now = datetime.now(UTC)
        carts = [
            CartAbandoned(
                cart_id=f"cart-{n}",
                value=Decimal("47.58"),
                currency="EUR",
                last_activity_at=now,
                customer_email=email,
                lines=[CartLine(sku="TEE-RED-M", quantity=2, unit_price_gross=Decimal("23.79"))],
            )
            for n, email in enumerate(("anna@example.de", "carla@example.de"))
        ]
        for cart in carts:
            env = Envelope.wrap(cart, producer="orders", aggregate_id=cart.cart_id)
            await produce(infra.kafka_bootstrap, topic_of(namespace, env.type), [as_message(env)])
        placed = order_placed_envelope()  # anna orders
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), [as_message(placed)]
        )

        [reminder] = await mail_sink.arrived(
            1, where=lambda m: m["To"] == "carla@example.de" and "Warenkorb" in str(m["Subject"])
        )
        assert "TEE-RED-M" in text_of(reminder)
        assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert urlsplit(re.findall(r"<(https://[^>]+)>", reminder["List-Unsubscribe"])[0]).path

        ctx = context_of(marketing.app, MarketingContext)
        flows = [
            m
            for m in await ctx.queries.mails_to("anna@example.de")
            if m.meta.get("flow") == "abandoned_cart"
        ]
        # the order cancels the waiting reminder, or (arriving first, on its own topic)
        # keeps it from being queued: either way nothing leaves for her
        assert [(m.status, m.reason) for m in flows] in ([("skipped", "ordered")], [])
        sent_to_anna = [m["Subject"] for m in mail_sink.parsed() if m["To"] == "anna@example.de"]
        assert not [s for s in sent_to_anna if "Warenkorb" in str(s)]  # confirmation, welcome


async def test_a_delivered_order_brings_the_review_request_over_smtp(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    settings = {**mail_sink.smtp_settings(), **FAST, "review_request_after_days": 0}
    async with start_service("marketing", **settings) as marketing:
        client = marketing.client
        await opted_in(client, mail_sink, "anna@example.de", "news")
        placed = order_placed_envelope(number=42)
        delivered = OrderDelivered(
            order_id=placed.payload["order_id"], delivered_at=datetime.now(UTC)
        )
        env = Envelope.wrap(delivered, producer="orders", aggregate_id=delivered.order_id)
        topic = topic_of(namespace, "OrderPlaced")  # one topic: delivery after placement
        await produce(infra.kafka_bootstrap, topic, [as_message(placed), as_message(env)])

        [review] = await mail_sink.arrived(1, where=lambda m: "zufrieden" in str(m["Subject"]))
        assert review["To"] == "anna@example.de"
        assert "B-2026-000042" in text_of(review)
        assert review["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_entering_a_segment_sends_its_entry_mail_over_smtp(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    settings = {**mail_sink.smtp_settings(), **FAST, "campaign_sweep_interval_s": 0.2}
    async with start_service("marketing", **settings) as marketing:
        client = marketing.client
        await opted_in(client, mail_sink, "anna@example.de", "offers")
        rule = {"all": [{"field": "orders", "op": "gte", "value": 2}]}
        segment = (
            await client.post("/segments", json={"name": "Stammkunden", "rule": rule})
        ).json()
        entry = {"subject": "Danke, {{ name }}!", "text": "10 % mit STAMM10", "topic": "offers"}
        put = await client.put(f"/segments/{segment['id']}/entry-mail", json=entry)
        assert put.status_code == 200, put.text
        assert put.json()["entry_mail"]["topic"] == "offers"
        bad = await client.put(
            f"/segments/{segment['id']}/entry-mail", json={**entry, "topic": "x"}
        )
        assert bad.status_code == 422
        orders = [order_placed_envelope(number=n) for n in (1, 2)]
        topic = topic_of(namespace, "OrderPlaced")
        await produce(infra.kafka_bootstrap, topic, [as_message(o) for o in orders])

        [mail] = await mail_sink.arrived(1, where=lambda m: "Danke" in str(m["Subject"]))
        assert (mail["To"], mail["Subject"]) == ("anna@example.de", "Danke, Anna Muster!")
        assert "STAMM10" in text_of(mail)
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_a_goods_receipt_sends_the_back_in_stock_notice_over_smtp(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    settings = {**mail_sink.smtp_settings(), **FAST}
    async with start_service("marketing", token=None, **settings) as marketing:
        client = marketing.client
        asked = await client.post(
            "/back-in-stock/requests", json={"email": "anna@example.de", "sku": "TEE-RED-M"}
        )
        assert asked.status_code == 202, asked.text
        [mail] = await mail_sink.arrived(1, where=lambda m: "bestätigen" in str(m["Subject"]))
        link = re.findall(r"https://shop.example(/newsletter/confirmations/\S+)", text_of(mail))
        assert (await client.get(link[0])).status_code == 200
        receipt = StockAdjusted(
            sku="TEE-RED-M", warehouse="main", delta=20, on_hand=20, reason="goods_receipt"
        )
        env = Envelope.wrap(receipt, producer="catalog", aggregate_id=receipt.sku)
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "StockAdjusted"), [as_message(env)]
        )

        [notice] = await mail_sink.arrived(1, where=lambda m: "Wieder da" in str(m["Subject"]))
        assert notice["To"] == "anna@example.de" and "TEE-RED-M" in text_of(notice)
        assert "https://shop.example?utm_source=kontor&utm_medium=email" in text_of(notice)
        assert "utm_campaign=flow-back_in_stock" in text_of(notice)  # ADR 0121
        assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_flow_mails_due_in_quiet_hours_wait_for_their_end_the_confirmation_does_not(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    quiet, end = quiet_hours_around_now()
    settings = {**mail_sink.smtp_settings(), **FAST, "quiet_hours": quiet}
    async with start_service("marketing", token=None, **settings) as marketing:
        client, ctx = marketing.client, context_of(marketing.app, MarketingContext)
        asked = await client.post(
            "/back-in-stock/requests", json={"email": "anna@example.de", "sku": "TEE-RED-M"}
        )
        assert asked.status_code == 202, asked.text
        # the confirmation leaves inside quiet hours: the person just asked for it
        [mail] = await mail_sink.arrived(1, where=lambda m: "bestätigen" in str(m["Subject"]))
        link = re.findall(r"https://shop.example(/newsletter/confirmations/\S+)", text_of(mail))
        assert (await client.get(link[0])).status_code == 200  # queues the welcome mail
        receipt = StockAdjusted(
            sku="TEE-RED-M", warehouse="main", delta=20, on_hand=20, reason="goods_receipt"
        )
        env = Envelope.wrap(receipt, producer="catalog", aggregate_id=receipt.sku)
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "StockAdjusted"), [as_message(env)]
        )

        async def held() -> list[Any] | None:
            flows = [m for m in await ctx.queries.mails_to("anna@example.de") if m.kind == "flow"]
            waiting = [m for m in flows if m.status == "queued" and m.not_before == end]
            return waiting if len(waiting) == 2 else None

        waiting = await eventually(held, timeout=30)  # the sweeper put both back
        assert sorted(m.meta["flow"] for m in waiting) == ["back_in_stock", "welcome"]
        assert [str(m["Subject"]) for m in mail_sink.parsed()] == [str(mail["Subject"])]

        real = ctx.clock
        ctx.clock = lambda: real() + timedelta(hours=1, minutes=1)  # the quiet hours are over
        later = await mail_sink.arrived(3, timeout=30)
        subjects = sorted(str(m["Subject"]) for m in later[1:])
        assert subjects == ["Wieder da: TEE-RED-M", "Willkommen bei unserem Newsletter"]
        assert {m["To"] for m in later} == {"anna@example.de"}
