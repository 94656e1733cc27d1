"""The committed AsyncAPI documents are generated from code and kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kontor_servicekit.asyncapi import document_path, sync_documents

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def test_committed_asyncapi_documents_are_current() -> None:
    assert sync_documents(ROOT, check=True) == [], "run `make asyncapi` and commit the result"


def test_billing_document_describes_what_billing_consumes_and_publishes() -> None:
    doc = json.loads(document_path("billing", ROOT).read_text())
    assert doc["asyncapi"] == "3.0.0"
    # orders for invoices, cancellations and (returns) corrections; privacy requests; its
    # own credit documents for the payouts (issue 12); the catalog for quotes
    assert doc["x-kontor-consumes"] == [
        "billing.invoice.v1",
        "catalog.product.v1",
        "orders.order.v1",
        "orders.privacy_request.v1",
        "orders.return.v1",
    ]
    assert "billing.invoice.v1" in doc["x-kontor-publishes"]
    assert "billing.quote.v1" in doc["x-kontor-publishes"]
    receive = doc["operations"]["receive_billing_invoicing_orders_order_v1"]
    assert receive["action"] == "receive"
    assert receive["bindings"]["kafka"]["groupId"]["enum"] == ["billing.invoicing"]
    assert "InvoiceIssued.v1" in doc["components"]["messages"]
    assert doc["channels"]["billing_invoicing_dlt"]["address"] == "billing.invoicing.dlt"


def test_a_stale_document_is_detected(tmp_path: Path) -> None:
    for service in ("catalog", "orders", "billing", "support", "marketing", "analytics"):
        target = document_path(service, tmp_path)
        target.parent.mkdir(parents=True)
        target.write_text(document_path(service, ROOT).read_text())
    document_path("orders", tmp_path).write_text("{}\n")
    assert sync_documents(tmp_path, check=True) == ["orders"]
