"""An erased buyer's retained records on every billing read route (issue 13, ADR 0037, 0075).

Anna buys twice (orders' events on the real broker); a CAMT.053 statement pays the first
invoice from her account, a return corrects it and her refund is paid out by SEPA in a
payment run, the second invoice is dunned; she asked for a quote and sent an XRechnung
as a sole trader. Her export (requested on orders, answered by billing over the broker)
carries each of those records; after her erasure no billing route shows her name,
e-mail, street or IBAN to ``billing:read``/``billing:admin`` (JSON with placeholders and
``restricted``, files 403 naming ``billing:tax``), while a ``billing:tax`` holder still
sees all of it, and another payer on the same statement is shown as before.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kontor_billing.context import BillingContext
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import ReturnCompleted, ShippedLine
from kontor_contracts.samples import ORDER, PRODUCT, order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import BERLIN, FakeClock
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import (
    Keys,
    as_message,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)
from pypdf import PdfReader

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
ANNA_IBAN = "DE02120300000000202051"
#: what must not show once she is erased
ANNA = ("Anna Muster", "anna@example.de", "Hauptstr. 1", ANNA_IBAN)
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


def shown_of_anna(data: str | bytes) -> list[str]:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return [value for value in ANNA if value.lower() in text.lower()]


def statement_paying(invoice: dict[str, Any]) -> bytes:
    """The Commerzbank test file: Anna pays the invoice in full by its number; Bernd,
    Clara and Dieter pay nothing of ours and wait."""
    _, year, seq = invoice["invoice_number"].split("-")
    raw = (DATA / "bank" / "camt053_v02_commerzbank.xml").read_bytes()
    return raw.replace(b"re 2026 000101", f"re {year} {seq}".encode()).replace(
        b">57.98<", f">{invoice['gross_total']}<".encode()
    )


def invoice_of_a_sole_trader() -> bytes:
    """The XRechnung test file as Anna, a sole trader, would send it."""
    raw = (DATA / "incoming" / "xrechnung-cii.xml").read_bytes()
    return (
        raw.replace("Papier &amp; Co. Großhandel GmbH".encode(), b"Anna Muster Handwerk")
        .replace(b"rechnung@papier-co.example", b"anna@example.de")
        .replace("Lagerstraße 12".encode(), b"Hauptstr. 1")
    )


async def anna_buys_twice(
    billing: Any, catalog: Any, infra: Any, namespace: str
) -> tuple[Envelope, Envelope]:
    """The seller's data, the product, and Anna's two orders placed and confirmed on the
    broker (numbers B-2026-000007/8: no invoice number's digits name the other order)."""
    assert (await billing.client.put("/seller", json=SELLER)).status_code == 200
    assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
    first, second = (order_placed_envelope(number=n) for n in (7, 8))
    for placed in (first, second):
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "OrderPlaced"),
            [as_message(placed), as_message(order_confirmed_envelope(placed))],
        )
    return first, second


async def receivable_of(billing: Any, order: Envelope, headers: Any = None) -> Any:
    """The receivable of ``order``'s invoice, once billing invoiced it (else None)."""
    items = (await billing.client.get("/receivables", headers=headers)).json()["items"]
    return next((r for r in items if r["order_id"] == order.aggregate_id), None)


async def anna_erased(orders: Any) -> Any:
    """Anna's erasure asked on orders, once every expected service answered."""
    erasure = await orders.client.post(
        "/privacy/requests", json={"kind": "erasure", "email": "anna@example.de"}
    )
    assert erasure.status_code == 202, erasure.text

    async def completed() -> Any:
        body = (await orders.client.get(f"/privacy/requests/{erasure.json()['id']}")).json()
        return body if body["status"] == "complete" else None

    return await eventually(completed, timeout=30)


async def test_an_erased_buyers_records_are_exported_then_shown_to_billing_tax_only(
    start_service: Any, infra: Any, namespace: str, auth_keys: Keys
) -> None:
    today = datetime.now(BERLIN).date()
    rates = {date(today.year, 1, 1): Decimal("1.27"), date(today.year, 7, 1): Decimal("1.27")}
    rates[date(today.year + 1, 1, 1)] = Decimal("1.27")
    async with (
        start_service("catalog") as catalog,
        start_service("orders", privacy_expected_services=["billing", "orders"]) as orders,
        start_service("billing", dunning_sweep_interval_s=0.1, dunning_base_rates=rates) as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        paid_order, dunned_order = await anna_buys_twice(billing, catalog, infra, namespace)
        paid = await eventually(lambda: receivable_of(billing, paid_order), timeout=30)
        dunned = await eventually(lambda: receivable_of(billing, dunned_order), timeout=30)

        # a bank statement: Anna pays the first invoice from her account
        files = {"file": ("auszug.xml", statement_paying(paid), "text/xml")}
        imported = await billing.client.post("/bank-statements", files=files)
        assert imported.status_code == 201, imported.text
        assert imported.json()["matched"] == 1
        statement_id = imported.json()["id"]

        # a return: the correction's refund goes back to the account she paid from
        back = ReturnCompleted(
            return_id=f"r-{paid_order.aggregate_id}",
            order_id=paid_order.aggregate_id,
            refund_amount=Decimal("23.79"),
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
            completed_at=datetime.now(UTC),
        )
        returned = Envelope.wrap(back, producer="orders", aggregate_id=paid_order.aggregate_id)
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, returned.type), [as_message(returned)]
        )

        async def pending_refund() -> Any:
            items = (await billing.client.get("/payout-items", params={"kind": "refund"})).json()
            pending = [i for i in items["items"] if i["status"] == "pending"]
            return pending[0] if pending else None

        refund = await eventually(pending_refund, timeout=30)
        assert (refund["creditor_name"], refund["iban"]) == ("Anna Muster", ANNA_IBAN)
        run = await billing.client.post("/payment-runs", json={})
        assert run.status_code == 201, run.text
        run_id = run.json()["id"]

        # she asked for a quote (priced once the catalog's product reached billing)
        ask = {
            "customer": ORDER["customer"],
            "billing_address": ORDER["shipping_address"],
            "lines": [{"sku": PRODUCT["sku"], "quantity": 3}],
            "notes": "Anna Muster holt selbst ab",
        }

        async def quoted() -> Any:
            response = await billing.client.post("/quotes", json=ask)
            return response.json() if response.status_code == 201 else None

        quote = (await eventually(quoted, timeout=30, interval=0.2))["number"]

        # she also supplied us, as a sole trader
        files = {"file": ("rechnung.xml", invoice_of_a_sole_trader(), "application/xml")}
        supplied = await billing.client.post("/incoming-invoices", files=files)
        assert supplied.status_code == 201, supplied.text
        incoming_id = supplied.json()["id"]
        assert supplied.json()["supplier"]["email"] == "anna@example.de"
        approved = await billing.client.post(
            f"/incoming-invoices/{incoming_id}/approve", json={"not_a_duplicate": True}
        )
        assert approved.status_code == 200, approved.text

        # the second invoice is dunned: a payment reminder a week after its due date
        clock = FakeClock(
            datetime.combine(date.fromisoformat(dunned["due_date"]), datetime.min.time(), UTC)
            + timedelta(days=7, hours=9)
        )
        context_of(billing.app, BillingContext).clock = clock

        async def reminder() -> Any:
            params = {"invoice_number": dunned["invoice_number"]}
            items = (await billing.client.get("/dunning", params=params)).json()["items"]
            return items[0] if items else None

        notice = await eventually(reminder, timeout=30)
        letter = await billing.client.get(f"/dunning/{notice['number']}/pdf")
        assert letter.status_code == 200
        assert "Anna Muster" in PdfReader(io.BytesIO(letter.content)).pages[0].extract_text()

        async def completed(request_id: str) -> Any:
            body = (await orders.client.get(f"/privacy/requests/{request_id}")).json()
            return body if body["status"] == "complete" else None

        # her choices: English documents, 30 days to pay
        for choice, body in (("language", {"language": "en"}), ("payment-terms", {"days": 30})):
            chosen = await billing.client.put(f"/buyers/anna@example.de/{choice}", json=body)
            assert chosen.status_code == 200, chosen.text

        # the export carries every kind of record billing holds of her
        asked = await orders.client.post(
            "/privacy/requests", json={"kind": "export", "email": "anna@example.de"}
        )
        assert asked.status_code == 202, asked.text
        export = await eventually(lambda: completed(asked.json()["id"]), timeout=30)
        part = export["document"]["services"]["billing"]
        [booking] = part["bank_transactions"]
        assert (booking["counterparty_name"], booking["counterparty_iban"]) == (
            "Anna Muster",
            ANNA_IBAN,
        )
        assert [n["_id"] for n in part["dunning_notices"]] == [notice["number"]]
        assert [i["_id"] for i in part["incoming_invoices"]] == [incoming_id]
        assert part["incoming_invoices"][0]["supplier"]["iban"] == ANNA_IBAN
        [paid_out] = part["payout_items"]
        assert (paid_out["number"], paid_out["iban"]) == (refund["number"], ANNA_IBAN)
        directions = sorted(p["direction"] for p in part["payments"])
        assert directions == ["in", "out"]  # her payment, and the refund handed over
        assert [q["_id"] for q in part["quotes"]] == [quote]
        assert (part["document_language"], part["payment_term_days"]) == ("en", 30)
        kinds = sorted(d["kind"] for d in part["documents"])
        assert kinds == ["correction", "invoice", "invoice"]

        erasure = await orders.client.post(
            "/privacy/requests", json={"kind": "erasure", "email": "anna@example.de"}
        )
        done = await eventually(lambda: completed(erasure.json()["id"]), timeout=30)
        kept = {i["what"]: i["count"] for i in done["services"]["billing"]["retained"]}
        assert kept["bank bookings (payer name, IBAN, remittance text)"] == 1
        assert kept["reminders and dunning notices"] == 1
        assert kept["incoming invoices of the person as a supplier"] == 1
        assert kept["refunds and supplier payments paid out to the person (name, IBAN)"] == 1
        assert kept["payments and refunds"] == 2
        assert kept["quotes (Angebote) made to the person"] == 1
        deleted = {i["what"] for i in done["services"]["billing"]["deleted"]}
        assert deleted == {"document language chosen", "payment terms agreed"}
        for choice, field in (("language", "language"), ("payment-terms", "days")):
            gone = await billing.client.get(f"/buyers/anna@example.de/{choice}")
            assert gone.json()[field] is None

        staff = {"Authorization": f"Bearer {auth_keys.token('billing:read', 'billing:admin')}"}
        tax = {
            "Authorization": "Bearer "
            + auth_keys.token("billing:read", "billing:admin", "billing:tax")
        }
        month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
        shown_as_json = [
            ("/receivables", {}),
            (f"/receivables/{paid['invoice_number']}", {}),
            ("/payments", {"order_id": paid_order.aggregate_id}),
            ("/bank-transactions", {}),
            (f"/bank-transactions/{booking['_id']}", {}),
            ("/dunning", {}),
            (f"/dunning/{notice['number']}", {}),
            ("/open-items", {"side": "receivable"}),
            ("/open-items", {"side": "receivable", "format": "csv"}),
            ("/open-items", {"side": "payable"}),
            ("/open-items", {"side": "payable", "format": "csv"}),
            ("/payout-items", {}),
            (f"/payment-runs/{run_id}", {}),
            ("/incoming-invoices", {}),
            (f"/incoming-invoices/{incoming_id}", {}),
            ("/incoming-invoices/due", {}),
            ("/quotes", {}),
            (f"/quotes/{quote}", {}),
            ("/oss/returns", {"year": str(today.year), "quarter": str((today.month + 2) // 3)}),
            ("/oss/threshold", {}),
        ]
        for route, params in shown_as_json:
            masked = await billing.client.get(route, params=params, headers=staff)
            assert masked.status_code == 200, (route, masked.text)
            assert shown_of_anna(masked.text) == [], (route, masked.text)
        naming_her = {  # the JSON answers that named her before, and do to billing:tax
            "/receivables",
            f"/receivables/{paid['invoice_number']}",
            "/bank-transactions",
            f"/bank-transactions/{booking['_id']}",
            "/open-items",
            "/payout-items",
            "/incoming-invoices",
            f"/incoming-invoices/{incoming_id}",
            "/incoming-invoices/due",
            "/quotes",
            f"/quotes/{quote}",
        }
        for route, params in shown_as_json:
            if route in naming_her:
                clear = await billing.client.get(route, params=params, headers=tax)
                assert "Anna Muster" in clear.text, (route, params, clear.text)
        payments = {"order_id": paid_order.aggregate_id}
        for headers, reference in ((staff, None), (tax, booking["remittance"])):
            listed = await billing.client.get("/payments", params=payments, headers=headers)
            received = next(p for p in listed.json()["items"] if p["direction"] == "in")
            assert received["reference"] == reference
        # a search by her address finds nothing of hers (it would say whose they are)
        for route in ("/invoices", "/receivables", "/quotes"):
            params = {"customer_email": "anna@example.de"}
            searched = await billing.client.get(route, params=params, headers=staff)
            assert searched.json()["total"] == 0, (route, searched.text)
            found = await billing.client.get(route, params=params, headers=tax)
            assert found.json()["total"] > 0, route
        one = await billing.client.get(f"/receivables/{paid['invoice_number']}", headers=staff)
        assert one.json()["restricted"] is True and one.json()["gross_total"] == paid["gross_total"]
        assert one.json()["customer_email"].endswith("@pseudonym.invalid")
        listed = (await billing.client.get("/bank-transactions", headers=staff)).json()["items"]
        others = [t for t in listed if t["id"] != booking["_id"]]
        assert {t["restricted"] for t in others} == {False}  # the other payers as before
        assert "Bernd Beispiel" in str(others)
        assert (await billing.client.get(f"/dunning/{notice['number']}", headers=staff)).json()[
            "restricted"
        ] is True

        files_of_hers = [
            (f"/bank-statements/{statement_id}/file", {}),
            (f"/dunning/{notice['number']}/pdf", {}),
            (f"/quotes/{quote}/pdf", {}),
            (f"/payment-runs/{run_id}/file", {}),
            (f"/incoming-invoices/{incoming_id}/file", {}),
            ("/exports/datev", month),
        ]
        for route, params in files_of_hers:
            refused = await billing.client.get(route, params=params, headers=staff)
            assert refused.status_code == 403, (route, refused.text)
            assert "billing:tax" in refused.text and shown_of_anna(refused.text) == []
            clear = await billing.client.get(route, params=params, headers=tax)
            assert clear.status_code == 200, (route, clear.text)
            content = (
                PdfReader(io.BytesIO(clear.content)).pages[0].extract_text()
                if route.endswith("/pdf")
                else clear.content.decode("cp1252" if "datev" in route else "utf-8")
            )
            assert "Anna Muster" in content, route

        # a return she sent before her erasure completes after it: its correction copies
        # her invoice's buyer, so it is restricted as her invoice is
        later = ReturnCompleted(
            return_id=f"r-{dunned_order.aggregate_id}",
            order_id=dunned_order.aggregate_id,
            refund_amount=Decimal("20.00"),
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=2, sku="BOOK-1", quantity=1)],
            completed_at=datetime.now(UTC),
        )
        late = Envelope.wrap(later, producer="orders", aggregate_id=dunned_order.aggregate_id)
        await produce(infra.kafka_bootstrap, topic_of(namespace, late.type), [as_message(late)])

        async def correction(headers: dict[str, str]) -> Any:
            params = {"order_id": dunned_order.aggregate_id}
            found = await billing.client.get("/credit-notes", params=params, headers=headers)
            return found.json() or None

        [masked_note] = await eventually(lambda: correction(staff), timeout=30)
        assert masked_note["restricted"] is True and shown_of_anna(str(masked_note)) == []
        [clear_note] = await correction(tax)
        assert clear_note["buyer"]["name"] == "Anna Muster"
        pdf = await billing.client.get(f"/credit-notes/{clear_note['number']}/pdf", headers=staff)
        assert pdf.status_code == 403
