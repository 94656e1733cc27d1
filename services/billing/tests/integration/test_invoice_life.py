"""An invoice's life on the real broker and database (issue 11).

- an order is invoiced only after orders confirms it; never when rejected, never when
  only placed (an OrderPlaced from outside for an order orders never confirms);
- an order cancelled after its invoice gets a cancellation (Storno, ``ST-``)
  automatically; the merchant cancels another by route; InvoiceCancelled announces it;
- a completed return with a refund gets a correction (``KR-``), CreditNoteIssued;
- without the seller's §14 minimum nothing is issued and /health/ready says why;
  PUT /seller issues what waited;
- the audit chain verifies, and a document edited behind billing's back is named;
- the database itself refuses documents and entries without their mandatory fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.audit_command import verify as verify_command
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderRejected,
    ReturnCompleted,
    ShippedLine,
)
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)
from pymongo.errors import WriteError

pytestmark = pytest.mark.integration

SELLER = {
    "name": "Musterhandel GmbH",
    "street": "Marktplatz 1",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE136695976",
    "tax_number": "30/123/45678",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "email": "buchhaltung@musterhandel.de",
    "registry": "Amtsgericht Berlin-Charlottenburg HRB 12345",
    "managing_directors": ["Erika Mustermann"],
}


def _wrap(event: Event, order_id: str) -> Envelope:
    return Envelope.wrap(event, producer="orders", aggregate_id=order_id)


async def _send(infra: Any, namespace: str, *envelopes: Envelope) -> None:
    by_topic: dict[str, list[Any]] = {}
    for env in envelopes:
        by_topic.setdefault(topic_of(namespace, env.type), []).append(as_message(env))
    for topic, messages in by_topic.items():
        await produce(infra.kafka_bootstrap, topic, messages)


async def _handled(billing: Any, count: int) -> None:
    inbox = billing.kit.store.db["inbox"]
    await eventually(lambda: _at_least(inbox, count), timeout=30)


async def _at_least(collection: Any, n: int) -> bool:
    return bool(await collection.count_documents({}) >= n)


async def _invoices(billing: Any, **params: str) -> list[dict[str, Any]]:
    response = await billing.client.get("/invoices", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_only_a_confirmed_order_is_invoiced_never_a_rejected_or_only_placed_one(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        a, b, c = (order_placed_envelope(number=n) for n in (1, 2, 3))
        rejected = _wrap(
            OrderRejected(order_id=b.aggregate_id, reason="out_of_stock"), b.aggregate_id
        )
        # the confirmation of a first, then its placement; b's confirmation after its
        # rejection (it must not count); c only placed (say, published from outside)
        await _send(infra, namespace, order_confirmed_envelope(a))
        await _handled(billing, 1)
        assert await _invoices(billing, order_id=a.aggregate_id) == []
        await _send(infra, namespace, a, b, rejected, order_confirmed_envelope(b), c)
        await _handled(billing, 6)

        [invoice] = await _invoices(billing, order_id=a.aggregate_id)
        assert invoice["number"].startswith("RE-") and invoice["status"] == "issued"
        assert invoice["seller"]["name"] == "Musterhandel GmbH"
        assert invoice["sample"] is True  # the example seller until PUT /seller
        assert invoice["supply_date"] is None
        assert "Leistungsdatum entspricht Rechnungsdatum." in invoice["notes"]
        assert invoice["buyer"]["email"] == "anna@example.de"
        assert await _invoices(billing, order_id=b.aggregate_id) == []
        assert await _invoices(billing, order_id=c.aggregate_id) == []
        assert await billing.kit.store.db["invoices"].count_documents({}) == 1


async def test_cancellation_after_invoicing_automatic_and_by_route(
    start_service: Any, infra: Any, namespace: str, auth_keys: Any
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        a, d = order_placed_envelope(number=1), order_placed_envelope(number=2)
        await _send(
            infra, namespace, a, order_confirmed_envelope(a), d, order_confirmed_envelope(d)
        )
        await _handled(billing, 4)
        [invoice_a] = await _invoices(billing, order_id=a.aggregate_id)
        [invoice_d] = await _invoices(billing, order_id=d.aggregate_id)

        cancelled = OrderCancelled(order_id=a.aggregate_id, reason="customer")
        await _send(infra, namespace, _wrap(cancelled, a.aggregate_id))
        await _handled(billing, 5)
        one = (await billing.client.get(f"/invoices/{invoice_a['number']}")).json()
        assert one["status"] == "cancelled"
        [ref] = one["references"]
        assert ref["kind"] == "cancellation" and ref["number"].startswith("ST-")
        storno = (await billing.client.get(f"/invoices/{ref['number']}")).json()
        assert storno["original_number"] == invoice_a["number"]
        assert Decimal(storno["gross_total"]) == -Decimal(invoice_a["gross_total"])

        reader = {"Authorization": f"Bearer {auth_keys.token('billing:read')}"}
        path = f"/invoices/{invoice_d['number']}/cancel"
        assert (await billing.client.post(path, json={}, headers=reader)).status_code == 403
        by_route = await billing.client.post(path, json={"reason": "Doppelt berechnet"})
        assert by_route.status_code == 201, by_route.text
        assert by_route.json()["number"].endswith("-000002")
        assert by_route.json()["reason"] == "Doppelt berechnet"
        again = await billing.client.post(path)
        assert again.status_code == 409
        assert "already cancelled" in again.json()["detail"]
        cancellations = await _invoices(billing, kind="cancellation")
        assert len(cancellations) == 2
        assert {i["number"] for i in await _invoices(billing, status="cancelled")} == {
            invoice_a["number"],
            invoice_d["number"],
        }
        announced = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceCancelled"), expected=4
        )
        types = [dict(r.headers).get("kontor_type", b"").decode() for r in announced]
        assert len(announced) == 4, types  # 2 InvoiceIssued + 2 InvoiceCancelled


async def test_a_completed_return_gets_a_correction(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        a = order_placed_envelope()
        await _send(infra, namespace, a, order_confirmed_envelope(a))
        await _handled(billing, 2)
        refund = ReturnCompleted(
            return_id="r-1",
            order_id=a.aggregate_id,
            refund_amount=Decimal("20.00"),
            currency="EUR",
            includes_shipping=False,
            lines=[ShippedLine(line_no=2, sku="BOOK-1", quantity=1)],
            completed_at=datetime.now(UTC),
        )
        await _send(infra, namespace, _wrap(refund, "r-1"))
        await _handled(billing, 3)

        listed = await billing.client.get("/credit-notes", params={"order_id": a.aggregate_id})
        [note] = listed.json()
        assert note["kind"] == "correction" and note["number"].startswith("KR-")
        assert note["gross_total"] == "-20.00"
        assert [(r["vat_rate"], r["net"], r["vat"]) for r in note["vat_breakdown"]] == [
            ("0.07", "-18.69", "-1.31")
        ]
        assert (await billing.client.get(f"/credit-notes/{note['number']}")).status_code == 200
        [invoice] = await _invoices(billing, order_id=a.aggregate_id)
        assert invoice["status"] == "corrected"
        assert [r["number"] for r in invoice["references"]] == [note["number"]]
        issued = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "CreditNoteIssued"), expected=2
        )
        assert len(issued) == 2  # InvoiceIssued and CreditNoteIssued share the topic


async def test_no_document_without_the_sellers_data_and_put_seller_issues_what_waited(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing", example_seller=False) as billing:
        await wait_for_assignment(billing)
        ready = await billing.client.get("/health/ready")
        assert ready.status_code == 503
        assert "no seller master data" in ready.json()["checks"]["seller"]
        a = order_placed_envelope()
        await _send(infra, namespace, a, order_confirmed_envelope(a))
        await _handled(billing, 2)
        assert await _invoices(billing) == []
        ready = await billing.client.get("/health/ready")
        assert "1 invoice(s) waiting" in ready.json()["checks"]["seller"]

        bad = await billing.client.put("/seller", json={**SELLER, "iban": "DE89370400440532013001"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "iban"]
        no_tax = {k: v for k, v in SELLER.items() if k not in ("vat_id", "tax_number")}
        assert (await billing.client.put("/seller", json=no_tax)).status_code == 422

        put = await billing.client.put("/seller", json=SELLER)
        assert put.status_code == 200, put.text
        assert (put.json()["issued_now"], put.json()["seller"]["sample"]) == (1, False)
        assert (await billing.client.get("/health/ready")).status_code == 200
        [invoice] = await _invoices(billing, customer_email="ANNA@Example.de")
        assert invoice["seller"]["iban"] == "DE89370400440532013000"
        assert invoice["sample"] is False
        got = (await billing.client.get("/seller")).json()
        assert (got["ready"], got["seller"]["name"]) == (True, "Musterhandel GmbH")


async def test_the_audit_chain_names_a_document_edited_behind_billings_back(
    start_service: Any, infra: Any, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        orders = [order_placed_envelope(number=n) for n in (1, 2, 3)]
        await _send(
            infra, namespace, *[m for o in orders for m in (o, order_confirmed_envelope(o))]
        )
        await _handled(billing, 6)
        verified = (await billing.client.get("/audit/verify")).json()
        assert verified["ok"] is True
        [chain] = verified["chains"]
        assert chain["entries"] == 3
        assert await verify_command(billing.settings) == 0  # the command says the same

        second = (await _invoices(billing))[1]  # newest first: the second of three
        paged = (await billing.client.get("/invoices", params={"page_size": 2, "page": 2})).json()
        assert (paged["total"], [i["number"] for i in paged["items"]]) == (
            3,
            [f"{second['number'][:-6]}000001"],
        )
        await billing.kit.store.db["invoices"].update_one(
            {"number": second["number"]}, {"$set": {"gross_total": Decimal("1.00")}}
        )
        broken = (await billing.client.get("/audit/verify")).json()
        assert broken["ok"] is False
        assert broken["first_broken"]["number"] == second["number"]
        assert broken["first_broken"]["reason"] == "document differs from the one issued"
        capsys.readouterr()
        assert await verify_command(billing.settings) == 1
        assert f"BROKEN at entry 2 ({second['number']})" in capsys.readouterr().out


async def test_the_database_refuses_documents_and_entries_without_their_fields(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        a = order_placed_envelope()
        await _send(infra, namespace, a, order_confirmed_envelope(a))
        await _handled(billing, 2)
        [invoice] = await _invoices(billing)
        db = billing.kit.store.db
        refused = [
            lambda: db["invoices"].insert_one({"_id": "forged", "number": "RE-2026-999999"}),
            lambda: db["invoices"].update_one(
                {"number": invoice["number"]}, {"$unset": {"seller": ""}}
            ),
            lambda: db["invoices"].update_one(
                {"number": invoice["number"]}, {"$set": {"gross_total": "1.00"}}
            ),
            lambda: db["audit"].update_one({}, {"$set": {"entry_sha256": "forged"}}),
        ]
        for write in refused:
            with pytest.raises(WriteError) as caught:
                await write()
            assert caught.value.code == 121  # DocumentValidationFailure
        assert (await billing.client.get("/audit/verify")).json()["ok"] is True
