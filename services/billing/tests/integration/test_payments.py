"""Payments on the real broker and database (issue 12): a Stripe-signed webhook books
the payment of an invoiced order and PaymentReceived crosses Kafka; a forged one is
refused, a replayed one changes nothing; a refund event is booked and announced.

The webhook is posted without a token (Stripe has none): the signature is the proof.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import stripe
from kontor_billing.context import BillingContext
from kontor_billing.store.receivables_migration import open_missing_receivables
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import BERLIN, FakeClock
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)

pytestmark = pytest.mark.integration

SECRET = "whsec_integration_" + "s" * 20


def _signed(event: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret)
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


def _event(event_id: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


async def test_stripe_webhooks_book_once_refuse_forgeries_and_announce(
    start_service: Any, infra: Any, namespace: str, auth_keys: Any
) -> None:
    async with start_service("billing", token=None, stripe_webhook_secret=SECRET) as billing:
        await wait_for_assignment(billing)
        read = {"Authorization": f"Bearer {auth_keys.token()}"}
        placed = order_placed_envelope()
        order_id = placed.aggregate_id
        topic = topic_of(namespace, "OrderPlaced")
        await produce(
            infra.kafka_bootstrap,
            topic,
            [as_message(placed), as_message(order_confirmed_envelope(placed))],
        )

        async def receivable() -> Any:
            response = await billing.client.get("/receivables", headers=read)
            assert response.status_code == 200, response.text
            found = [r for r in response.json()["items"] if r["order_id"] == order_id]
            return found[0] if found else None

        opened = await eventually(receivable, timeout=30)
        assert opened["status"] == "open"
        # migration 0300-payments opens the receivable of an invoice issued before the
        # ledger existed (here: its receivable removed), once however often it runs
        receivables = billing.kit.store.db["receivables"]
        assert (await receivables.delete_one({"order_id": order_id})).deleted_count == 1
        await open_missing_receivables(billing.kit.store)
        await open_missing_receivables(billing.kit.store)
        assert await receivables.count_documents({"order_id": order_id}) == 1
        assert await receivable() == opened
        gross = Decimal(opened["gross_total"])
        intent = {
            "id": "pi_int_1",
            "object": "payment_intent",
            "amount_received": int(gross * 100),
            "currency": "eur",
            "payment_method_types": ["card"],
            "metadata": {"order_id": order_id},
        }
        body, headers = _signed(_event("evt_int_1", "payment_intent.succeeded", intent))

        forged_body, forged_headers = _signed(
            _event("evt_int_1", "payment_intent.succeeded", intent), secret="whsec_forger"
        )
        forged = await billing.client.post(
            "/webhooks/stripe", content=forged_body, headers=forged_headers
        )
        assert forged.status_code == 400, forged.text
        assert forged.headers["content-type"] == "application/problem+json"

        first = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["outcome"] == "booked"
        assert first.json()["payment_ids"] == ["pi_int_1"]
        replay = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert replay.status_code == 200
        assert replay.json()["outcome"] == "replayed"

        number = opened["invoice_number"]
        paid = (await billing.client.get(f"/receivables/{number}", headers=read)).json()
        assert paid["status"] == "paid" and Decimal(paid["open_amount"]) == 0

        charge = {
            "id": "ch_int_1",
            "object": "charge",
            "payment_intent": "pi_int_1",
            "amount_refunded": 500,
            "currency": "eur",
            "metadata": {},
        }
        refund_body, refund_headers = _signed(_event("evt_int_2", "charge.refunded", charge))
        refunded = await billing.client.post(
            "/webhooks/stripe", content=refund_body, headers=refund_headers
        )
        assert refunded.status_code == 200, refunded.text
        after = (await billing.client.get(f"/receivables/{number}", headers=read)).json()
        assert Decimal(after["open_amount"]) == Decimal("5.00")
        payments = (
            await billing.client.get("/payments", params={"invoice_number": number}, headers=read)
        ).json()
        assert [(p["direction"], p["amount"]) for p in payments["items"]] == [
            ("in", format(gross, "f")),
            ("out", "5.00"),
        ]

        received = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "PaymentReceived"), expected=2
        )
        types = sorted(json.loads(r.value)["type"] for r in received)
        assert types == ["PaymentReceived", "PaymentRefunded"]  # once each, same topic
        assert all(r.key.decode() == order_id for r in received)


def _intent(intent_id: str, order_id: str, cents: int) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount_received": cents,
        "currency": "eur",
        "payment_method_types": ["card"],
        "metadata": {"order_id": order_id},
    }


async def test_card_payments_reported_before_or_while_their_orders_arrive_are_each_booked_once(
    start_service: Any, infra: Any, namespace: str, auth_keys: Any
) -> None:
    """ADR 0148: the webhook outruns OrderPlaced. One is posted before its order exists
    anywhere (held, on ``?held=true``), twelve while their orders are being consumed (each
    held or booked, whichever wins the race on the order's document); one names an
    order that never comes and stays held. Every invoice ends paid, each payment is
    announced once."""
    async with start_service("billing", token=None, stripe_webhook_secret=SECRET) as billing:
        await wait_for_assignment(billing)
        read = {"Authorization": f"Bearer {auth_keys.token()}"}
        placed = [order_placed_envelope(number=100 + i) for i in range(13)]
        gross = Decimal(placed[0].payload["gross_total"])
        cents = int(gross * 100)

        first = placed[0].aggregate_id
        body, headers = _signed(
            _event("evt_early", "payment_intent.succeeded", _intent("pi_early", first, cents))
        )
        early = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert early.status_code == 200, early.text
        assert early.json()["outcome"] == "held"
        never = _intent("pi_never", "no-such-order", cents)
        body, headers = _signed(_event("evt_never", "payment_intent.succeeded", never))
        stray = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert stray.json()["outcome"] == "held"
        waiting = (
            await billing.client.get("/payments", params={"held": "true"}, headers=read)
        ).json()
        assert sorted(p["payment_id"] for p in waiting["items"]) == ["pi_early", "pi_never"]
        assert all("OrderPlaced" in p["held"] for p in waiting["items"])

        messages = [
            m for e in placed for m in (as_message(e), as_message(order_confirmed_envelope(e)))
        ]
        producing = asyncio.create_task(
            produce(infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), messages)
        )

        async def pay(i: int) -> str:
            await asyncio.sleep(0.15 * i)  # spread over the time the orders are consumed
            order_id = placed[i].aggregate_id
            event = _event(
                f"evt_race_{i}",
                "payment_intent.succeeded",
                _intent(f"pi_race_{i}", order_id, cents),
            )
            body, headers = _signed(event)
            answer = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["outcome"])

        outcomes = await asyncio.gather(*(pay(i) for i in range(1, 13)))
        await producing
        assert set(outcomes) <= {"held", "booked"}, outcomes

        async def all_paid() -> Any:
            response = await billing.client.get(
                "/receivables", params={"page_size": 100}, headers=read
            )
            ours = {e.aggregate_id for e in placed}
            found = [r for r in response.json()["items"] if r["order_id"] in ours]
            paid = [r for r in found if r["status"] == "paid"]
            return found if len(paid) == len(placed) else None

        receivables = await eventually(all_paid, timeout=60)
        assert all(Decimal(r["open_amount"]) == 0 for r in receivables)
        left = (await billing.client.get("/payments", params={"held": "true"}, headers=read)).json()
        assert [p["payment_id"] for p in left["items"]] == ["pi_never"]  # a person looks at it

        announced = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "PaymentReceived"), expected=13
        )
        ids = sorted(json.loads(r.value)["payload"]["payment_id"] for r in announced)
        assert ids == sorted(["pi_early", *(f"pi_race_{i}" for i in range(1, 13))])


async def test_dunning_through_all_levels_to_a_stop_by_payment(
    start_service: Any, infra: Any, namespace: str
) -> None:
    # the invoice is dated today (wall clock) and dunned up to ~40 days later: give the
    # table a (test) rate for this half year and the next, so interest is charged whatever
    # the day the suite runs (the built-in table ends 2026-06-30, ADR 0070)
    today = datetime.now(BERLIN).date()
    half = date(today.year, 1 if today.month <= 6 else 7, 1)
    following = date(half.year + 1, 1, 1) if half.month == 7 else date(half.year, 7, 1)
    rates = {half: Decimal("1.27"), following: Decimal("1.27")}
    async with start_service(
        "billing", dunning_sweep_interval_s=0.1, dunning_base_rates=rates
    ) as billing:
        await wait_for_assignment(billing)
        placed = order_placed_envelope(number=2)
        order_id = placed.aggregate_id
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "OrderPlaced"),
            [as_message(placed), as_message(order_confirmed_envelope(placed))],
        )

        async def receivable() -> Any:
            found = (await billing.client.get("/receivables")).json()["items"]
            return next((r for r in found if r["order_id"] == order_id), None)

        opened = await eventually(receivable, timeout=30)
        number, due = opened["invoice_number"], date.fromisoformat(opened["due_date"])
        context = context_of(billing.app, BillingContext)
        clock = FakeClock(datetime.combine(due, datetime.min.time(), tzinfo=UTC))
        context.clock = clock  # the sweeper asks the context's clock each round

        async def notices(count: int) -> Any:
            page = (await billing.client.get("/dunning", params={"invoice_number": number})).json()
            return page["items"] if page["total"] == count else None

        clock.set(clock() + timedelta(days=7, hours=9))
        [reminder] = await eventually(lambda: notices(1), timeout=30)
        assert reminder["level"] == 1 and reminder["number"].startswith("MA-")
        clock.set(clock() + timedelta(days=14))
        items = await eventually(lambda: notices(2), timeout=30)
        first = items[1]
        assert first["level"] == 2 and Decimal(first["interest"]) > 0
        assert Decimal(first["fees_total"]) == Decimal("2.50")

        pdf = await billing.client.get(f"/dunning/{first['number']}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"

        paid = await billing.client.post(
            "/payments",
            json={
                "amount": opened["open_amount"],
                "method": "bank_transfer",
                "date": (clock() - timedelta(days=1)).date().isoformat(),
                "invoice_number": number,
            },
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["receivable"]["dunning_stopped"] == "settled"
        clock.set(clock() + timedelta(days=30))
        await asyncio.sleep(1.0)  # several sweeps at 0.1 s: none may issue the 3rd level
        assert (await notices(2)) is not None
        overdue = await consume_all(
            infra.kafka_bootstrap,
            topic_of(namespace, "PaymentOverdue"),
            expected=3,
            timeout_ms=3000,
        )
        levels = [
            json.loads(r.value)["payload"]["dunning_level"]
            for r in overdue
            if json.loads(r.value)["type"] == "PaymentOverdue"
        ]
        assert levels == [1, 2]
