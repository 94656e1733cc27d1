"""Billing's HTTP behaviour: auth, parameter validation, 404, body limit, operations.

Runs the real app via ``start_service``. Invoices are written the way the consumer
writes them (``MongoInvoiceRepository`` in a transaction): billing has no route that
creates one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from kontor_billing.domain.invoice import Invoice, InvoiceLine, Party
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.store.invoices import INVOICES, MongoInvoiceRepository
from kontor_servicekit.consumer import DEAD_LETTERS
from kontor_servicekit.store import OUTBOX, Transaction

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def _bearer(auth_keys: Any, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_keys.token(*scopes)}"}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def _store_invoice(billing: Any, order_id: str) -> Invoice:
    invoice = Invoice.issue(
        invoice_id=str(uuid.uuid4()),
        number="RE-2026-000007",
        order_id=order_id,
        order_number="B-2026-000007",
        buyer=Party(
            name="Anna Muster",
            email="anna@example.de",
            street="Hauptstr. 1",
            postcode="10115",
            city="Berlin",
            country="DE",
        ),
        currency="EUR",
        lines=[
            InvoiceLine(
                1,
                "TEE-RED-M",
                "T-Shirt rot, M",
                2,
                Decimal("19.99"),
                Decimal("0.19"),
                Decimal("39.98"),
                Decimal("7.60"),
            ),
            InvoiceLine(
                2,
                "BOOK-1",
                "Kochbuch",
                1,
                Decimal("18.69"),
                Decimal("0.07"),
                Decimal("18.69"),
                Decimal("1.31"),
            ),
        ],
        issued_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        seller=EXAMPLE_SELLER,  # the database refuses a document without its seller
    )

    async def work(tx: Transaction) -> None:
        await MongoInvoiceRepository(tx).add(invoice)

    await billing.kit.store.transaction(work)
    return invoice


async def test_without_token_401_and_without_scope_403(start_service: Any, auth_keys: Any) -> None:
    async with start_service("billing", token=None) as billing:
        _problem(await billing.client.get("/invoices", params={"order_id": "o-1"}), 401)
        _problem(await billing.client.get("/invoices/RE-2026-000001"), 401)
        _problem(await billing.client.get("/admin/dead-letters"), 401)
        wrong_service = await billing.client.get(
            "/invoices", params={"order_id": "o-1"}, headers=_bearer(auth_keys, "orders:admin")
        )
        assert _problem(wrong_service, 403)["required_scope"] == "billing:read"
        reader = await billing.client.get(
            "/admin/dead-letters", headers=_bearer(auth_keys, "billing:read")
        )
        assert _problem(reader, 403)["required_scope"] == "billing:admin"
        ok = await billing.client.get(
            "/invoices", params={"order_id": "o-1"}, headers=_bearer(auth_keys, "billing:read")
        )
        assert (ok.status_code, ok.json()["items"]) == (200, [])


async def test_invoices_of_an_order_and_one_by_number(start_service: Any) -> None:
    async with start_service("billing") as billing:
        invoice = await _store_invoice(billing, "o-42")
        page = (await billing.client.get("/invoices", params={"order_id": "o-42"})).json()
        assert (page["total"], page["page"]) == (1, 1)
        [listed] = page["items"]
        assert listed["status"] == "issued"
        assert listed["number"] == "RE-2026-000007"
        assert (listed["issue_date"], listed["due_date"]) == ("2027-01-01", "2027-01-15")
        assert (listed["net_total"], listed["vat_total"], listed["gross_total"]) == (
            "58.67",
            "8.91",
            "67.58",
        )
        assert [(r["vat_rate"], r["gross"]) for r in listed["vat_breakdown"]] == [
            ("0.19", "47.58"),
            ("0.07", "20.00"),
        ]
        one = await billing.client.get(f"/invoices/{invoice.number}")
        assert one.status_code == 200
        assert one.json()["id"] == invoice.id
        other = await billing.client.get("/invoices", params={"order_id": "o-43"})
        assert other.json()["items"] == []


async def test_missing_or_bad_parameters_are_422_problems(start_service: Any) -> None:
    async with start_service("billing") as billing:
        # order_id is one filter among several now (GET /invoices lists all, paged)
        bad = _problem(await billing.client.get("/invoices", params={"status": "paid"}), 422)
        [error] = bad["errors"]
        assert (error["loc"], error["parameter"]) == (["query", "status", 0], "status")
        backwards = await billing.client.get(
            "/invoices", params={"from": "2026-06-02", "to": "2026-06-01"}
        )
        assert _problem(backwards, 422)["errors"][0]["loc"] == ["query", "to"]
        empty = _problem(await billing.client.get("/invoices", params={"order_id": ""}), 422)
        assert empty["errors"][0]["loc"] == ["query", "order_id"]
        long_number = _problem(await billing.client.get("/invoices/" + "9" * 33), 422)
        assert long_number["errors"][0]["parameter"] == "number"


async def test_unknown_invoice_and_dead_letter_are_404_problems(start_service: Any) -> None:
    async with start_service("billing") as billing:
        body = _problem(await billing.client.get("/invoices/RE-2026-999999"), 404)
        assert body["instance"] == "/invoices/RE-2026-999999"
        assert "RE-2026-999999" in body["detail"]
        replay = await billing.client.post("/admin/dead-letters/nope:0:0/replay")
        _problem(replay, 404)


async def test_body_over_the_limit_is_a_413_and_changes_nothing(start_service: Any) -> None:
    async with start_service("billing") as billing:
        # 11 MiB since bank statements (issue 12): a statement file of 10 MiB and its envelope
        assert billing.settings.max_body_bytes == 11 * 1024 * 1024
        await billing.kit.store.db[DEAD_LETTERS].insert_one(
            {"_id": "t:0:5", "status": "parked", "topic": "t", "headers": []}
        )
        response = await billing.client.post(
            "/admin/dead-letters/t:0:5/replay", content=b"x" * (billing.settings.max_body_bytes + 1)
        )
        _problem(response, 413)
        doc = await billing.kit.store.db[DEAD_LETTERS].find_one({"_id": "t:0:5"})
        assert doc is not None and doc["status"] == "parked"  # not replayed
        assert await billing.kit.store.db[INVOICES].count_documents({}) == 0
        assert await billing.kit.store.db[OUTBOX].count_documents({}) == 0


async def test_health_metrics_and_openapi(start_service: Any) -> None:
    async with start_service("billing", token=None) as billing:
        assert (await billing.client.get("/health/live")).json() == {"status": "ok"}
        ready = await billing.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok", "seller": "ok"}

        await billing.client.get("/invoices/RE-1")
        metrics = (await billing.client.get("/metrics")).text
        assert "kontor_http_request_duration_seconds" in metrics
        assert "kontor_dead_letters_total" in metrics

        spec = (await billing.client.get("/openapi.json")).json()
        assert {"/invoices", "/invoices/{number}", "/admin/dead-letters"} <= set(spec["paths"])
        listing = spec["paths"]["/invoices"]["get"]
        [order_id] = [p for p in listing["parameters"] if p["name"] == "order_id"]
        assert (order_id["in"], order_id.get("required", False)) == ("query", False)
        assert PROBLEM in listing["responses"]["422"]["content"]
        assert PROBLEM in spec["paths"]["/invoices/{number}"]["get"]["responses"]["404"]["content"]
        asyncapi = await billing.client.get("/asyncapi.json")
        assert asyncapi.status_code == 200
