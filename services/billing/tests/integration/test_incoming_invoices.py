"""Incoming invoices through the route on the real database and broker (issue 12, proof:
"an incoming XRechnung and a ZUGFeRD PDF parsed with every field checked against the
document; a duplicate supplier invoice flagged"), then approval and what the payouts read.

One test on purpose: the rules behind each step have unit tests
(``tests/unit/test_incoming_*.py``); this proves the route, GridFS, the collection's
layout, the migration's validator and the events on ``billing.payable.v1``.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kontor_billing.store.incoming import INCOMING
from kontor_contracts import Envelope
from kontor_servicekit.testing import consume_all, topic_of

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data" / "incoming"


def _upload(name: str, data: bytes | None = None) -> dict[str, Any]:
    content = (DATA / name).read_bytes() if data is None else data
    media = "application/pdf" if name.endswith(".pdf") else "application/xml"
    return {"files": {"file": (name, content, media)}}


XRECHNUNG_ANSWER = {
    "status": "received",
    "duplicate": False,
    "duplicate_suspected": False,
    "duplicates": [],
    "format": "cii",
    "filename": "xrechnung-cii.xml",
    "media_type": "application/xml",
    "supplier": {
        "name": "Papier & Co. Großhandel GmbH",
        "vat_id": "DE136695976",
        "tax_number": "22/815/08154",
        "address": {
            "street": "Lagerstraße 12",
            "postcode": "20095",
            "city": "Hamburg",
            "country": "DE",
        },
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
        "email": "rechnung@papier-co.example",
    },
    "type_code": "380",
    "number": "PC-2026-4711",
    "issue_date": "2026-11-20",
    "due_date": "2026-12-20",
    "delivery_date": "2026-11-18",
    "currency": "EUR",
    "buyer_name": "Musterhandel GmbH",
    "buyer_reference": "04011000-12345-34",
    "order_reference": "B-2026-0815",
    "net_total": "219.90",
    "vat_total": "36.99",
    "gross_total": "256.89",
    "prepaid": "50.00",
    "amount_due": "206.89",
    "vat_breakdown": [
        {"category": "S", "rate_percent": "19.00", "basis": "180.00", "vat": "34.20"},
        {"category": "S", "rate_percent": "7.00", "basis": "39.90", "vat": "2.79"},
    ],
    "payment_terms": "#SKONTO#TAGE=14#PROZENT=2.00#\nZahlbar innerhalb von 30 Tagen netto.",
    "skonto": {
        "percent": "2.00",
        "days": 14,
        "until": "2026-12-04",
        "basis": None,
        "amount_after_discount": "202.75",
    },
    "lines": [
        {
            "line_id": "1",
            "name": "Versandkartons 40x30x20, 100 Stück",
            "quantity": "3",
            "unit_code": "H87",
            "unit_price": "45.00",
            "net": "135.00",
            "vat_category": "S",
            "vat_rate_percent": "19.00",
            "seller_item_id": "PC-001",
        },
        {
            "line_id": "2",
            "name": "Packpapier Rolle 50 m",
            "quantity": "10",
            "unit_code": "H87",
            "unit_price": "4.50",
            "net": "45.00",
            "vat_category": "S",
            "vat_rate_percent": "19.00",
            "seller_item_id": "PC-002",
        },
        {
            "line_id": "3",
            "name": "Fachbuch Verpackungslogistik",
            "quantity": "1",
            "unit_code": "H87",
            "unit_price": "39.90",
            "net": "39.90",
            "vat_category": "S",
            "vat_rate_percent": "7.00",
            "seller_item_id": "PC-003",
        },
    ],
    "specification": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    "validation": {
        "outcome": "accepted",
        "rule_sets": ["XSD", "EN16931", "XRechnung"],
        "rule_ids": [],
        "errors": [],
        "warnings": [],
        "not_checked": [],
    },
    "approved_account": None,
    "approved_by": None,
    "approved_at": None,
    "rejected_reason": None,
    "rejected_by": None,
    "rejected_at": None,
}

ZUGFERD_ANSWER = {
    "status": "received",
    "duplicate": False,
    "duplicate_suspected": False,
    "format": "facturx-pdf",
    "media_type": "application/pdf",
    "supplier": {
        "name": "Druckerei Blau KG",
        "vat_id": "DE811907980",
        "tax_number": "22/815/08154",
        "address": {"street": "Am Hafen 3", "postcode": "28195", "city": "Bremen", "country": "DE"},
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "email": "buchhaltung@druckerei-blau.example",
    },
    "type_code": "380",
    "number": "RG-88231",
    "issue_date": "2026-11-25",
    "due_date": "2026-12-09",
    "delivery_date": "2026-11-25",
    "currency": "EUR",
    "buyer_name": "Musterhandel GmbH",
    "buyer_reference": None,
    "order_reference": None,
    "net_total": "250.00",
    "vat_total": "47.50",
    "gross_total": "297.50",
    "prepaid": None,
    "amount_due": "297.50",
    "vat_breakdown": [
        {"category": "S", "rate_percent": "19.00", "basis": "250.00", "vat": "47.50"}
    ],
    "payment_terms": "Zahlbar bis 09.12.2026 ohne Abzug.",
    "skonto": None,
    "lines": [
        {
            "line_id": "1",
            "name": "Flyer A5, 5000 Stück",
            "quantity": "1",
            "unit_code": "H87",
            "unit_price": "250.00",
            "net": "250.00",
            "vat_category": "S",
            "vat_rate_percent": "19.00",
            "seller_item_id": "PC-001",
        }
    ],
    "specification": "urn:cen.eu:en16931:2017",
    "validation": {
        "outcome": "accepted",
        "rule_sets": ["XSD", "EN16931"],
        "rule_ids": [],
        "errors": [],
        "warnings": [],
        "not_checked": [],
    },
}


async def test_xrechnung_and_zugferd_received_duplicates_flagged_approved_and_announced(
    start_service: Any, auth_keys: Any, infra: Any, namespace: str
) -> None:
    writer = {"Authorization": f"Bearer {auth_keys.token('billing:write')}"}
    async with start_service("billing") as billing:
        client = billing.client
        xml = (DATA / "xrechnung-cii.xml").read_bytes()
        created = await client.post(
            "/incoming-invoices", headers=writer, **_upload("xrechnung-cii.xml")
        )
        assert created.status_code == 201, created.text
        xr = created.json()
        assert {k: xr[k] for k in XRECHNUNG_ANSWER} == XRECHNUNG_ANSWER
        assert (xr["sha256"], xr["size"]) == (hashlib.sha256(xml).hexdigest(), len(xml))

        pdf = await client.post("/incoming-invoices", **_upload("zugferd.pdf"))
        assert pdf.status_code == 201, pdf.text
        zf = pdf.json()
        assert {k: zf[k] for k in ZUGFERD_ANSWER} == ZUGFERD_ANSWER

        # the same bytes again: the first record, no second one
        again = await client.post("/incoming-invoices", **_upload("xrechnung-cii.xml"))
        assert again.status_code == 200, again.text
        assert (again.json()["id"], again.json()["duplicate"]) == (xr["id"], True)
        # the same supplier and number in other bytes: kept, flagged
        resent = xml.replace(b"Vielen Dank", b"Nochmals vielen Dank")
        suspect = await client.post("/incoming-invoices", **_upload("resent.xml", resent))
        assert suspect.status_code == 201, suspect.text
        assert suspect.json()["duplicate_suspected"] is True
        assert suspect.json()["duplicates"] == [
            {"of": xr["id"], "reason": "same_supplier_and_number"}
        ]

        # the file as received, unchanged
        file = await client.get(xr["file_url"])
        assert (file.status_code, file.content) == (200, xml)
        assert file.headers["x-content-sha256"] == xr["sha256"]
        assert file.headers["content-type"].startswith("application/xml")

        # approval needs billing:admin; the default account of the settings
        path = f"/incoming-invoices/{xr['id']}/approve"
        assert (await client.post(path, headers=writer)).status_code == 403
        approved = await client.post(path, json={})
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["approved_account"]) == (
            "approved",
            "3400",
        )
        assert (await client.post(path, json={})).status_code == 409
        listed = (await client.get("/incoming-invoices", params={"status": "approved"})).json()
        assert [i["id"] for i in listed["items"]] == [xr["id"]] and listed["total"] == 1
        due = (await client.get("/incoming-invoices/due")).json()
        assert {d["id"] for d in due["items"]} == {xr["id"], zf["id"], suspect.json()["id"]}
        assert due["total"] == 3

        # a plain PDF with its fields as typed in; an e-invoice's fields are its own
        typed = {
            "supplier": {"name": "Druckerei Blau KG", "iban": "DE89 3704 0044 0532 0130 00"},
            "number": "Q-77",
            "issue_date": "2026-11-25",
            "gross_total": "297.50",
            "skonto": {"percent": "2.00", "days": 7},
        }
        plain = await client.post(
            "/incoming-invoices",
            data={"fields": json.dumps(typed)},
            **_upload("plain.pdf"),
        )
        assert plain.status_code == 201, plain.text
        p = plain.json()
        assert (p["status"], p["format"], p["validation"]["outcome"]) == (
            "received",
            "pdf",
            "not_checked",
        )
        assert (p["supplier"]["iban"], p["amount_due"], p["skonto"]["until"]) == (
            "DE89370400440532013000",
            "297.50",
            "2026-12-02",
        )
        refused = await client.put(f"/incoming-invoices/{zf['id']}/fields", json=typed)
        assert refused.status_code == 409, refused.text
        bad = await client.post(
            "/incoming-invoices", data={"fields": "{not json"}, **_upload("plain.pdf")
        )
        assert bad.status_code == 422, bad.text

        # what the payouts read (branch s3-payouts), where they read it
        doc = await billing.kit.store.db[INCOMING].find_one({"_id": xr["id"]})
        assert doc is not None
        assert (doc["status"], doc["supplier"]["iban"], doc["supplier"]["name"]) == (
            "approved",
            "DE02120300000000202051",
            "Papier & Co. Großhandel GmbH",
        )
        assert (doc["amount_due"], doc["currency"], doc["number"], doc["due_date"]) == (
            Decimal("206.89"),
            "EUR",
            "PC-2026-4711",
            "2026-12-20",
        )
        assert (doc["skonto"]["percent"], doc["skonto"]["until"]) == (Decimal("2.00"), "2026-12-04")
        assert doc["approved_account"] == "3400"

        records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "IncomingInvoiceReceived"), expected=5
        )
        envelopes = [Envelope.from_bytes(r.value) for r in records]
        assert (
            sorted(e.type for e in envelopes)
            == ["IncomingInvoiceApproved"] + ["IncomingInvoiceReceived"] * 4
        )
        keys = {r.key.decode() for r in records}
        assert keys == {xr["id"], zf["id"], suspect.json()["id"], p["id"]}
        [approval] = [e.payload_model() for e in envelopes if e.type == "IncomingInvoiceApproved"]
        assert (approval.invoice_id, approval.amount_due, approval.expense_account) == (
            xr["id"],
            Decimal("206.89"),
            "3400",
        )
