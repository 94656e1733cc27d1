"""Refunds paid out by payout items reach the ledger and orders (issue 12, ADR 0071), on
the real broker and database with catalog, orders and billing running: two orders paid
(one by a Stripe-signed webhook, one booked by hand), a T-shirt back from each; the
card refund goes through a local fake of the provider's HTTP API, the other in a SEPA
payment run, settled by the bank statement that shows it; orders' ``amount_paid``
follows each ``PaymentRefunded``; Stripe's
``charge.refunded`` for the provider's refund (listed, and as the cumulative figure)
books nothing more."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import ReturnCompleted, ShippedLine
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    serving,
    topic_of,
    wait_for_assignment,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

pytestmark = pytest.mark.integration

SECRET = "whsec_refunds_" + "r" * 24
DATA = Path(__file__).resolve().parents[1] / "data" / "bank"
SELLER_IBAN = "DE89370400440532013000"
CUSTOMER_IBAN = "DE02120300000000202051"
BACK = Decimal("23.79")


@pytest.fixture
async def stripe_refunds() -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    """Stripe's POST /v1/refunds: the refund object (id, charge, created, succeeded)."""
    calls: list[dict[str, Any]] = []

    async def refund(request: Request) -> JSONResponse:
        form = dict(await request.form())
        calls.append(form)
        return JSONResponse(
            {
                "id": f"re_it_{len(calls)}",
                "object": "refund",
                "amount": int(str(form["amount"])),
                "charge": "ch_it_1",
                "payment_intent": form["payment_intent"],
                "created": int(time.time()),
                "status": "succeeded",
            }
        )

    app = Starlette(routes=[Route("/v1/refunds", refund, methods=["POST"])])
    async with serving(app) as url:
        yield calls, url


def signed(event_id: str, kind: str, obj: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    event = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()) + 1,  # Stripe makes the event after the refund
        "data": {"object": obj},
    }
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


async def test_payout_refunds_are_booked_once_and_orders_amount_paid_follows(
    start_service: Any, infra: Any, namespace: str, stripe_refunds: Any
) -> None:
    calls, provider_url = stripe_refunds
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service(
            "billing",
            stripe_webhook_secret=SECRET,
            refund_provider_url=provider_url,
            refund_provider_secret="sk_test_refunds",
            refund_sweep_interval_s=0.2,
        ) as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        seller = {
            "name": "Musterhandel GmbH",
            "street": "Marktplatz 1",
            "postcode": "10117",
            "city": "Berlin",
            "country": "DE",
            "vat_id": "DE136695976",
            "iban": SELLER_IBAN,
        }
        assert (await billing.client.put("/seller", json=seller)).status_code == 200

        async def place() -> dict[str, Any]:
            async def accepted() -> Any:
                response = await orders.client.post("/orders", json=ORDER)
                return response.json() if response.status_code == 201 else None

            order: dict[str, Any] = await eventually(accepted, timeout=30, interval=0.2)
            return order

        by_card, by_hand = await place(), await place()

        async def receivable(order: dict[str, Any]) -> dict[str, Any] | None:
            items = (await billing.client.get("/receivables")).json()["items"]
            return next((r for r in items if r["order_id"] == order["id"]), None)

        card_r = await eventually(lambda: receivable(by_card), timeout=30)
        hand_r = await eventually(lambda: receivable(by_hand), timeout=30)
        gross = Decimal(card_r["gross_total"])
        intent = {
            "id": "pi_it_1",
            "object": "payment_intent",
            "amount_received": int(gross * 100),
            "currency": "eur",
            "payment_method_types": ["card"],
            "metadata": {"order_id": by_card["id"]},
        }
        body, headers = signed("evt_it_pay", "payment_intent.succeeded", intent)
        paid = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert paid.json()["outcome"] == "booked", paid.text
        manual = await billing.client.post(
            "/payments",
            json={
                "amount": hand_r["gross_total"],
                "method": "bank_transfer",
                "date": hand_r["issue_date"],
                "invoice_number": hand_r["invoice_number"],
            },
        )
        assert manual.status_code == 201, manual.text

        async def amount_paid(order: dict[str, Any], amount: Decimal) -> bool:
            found = (await orders.client.get(f"/orders/{order['id']}")).json()
            return Decimal(found["amount_paid"]) == amount

        await eventually(lambda: amount_paid(by_card, gross))
        await eventually(lambda: amount_paid(by_hand, gross))

        for order in (by_card, by_hand):
            back = ReturnCompleted(
                return_id=f"r-{order['id']}",
                order_id=order["id"],
                refund_amount=BACK,
                currency="EUR",
                includes_shipping=False,
                lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
                completed_at=datetime.now(UTC),
            )
            env = Envelope.wrap(back, producer="orders", aggregate_id=order["id"])
            await produce(infra.kafka_bootstrap, topic_of(namespace, env.type), [as_message(env)])

        # the card refund: through the provider, booked when it answers
        await eventually(lambda: amount_paid(by_card, gross - BACK), timeout=30)
        assert [(c["payment_intent"], c["amount"]) for c in calls] == [("pi_it_1", "2379")]

        # the hand-booked payment: a SEPA transfer once the customer's account is known
        async def waiting() -> Any:
            page = await billing.client.get("/payout-items", params={"status": "awaiting_account"})
            items = page.json()["items"]
            return items[0] if items else None

        item = await eventually(waiting, timeout=30)
        account = await billing.client.put(
            f"/payout-items/{item['number']}/account",
            json={"iban": CUSTOMER_IBAN, "name": "Anna Muster"},
        )
        assert account.status_code == 200, account.text
        assert (
            Decimal((await orders.client.get(f"/orders/{by_hand['id']}")).json()["amount_paid"])
            == gross
        )
        run = await billing.client.post("/payment-runs", json={})
        assert run.status_code == 201, run.text
        assert [i["number"] for i in run.json()["items"]] == [item["number"]]
        await eventually(lambda: amount_paid(by_hand, gross - BACK), timeout=30)
        # the bank statement shows the transfer (its EndToEndId): settled, booked nothing more
        statement = (
            (DATA / "camt053_v02_commerzbank.xml")
            .read_bytes()
            .replace(b"KONTOR-RF-000017", item["number"].encode())
            .replace(b">30.00<", b">23.79<")
            .replace(b">1377.13<", b">1383.34<")
        )
        files = {"file": ("auszug.xml", statement, "application/xml")}
        imported = await billing.client.post("/bank-statements", files=files)
        assert imported.status_code == 201, imported.text
        settled = await billing.client.get("/payout-items", params={"status": "settled"})
        assert item["number"] in [i["number"] for i in settled.json()["items"]]

        # Stripe reports the provider's refund: listed by id, then only the figure
        charge = {
            "id": "ch_it_1",
            "object": "charge",
            "payment_intent": "pi_it_1",
            "amount_refunded": 2379,
            "currency": "eur",
            "metadata": {},
            "refunds": {
                "object": "list",
                "data": [{"id": "re_it_1", "amount": 2379, "status": "succeeded"}],
            },
        }
        body, headers = signed("evt_it_r1", "charge.refunded", charge)
        listed = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert listed.status_code == 200, listed.text
        del charge["refunds"]
        body, headers = signed("evt_it_r2", "charge.refunded", charge)
        cumulative = await billing.client.post("/webhooks/stripe", content=body, headers=headers)
        assert cumulative.status_code == 200, cumulative.text
        assert cumulative.json()["payment_ids"] == []

        for r in (card_r, hand_r):
            after = (await billing.client.get(f"/receivables/{r['invoice_number']}")).json()
            assert (after["status"], Decimal(after["open_amount"])) == ("paid", 0), after
            assert Decimal(after["overpaid_amount"]) == 0
        # the topic has the two PaymentReceived and each refund once: wait for one more
        records = await consume_all(
            infra.kafka_bootstrap,
            topic_of(namespace, "PaymentRefunded"),
            expected=5,
            timeout_ms=3000,
        )
        assert len(records) == 4
        refunded = [json.loads(r.value) for r in records]
        refunded = [e["payload"] for e in refunded if e["type"] == "PaymentRefunded"]
        assert sorted(e["payment_id"] for e in refunded) == sorted(
            ["re_it_1", f"payout:{item['number']}"]
        )
        assert {e["source"] for e in refunded} == {"payout"}
        # and orders saw each once
        assert await amount_paid(by_card, gross - BACK)
        assert await amount_paid(by_hand, gross - BACK)

        # the customer's bank returns the SEPA refund (account closed, ADR 0077): the
        # refund is undone on the ledger and in orders, and waits for another account
        bounced = (
            (DATA / "camt053_v02_returned_refund.xml")
            .read_bytes()
            .replace(b"AZ-2026-000001", item["number"].encode())
        )
        files = {"file": ("retoure.xml", bounced, "application/xml")}
        imported = await billing.client.post("/bank-statements", files=files)
        assert imported.status_code == 201, imported.text
        assert (imported.json()["matched_payouts"], imported.json()["matched"]) == (1, 0)
        await eventually(lambda: amount_paid(by_hand, gross), timeout=30)
        page = await billing.client.get("/payout-items", params={"status": "awaiting_account"})
        [waits] = page.json()["items"]
        assert (waits["number"], waits["returns"], waits["iban"]) == (item["number"], 1, None)
        assert "AC04" in waits["failure"]
        credit = (await billing.client.get(f"/receivables/{hand_r['invoice_number']}")).json()
        assert (credit["status"], Decimal(credit["overpaid_amount"])) == ("overpaid", BACK)
        assert (await billing.client.post("/bank-statements", files=files)).json()["duplicate"]
        other = {"iban": "DE75512108001245126199", "name": "Anna Muster"}
        account = await billing.client.put(f"/payout-items/{item['number']}/account", json=other)
        assert account.status_code == 200, account.text
        rerun = await billing.client.post("/payment-runs", json={})
        assert [i["number"] for i in rerun.json()["items"]] == [item["number"]]
        await eventually(lambda: amount_paid(by_hand, gross - BACK), timeout=30)
