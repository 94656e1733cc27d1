"""Documents refused before their number, and Storno + new invoice, on the real broker
and database (issue 11, ADR 0025).

- an XRechnung buyer's invoice with a seller without phone breaks BR-DE-6: no number is
  taken, the order waits in ``GET /documents/failed`` with the rule id, the next order
  gets the next number; ``PUT /seller`` with the phone issues it, in English for a buyer
  whose order says ``en-GB``;
- ``GET /invoices/{number}`` shows ``document_status`` pending, then rendered;
- the merchant cancels an invoice and reissues it with the buyer's address corrected:
  one valid invoice per order, every range gap-free, the cancellation a valid 381.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest
from kontor_billing.store.invoices import MongoInvoiceRepository, from_document
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderPlaced
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction
from kontor_servicekit.testing import consume_all, topic_of, wait_for_assignment
from pypdf import PdfReader

from services.billing.tests.integration.test_invoice_life import (
    SELLER,
    _handled,
    _invoices,
    _send,
)

pytestmark = pytest.mark.integration

LEITWEG = "04011000-12345-03"


def _authority_order(number: int) -> Envelope:
    placed = order_placed_envelope(number=number)
    event = placed.payload_model()
    assert isinstance(event, OrderPlaced)
    event = event.model_copy(update={"buyer_reference": LEITWEG, "locale": "en-GB"})
    return Envelope.wrap(event, producer="orders", aggregate_id=placed.aggregate_id)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


async def test_refused_before_its_number_then_issued_and_storno_with_a_new_invoice(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing", example_seller=False) as billing:
        client = billing.client
        await wait_for_assignment(billing)
        assert (await client.put("/seller", json=SELLER)).status_code == 200  # no phone
        authority, consumer = _authority_order(1), order_placed_envelope(number=2)
        await _send(infra, namespace, authority, order_confirmed_envelope(authority))
        await _handled(billing, 2)
        await _send(infra, namespace, consumer, order_confirmed_envelope(consumer))
        await _handled(billing, 4)

        # refused with the rule id, no number taken: the next order has the first one
        assert await _invoices(billing, order_id=authority.aggregate_id) == []
        [first] = await _invoices(billing, order_id=consumer.aggregate_id)
        year = first["number"].split("-")[1]
        assert first["number"] == f"RE-{year}-000001"
        failed = (await client.get("/documents/failed", params={"rules_only": "true"})).json()
        assert failed["total"] == 1
        [waiting] = failed["items"]
        assert (waiting["order_id"], waiting["number"]) == (authority.aggregate_id, None)
        assert "BR-DE-6" in waiting["rule_ids"] and "BR-DE-6" in waiting["reason"]

        # the document of an issued invoice: pending until first asked for, then rendered
        one = f"/invoices/{first['number']}"
        assert (await client.get(one)).json()["document_status"] == "pending"
        assert (await client.get(f"{one}/pdf")).status_code == 200
        assert (await client.get(one)).json()["document_status"] == "rendered"

        put = await client.put("/seller", json={**SELLER, "phone": "+49 30 1234567"})
        assert put.json()["issued_now"] == 1
        assert (await client.get("/documents/failed")).json()["total"] == 0
        [xrechnung] = await _invoices(billing, order_id=authority.aggregate_id)
        assert xrechnung["number"] == f"RE-{year}-000002"
        xml = (await client.get(f"/invoices/{xrechnung['number']}/xml")).content
        assert f"<ram:BuyerReference>{LEITWEG}</ram:BuyerReference>".encode() in xml
        english = _text((await client.get(f"/invoices/{xrechnung['number']}/pdf")).content)
        assert f"Invoice RE-{year}-000002" in english and "Date of supply" in english

        # Storno + new invoice for the consumer's order, street corrected
        assert (await client.post(f"{one}/reissue")).status_code == 409  # not cancelled
        cancel = await client.post(f"{one}/cancel", json={"reason": "Adresse falsch"})
        assert cancel.json()["number"] == f"ST-{year}-000001"
        reissued = await client.post(f"{one}/reissue", json={"buyer": {"street": "Neue Str. 9"}})
        assert reissued.status_code == 201, reissued.text
        new = reissued.json()
        assert new["number"] == f"RE-{year}-000003"
        assert new["buyer"]["street"] == "Neue Str. 9"
        assert new["gross_total"] == first["gross_total"]
        again = await client.post(f"{one}/reissue")
        assert again.status_code == 409 and new["number"] in again.json()["detail"]
        listed = await _invoices(billing, order_id=consumer.aggregate_id)
        assert [(i["number"], i["status"]) for i in listed] == [
            (new["number"], "issued"),
            (first["number"], "cancelled"),
        ]
        storno = (await client.get(f"/invoices/ST-{year}-000001/xml")).content
        assert b"<ram:TypeCode>381</ram:TypeCode>" in storno
        assert f"<ram:IssuerAssignedID>{first['number']}</ram:IssuerAssignedID>".encode() in storno
        new_xml = (await client.get(f"/invoices/{new['number']}/xml")).content
        assert b"Neue Str. 9" in new_xml

        # the database itself keeps one invoice per order and generation (migration 0025
        # replaced the old one-per-order index): a racing second reissue cannot be stored
        indexes = await billing.kit.store.db["invoices"].index_information()
        assert "one_valid_invoice_per_order" in indexes and "one_invoice_per_order" not in indexes
        stored = await billing.kit.store.db["invoices"].find_one({"number": new["number"]})
        twin = replace(from_document(stored), id="twin", number=f"RE-{year}-000099")

        async def add_twin(tx: Transaction) -> None:
            await MongoInvoiceRepository(tx).add(twin)

        with pytest.raises(Conflict):
            await billing.kit.store.transaction(add_twin)

        announced = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceIssued"), expected=4
        )
        assert len(announced) == 4  # three InvoiceIssued and one InvoiceCancelled
