"""Support on the real broker and database (issue 14): a mail-like message opens a
ticket, the agent's public reply is queued with threading headers, the customer's
answer (In-Reply-To) lands on the same ticket; orders' and billing's events fill the
customer view (order, shipment, return, credit note) and ComplaintFiled and the last
PaymentOverdue open tickets, announced as TicketOpened on support's topic."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import (
    CreditNoteIssued,
    PaymentOverdue,
    PaymentReceived,
    PaymentRefunded,
)
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import (
    ComplaintFiled,
    OrderDelivered,
    OrderShipped,
    ReceivedReturnLine,
    ReturnCompleted,
    ReturnLine,
    ReturnReceived,
    ReturnRequested,
    ShippedLine,
)
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, consume_all, eventually, produce, topic_of
from kontor_support.application.inbound import InboundAttachment, InboundMessage, receive
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration

ANNA = Customer(email="anna@example.de", name="Anna Muster")


def _from(producer: str, event: Any, key: str) -> Envelope:
    return Envelope.wrap(event, producer=producer, aggregate_id=key)


def _shipped(order_id: str, n: int, at: datetime) -> Envelope:
    event = OrderShipped(
        order_id=order_id,
        shipment_id=f"s-{n}",
        carrier="DHL",
        tracking_number=f"JJD{n:04d}",
        lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=2)],
        complete=True,
        shipped_at=at,
    )
    return _from("orders", event, order_id)


def _return_requested(return_id: str, order_id: str, at: datetime) -> Envelope:
    event = ReturnRequested(
        return_id=return_id,
        order_id=order_id,
        lines=[ReturnLine(sku="TEE-RED-M", quantity=1)],
        requested_at=at,
        withdrawal=True,
    )
    return _from("orders", event, return_id)


def _credit_note(order_id: str, return_id: str, n: int) -> Envelope:
    event = CreditNoteIssued(
        credit_note_id=f"cn-{n}",
        number=f"GS-2026-{n:06d}",
        invoice_id=f"i-{n}",
        order_id=order_id,
        currency="EUR",
        net_total=Decimal("16.80"),
        vat_total=Decimal("3.19"),
        gross_total=Decimal("19.99"),
        reason="return",
        return_id=return_id,
    )
    return _from("billing", event, order_id)


async def test_mail_reply_and_answer_thread_onto_one_ticket(start_service: Any) -> None:
    async with start_service("support") as support:
        ctx = context_of(support.app, SupportContext)
        first = await receive(
            ctx.transactor,
            InboundMessage(
                channel="email",
                received_at=datetime.now(UTC),
                body_text="Wo bleibt B-2026-000001?",
                from_email="Anna@Example.de",
                from_name="Anna Muster",
                subject="Lieferung",
                message_id="<first@example.de>",
                attachments=(InboundAttachment("beleg.txt", "text/plain", b"Beleg"),),
            ),
            clock=ctx.clock,
            blobs=ctx.blobs,
        )
        assert first.created_ticket
        reply = await support.client.post(
            f"/tickets/{first.ticket_id}/replies",
            json={"body": "Ist unterwegs.", "internal": False},
        )
        assert reply.status_code == 201, reply.text
        [delivery] = await ctx.queries.queued_deliveries(10)
        assert delivery.in_reply_to == "<first@example.de>"
        assert delivery.subject == f"Re: Lieferung [#{first.ticket_id}]"
        assert delivery.to_email == "anna@example.de"

        answer = await receive(
            ctx.transactor,
            InboundMessage(
                channel="email",
                received_at=datetime.now(UTC),
                body_text="Danke!",
                from_email="anna@example.de",
                subject="Re: irgendwas",
                message_id="<answer@example.de>",
                in_reply_to=delivery.message_id,
            ),
            clock=ctx.clock,
            blobs=ctx.blobs,
        )
        assert (answer.ticket_id, answer.created_ticket) == (first.ticket_id, False)
        shown = (await support.client.get(f"/tickets/{first.ticket_id}")).json()
        assert [(m["direction"], m["internal"]) for m in shown["messages"]] == [
            ("in", False),
            ("out", False),
            ("in", False),
        ]
        [attached] = shown["messages"][0]["attachments"]
        assert attached["filename"] == "beleg.txt"
        path = f"/tickets/{first.ticket_id}/attachments/{attached['blob_id']}"
        download = await support.client.get(path)
        assert download.status_code == 200 and download.content == b"Beleg"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-security-policy"].startswith("sandbox")
        other = await support.client.get(
            f"/tickets/T-2026-999999/attachments/{attached['blob_id']}"
        )
        assert other.status_code == 404  # a file only through the ticket it came with
        assert shown["order_numbers"] == ["B-2026-000001"]
        refused = await support.client.post(
            f"/tickets/{first.ticket_id}/replies", json={"body": "Hallo {{customer_name}}"}
        )
        assert refused.status_code == 422
        assert "customer_name" in refused.text


async def test_order_life_fills_the_customer_view_and_events_open_tickets(
    start_service: Any, infra: Any, namespace: str
) -> None:
    placed = order_placed_envelope()
    order_id = placed.aggregate_id
    return_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    orders = [
        placed,
        _shipped(order_id, 1, now),
        _return_requested(return_id, order_id, now),
        _from(
            "orders",
            ComplaintFiled(
                complaint_id="c-1",
                order_id=order_id,
                sku="BOOK-1",
                description="Seiten lose",
                customer=ANNA,
            ),
            "c-1",
        ),
    ]
    billing = [
        _credit_note(order_id, return_id, 1),
        _from(
            "billing",
            PaymentOverdue(
                invoice_id="i-1",
                order_id=order_id,
                amount_due=Decimal("47.59"),
                currency="EUR",
                due_date=date(2026, 11, 1),
                days_overdue=30,
                invoice_number="RE-2026-000001",
                dunning_level=3,
                customer=ANNA,
            ),
            order_id,
        ),
    ]
    async with start_service("support") as support:
        for envelope in orders:
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )
        for envelope in billing:
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )

        async def tickets() -> list[dict[str, Any]] | None:
            found = (await support.client.get("/tickets?customer=anna@example.de")).json()
            return found["items"] if found["total"] == 2 else None

        opened = await eventually(tickets, timeout=30)
        assert sorted(t["category"] for t in opened) == ["complaint", "payment"]

        async def view() -> dict[str, Any] | None:
            answer = (await support.client.get("/customers/anna@example.de")).json()
            [order] = answer.get("orders") or [None]
            return answer if order and order["credit_notes"] and order["returns"] else None

        shown = await eventually(view, timeout=30)
        [order] = shown["orders"]
        assert order["order_number"] == "B-2026-000001"
        assert order["shipments"][0]["tracking_number"] == "JJD0001"
        assert order["returns"][0]["return_id"] == return_id
        assert order["complaints"][0]["complaint_id"] == "c-1"
        assert order["credit_notes"][0]["number"] == "GS-2026-000001"
        assert order["dunning"][0]["level"] == 3
        announced = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "TicketOpened"), 2, timeout_ms=10000
        )
        assert len(announced) == 2


async def test_a_ticket_shows_the_whole_order_life_of_its_customer(
    start_service: Any, infra: Any, namespace: str
) -> None:
    """The ticket's customer view (``GET /tickets/{id}``) after a full order life: placed,
    confirmed, paid, shipped, delivered, returned, received back, refunded with a credit
    note (the correction): an agent sees all of it on the customer's mail."""
    placed = order_placed_envelope(number=8)
    order_id, return_id = placed.aggregate_id, str(uuid.uuid4())
    number = placed.payload["order_number"]
    now = datetime.now(UTC)
    life = [
        placed,
        order_confirmed_envelope(placed),
        _from(
            "billing",
            PaymentReceived(
                payment_id="p-1",
                order_id=order_id,
                amount=Decimal("47.59"),
                currency="EUR",
                method="paypal",
                received_at=now,
                invoice_number="RE-2026-000008",
            ),
            order_id,
        ),
        _shipped(order_id, 8, now),
        _from(
            "orders",
            OrderDelivered(order_id=order_id, delivered_at=now, shipment_id="s-8"),
            order_id,
        ),
        _return_requested(return_id, order_id, now),
        _from(
            "orders",
            ReturnReceived(
                return_id=return_id,
                order_id=order_id,
                lines=[
                    ReceivedReturnLine(
                        sku="TEE-RED-M", quantity=1, condition="as_new", disposition="restock"
                    )
                ],
                received_at=now,
            ),
            return_id,
        ),
        _from(
            "orders",
            ReturnCompleted(
                return_id=return_id,
                order_id=order_id,
                refund_amount=Decimal("19.99"),
                currency="EUR",
                includes_shipping=False,
                completed_at=now,
            ),
            return_id,
        ),
        _credit_note(order_id, return_id, 8),
        _from(
            "billing",
            PaymentRefunded(
                payment_id="rf-8",
                order_id=order_id,
                amount=Decimal("19.99"),
                currency="EUR",
                method="paypal",
                refunded_at=now,
            ),
            order_id,
        ),
    ]
    async with start_service("support") as support:
        for envelope in life:
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )
        ctx = context_of(support.app, SupportContext)
        asked = await receive(
            ctx.transactor,
            InboundMessage(
                channel="email",
                received_at=now,
                body_text=f"Wann kommt das Geld für die Rücksendung zu {number}?",
                from_email="anna@example.de",
                subject="Erstattung",
                message_id="<life@example.de>",
            ),
            clock=ctx.clock,
            blobs=ctx.blobs,
        )

        async def whole_life() -> dict[str, Any] | None:
            shown = (await support.client.get(f"/tickets/{asked.ticket_id}")).json()
            orders = (shown.get("customer") or {}).get("orders") or []
            if not orders:
                return None
            order = orders[0]
            returns = order["returns"]
            done = returns and returns[0]["status"] == "completed"
            return order if done and order["refunds"] and order["credit_notes"] else None

        order = await eventually(whole_life, timeout=30)
        assert order["order_number"] == number
        assert order["status"] == "delivered"
        [shipment] = order["shipments"]
        assert shipment["tracking_number"] == "JJD0008" and shipment["delivered_at"]
        [returned] = order["returns"]
        assert returned["return_id"] == return_id
        assert (returned["refund_amount"], bool(returned["received_at"])) == ("19.99", True)
        assert order["payments"][0]["amount"] == "47.59"
        assert order["credit_notes"][0]["number"] == "GS-2026-000008"
        assert order["refunds"][0]["amount"] == "19.99"
