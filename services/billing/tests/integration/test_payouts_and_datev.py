"""Payouts and the accounting export on the real broker and database (issue 12).

One month of a shop: three orders invoiced from orders' events, a return corrected on
one paid by bank transfer (refunded by SEPA in the payment run) and one on an order
paid by card (refunded through the provider: a local fake of its HTTP API), a
cancellation of an unpaid invoice (nothing to refund), an approved supplier invoice
with Skonto. Payments and incoming invoices are written as their owners store them
(``payments``, ``incoming_invoices``). The payment run's pain.001 file is parsed back;
the DATEV export is read back by a parser of its own and summed per account, exported
again byte for byte, and the open items are listed (from the receivables ledger,
which the refunds paid out reach, ADR 0071, 0072).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from kontor_billing.application.payments import book_payment
from kontor_billing.context import BillingContext
from kontor_billing.domain.receivables import PaymentBooking
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import ReturnCompleted, ShippedLine
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import (
    as_message,
    eventually,
    produce,
    serving,
    topic_of,
    wait_for_assignment,
)
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

pytestmark = pytest.mark.integration

SELLER = {
    "name": "Musterhandel GmbH",
    "street": "Marktplatz 1",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE136695976",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}
CUSTOMER = "DE02120300000000202051"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


@pytest.fixture
async def provider() -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    """Stripe's POST /v1/refunds, answering every refund ``succeeded``."""
    seen: list[dict[str, Any]] = []

    async def refunds(request: Request) -> JSONResponse:
        form = dict(await request.form())
        seen.append({**form, "key": request.headers.get("idempotency-key")})
        return JSONResponse({"id": f"re_{len(seen)}", "object": "refund", "status": "succeeded"})

    app = Starlette(routes=[Route("/v1/refunds", refunds, methods=["POST"])])
    async with serving(app) as url:
        yield seen, url


def parse_extf(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The test's own reading of an EXTF file: cp1252, ``;``, quotes, header line,
    column line, bookings."""
    rows = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))
    header, columns, *bookings = rows
    return header, [dict(zip(columns, b, strict=True)) for b in bookings]


def balances(bookings: list[dict[str, str]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for b in bookings:
        amount = Decimal(b["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))
        signed = amount if b["Soll/Haben-Kennzeichen"] == "S" else -amount
        out[b["Konto"]] += signed
        out[b["Gegenkonto (ohne BU-Schlüssel)"]] -= signed
    return dict(out)


async def _send(infra: Any, namespace: str, *envelopes: Envelope) -> None:
    for env in envelopes:
        await produce(infra.kafka_bootstrap, topic_of(namespace, env.type), [as_message(env)])


async def test_a_month_paid_out_and_exported_to_datev(
    start_service: Any, infra: Any, namespace: str, provider: Any
) -> None:
    seen, url = provider
    async with start_service(
        "billing",
        refund_provider_url=url,
        refund_provider_secret="sk_test_integration",
        refund_sweep_interval_s=0.2,
    ) as billing:
        await wait_for_assignment(billing)
        db = billing.kit.store.db
        assert (await billing.client.put("/seller", json=SELLER)).status_code == 200
        bank, card, unpaid = (order_placed_envelope(number=n) for n in (1, 2, 3))
        for placed in (bank, card, unpaid):
            await _send(infra, namespace, placed, order_confirmed_envelope(placed))

        async def invoice_of(order_id: str) -> dict[str, Any] | None:
            found = await db["invoices"].find_one({"order_id": order_id, "kind": "invoice"})
            return found

        await eventually(lambda: _all(invoice_of, bank, card, unpaid), timeout=30)
        invoices = {p.aggregate_id: await invoice_of(p.aggregate_id) for p in (bank, card, unpaid)}
        now = datetime.now(UTC)
        # the payments booked the way the payments part books them (on the receivables
        # ledger, which the open items read): one matched from a bank statement (its
        # account in bank_transactions), one by card
        context = context_of(billing.app, BillingContext)
        for placed, method, source, ref in (
            (bank, "bank_transfer", "bank", "RE Ueberweisung"),
            (card, "card", "stripe", "pi_card_1"),
        ):
            inv = invoices[placed.aggregate_id]
            assert inv is not None
            booking = PaymentBooking(
                payment_id=f"bank:tx-1:{inv['number']}"
                if source == "bank"
                else f"stripe:{placed.aggregate_id}",
                amount=inv["gross_total"],
                currency="EUR",
                method=method,
                received_at=now,
                source=source,  # type: ignore[arg-type]
                reference=ref,
                invoice_number=inv["number"],
            )
            await context.transactor.run(partial(book_payment, booking=booking, now=now))
        await db["bank_transactions"].insert_one(
            {"_id": "tx-1", "counterparty_name": "Anna Muster", "counterparty_iban": CUSTOMER}
        )
        await db["bank_accounts"].insert_one(
            {
                "_id": SELLER["iban"],
                "iban": SELLER["iban"],
                "balance": {"amount": Decimal("5000.00"), "currency": "EUR", "on": "2026-11-30"},
            }
        )
        # a T-shirt back from both paid orders; the unpaid invoice is cancelled
        for placed in (bank, card):
            refund = ReturnCompleted(
                return_id=f"r-{placed.aggregate_id}",
                order_id=placed.aggregate_id,
                refund_amount=Decimal("23.79"),
                currency="EUR",
                includes_shipping=False,
                lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
                completed_at=now,
            )
            await _send(
                infra, namespace, Envelope.wrap(refund, producer="orders", aggregate_id="r")
            )
        unpaid_number = invoices[unpaid.aggregate_id]["number"]  # type: ignore[index]
        cancel = await billing.client.post(f"/invoices/{unpaid_number}/cancel", json={})
        assert cancel.status_code == 201, cancel.text
        today = now.astimezone(BERLIN).date()
        await db["incoming_invoices"].insert_one(
            {
                "_id": "ii-1",
                # the fields incoming invoices' $jsonSchema demands (migration 0500)
                "sha256": "a" * 64,
                "file_id": "file-ii-1",
                "format": "cii",
                "validation": {"outcome": "accepted", "rule_sets": ["EN16931-CII"]},
                "received_at": now,
                "status": "approved",
                "number": "LS-4711",
                "supplier": {"name": "Stoff AG", "iban": "DE02500105170137075030"},
                "issue_date": today.isoformat(),
                "due_date": (today + timedelta(days=30)).isoformat(),
                "amount_due": Decimal("1190.00"),
                "gross_total": Decimal("1190.00"),
                "vat_breakdown": [
                    {
                        "category": "S",
                        "rate": Decimal("19.00"),
                        "basis": Decimal("1000.00"),
                        "vat": Decimal("190.00"),
                    }
                ],
                "currency": "EUR",
                "skonto": {"percent": "2", "until": (today + timedelta(days=10)).isoformat()},
                "approved_account": "3400",
            }
        )

        # the card refund goes through the provider and settles; the SEPA one waits
        async def refunds_planned() -> bool:
            return await db["payout_items"].count_documents({"kind": "refund"}) == 2

        await eventually(refunds_planned, timeout=30)

        async def card_refund_settled() -> bool:
            item = await db["payout_items"].find_one({"route": "provider"})
            return item is not None and item["status"] == "settled"

        await eventually(card_refund_settled, timeout=30)
        assert [(s["payment_intent"], s["amount"]) for s in seen] == [("pi_card_1", "2379")]
        card_item = await db["payout_items"].find_one({"route": "provider"})
        assert seen[0]["key"] == card_item["number"]

        run = await billing.client.post(
            "/payment-runs", json={"due_until": (today + timedelta(days=10)).isoformat()}
        )
        assert run.status_code == 201, run.text
        body = run.json()
        assert body["count"] == 2 and body["skipped"] == []
        assert Decimal(body["control_sum"]) == Decimal("23.79") + Decimal("1166.20")
        file = await billing.client.get(body["file"])
        assert file.status_code == 200
        assert file.headers["content-type"].startswith("application/xml")
        doc = etree.fromstring(file.content)
        transfers = doc.findall(".//p:CdtTrfTxInf", NS)
        got = {
            t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): (
                Decimal(t.findtext("p:Amt/p:InstdAmt", namespaces=NS)),
                t.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            )
            for t in transfers
        }
        items = {i["end_to_end_id"]: i for i in body["items"]}
        assert CUSTOMER in {i["iban"] for i in items.values()}  # from the bank booking
        assert got == {k: (Decimal(i["amount"]), i["iban"]) for k, i in items.items()}
        assert (await billing.client.post("/payment-runs", json={})).status_code == 422
        sent = await billing.client.get("/payout-items", params={"status": "sent"})
        assert sent.json()["total"] == 2
        # both refunds are on the ledger once (the run's and the provider's), not in DATEV
        # as payments: the payout bookings carry them there (sums below)
        out = [p async for p in db["payments"].find({"direction": "out"})]
        assert sorted((p["source"], p["amount"]) for p in out) == [
            ("payout", Decimal("23.79")),
            ("payout", Decimal("23.79")),
        ]

        # DATEV: the month, read back and summed per account (SKR03 defaults)
        month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
        export = await billing.client.get("/exports/datev", params=month)
        assert export.status_code == 200, export.text
        assert export.headers["content-type"] == "text/csv; charset=windows-1252"
        header, bookings = parse_extf(export.content)
        assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
        sums = balances(bookings)
        documents = [d async for d in db["invoices"].find({})]
        assert len(documents) == 6  # 3 invoices, 2 corrections, 1 cancellation
        gross = sum((d["gross_total"] for d in documents), Decimal("0"))
        paid = sum((invoices[p.aggregate_id]["gross_total"] for p in (bank, card)), Decimal("0"))  # type: ignore[index]
        # debtors: documents - payments + the two refunds paid out
        assert sums["1400"] == gross - paid + Decimal("47.58")
        assert sums["8400"] + sums["8300"] == -gross
        assert sums["1200"] == paid - invoices[card.aggregate_id]["gross_total"] - Decimal(
            "23.79"
        ) - Decimal("1166.20")  # type: ignore[index]
        assert sums["1360"] == invoices[card.aggregate_id]["gross_total"] - Decimal("23.79")  # type: ignore[index]
        assert sums["3400"] == Decimal("1190.00")
        assert sums["1600"] == Decimal("-1190.00") + Decimal("1166.20") + Decimal("23.80")
        assert sums["3736"] == Decimal("-23.80")
        assert sum(sums.values()) == 0
        assert {d["number"] for d in documents} <= {b["Belegfeld 1"] for b in bookings}

        again = await billing.client.get("/exports/datev", params=month)
        assert again.content == export.content
        assert again.headers["x-datev-first-export"] == "false"
        [listed] = (await billing.client.get("/exports")).json()
        assert (listed["from"], listed["late_documents"]) == (month["from"], [])
        # a supplier invoice of the month approved after the export: a follow-up batch
        follow_up = {**month, "batch": 2}
        assert (await billing.client.get("/exports/datev", params=follow_up)).status_code == 409
        late = await db["incoming_invoices"].find_one({"_id": "ii-1"})
        assert late is not None
        late.update({"_id": "ii-2", "sha256": "b" * 64, "number": "LS-4712", "skonto": None})
        await db["incoming_invoices"].insert_one(late)
        [listed] = (await billing.client.get("/exports")).json()
        assert listed["late_documents"] == [{"kind": "incoming_invoice", "number": "ii-2"}]
        second = await billing.client.get("/exports/datev", params=follow_up)
        assert second.status_code == 200, second.text
        assert second.headers["x-datev-batch"] == "2"
        _, late_rows = parse_extf(second.content)
        assert {r["Belegfeld 1"] for r in late_rows} == {"LS-4712"}
        assert (await billing.client.get("/exports/datev", params=follow_up)).content == (
            second.content
        )
        batches = (await billing.client.get("/exports")).json()
        assert [(b["batch"], b["late_documents"]) for b in batches] == [(2, []), (1, [])]

        receivable = await billing.client.get("/open-items", params={"side": "receivable"})
        assert receivable.status_code == 200, receivable.text
        # every invoice is paid, credited and refunded, or cancelled: nothing open
        assert receivable.json()["items"] == []
        assert receivable.json()["bank_balance"] == {
            "amount": "5000.00",
            "date": "2026-11-30",
            "iban": SELLER["iban"],
        }
        payable = await billing.client.get(
            "/open-items", params={"side": "payable", "format": "csv"}
        )
        assert payable.status_code == 200
        # the first supplier invoice is paid out; the late one is still to pay
        assert [r.split(";")[1] for r in payable.text.splitlines()[1:]] == ["LS-4712"]


async def _all(invoice_of: Any, *placed: Envelope) -> bool:
    return all([await invoice_of(p.aggregate_id) is not None for p in placed])
