"""Bank statements on the real broker and database (issue 12): a CAMT.053 file pays three
invoices (one by number in the text, one partially by order number, one by amount and
name) and leaves one credit waiting with a suggestion; the same file again adds nothing
and pays nothing twice; orders' ``amount_paid`` follows PaymentReceived; the waiting
credit matched by a person; an MT940 file; the balance of the last statement."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import consume_all, eventually, topic_of, wait_for_assignment

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"


def _digits(number: str) -> str:
    """``RE-2026-000001`` -> ``2026 000001`` (the way a payer might type it)."""
    _, year, seq = number.split("-")
    return f"{year} {seq}"


def camt_paying(first: dict[str, Any], second: dict[str, Any]) -> bytes:
    """The Commerzbank test file with this test's numbers and amounts."""
    raw = (DATA / "camt053_v02_commerzbank.xml").read_bytes()
    replaced = (
        raw.replace(b"re 2026 000101", f"re {_digits(first['number'])}".encode())
        .replace(b"2026-000102", _digits(second["order_number"]).replace(" ", "-").encode())
        .replace(b"B-2026-000102", second["order_number"].encode())
        .replace(b">57.98<", b">47.58<")
        .replace(b">29.90<", b">47.58<")
        .replace(b">1377.13<", b">1384.41<")
        # the fourth credit: Bernd again, no number, not the 27.58 he still owes
        .replace(b"Dieter Unbekannt", b"Bernd Beispiel")
    )
    assert replaced.count(b">47.58<") == 4
    return replaced


async def test_statements_pay_invoices_once_and_orders_follow(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def place(name: str, email: str) -> dict[str, Any]:
            address = {**ORDER["shipping_address"], "name": name}  # type: ignore[dict-item]
            body = {
                **ORDER,
                "customer": {"email": email, "name": name},
                "shipping_address": address,
            }

            async def accepted() -> Any:
                response = await orders.client.post("/orders", json=body)
                return response.json() if response.status_code == 201 else None

            order: dict[str, Any] = await eventually(accepted, timeout=30, interval=0.2)
            return order

        placed = [
            await place("Anna Muster", "anna@example.de"),
            await place("Bernd Beispiel", "bernd@example.de"),
            await place("Clara Kundin", "clara@example.de"),
        ]

        async def invoice_of(order: dict[str, Any]) -> dict[str, Any] | None:
            response = await billing.client.get("/invoices", params={"order_id": order["id"]})
            items = response.json()["items"]
            return {**items[0], "order_number": order["number"]} if items else None

        anna, bernd, clara = [await eventually(partial(invoice_of, o)) for o in placed]
        assert anna["gross_total"] == bernd["gross_total"] == clara["gross_total"] == "47.58"

        statement = camt_paying(anna, bernd)
        files = {"file": ("kontoauszug.xml", statement, "application/xml")}
        first = await billing.client.post("/bank-statements", files=files)
        assert first.status_code == 201, first.text
        body = first.json()
        assert (body["format"], body["new"], body["known"], body["duplicate"]) == (
            "camt.053.001.02",
            5,
            0,
            False,
        )
        assert (body["matched"], body["unmatched"]) == (3, 2)  # the debit waits: no payout
        assert body["statements"][0]["closing_balance"] == {
            "amount": "1384.41",
            "currency": "EUR",
            "date": "2026-12-01",
        }

        async def paid(order: dict[str, Any], amount: str) -> bool:
            found = (await orders.client.get(f"/orders/{order['id']}")).json()
            return bool(found["amount_paid"] == amount)

        await eventually(lambda: paid(placed[0], "47.58"))
        await eventually(lambda: paid(placed[1], "20.00"))
        await eventually(lambda: paid(placed[2], "47.58"))

        again = await billing.client.post("/bank-statements", files=files)
        assert again.status_code == 200, again.text
        assert (again.json()["new"], again.json()["known"], again.json()["duplicate"]) == (
            0,
            5,
            True,
        )
        assert (again.json()["matched"], again.json()["unmatched"]) == (0, 0)
        # three PaymentReceived on the topic, not six
        records = await consume_all(
            infra.kafka_bootstrap,
            topic_of(namespace, "PaymentReceived"),
            expected=4,
            timeout_ms=3000,
        )
        assert len(records) == 3

        waiting = await billing.client.get(
            "/bank-transactions", params={"status": "unmatched", "direction": "credit"}
        )
        assert waiting.status_code == 200
        [rest] = waiting.json()["items"]
        assert (rest["amount"], rest["counterparty"]["name"]) == ("49.25", "Bernd Beispiel")
        assert rest["reason"] == "no number in the text and no open item of this amount"
        # found by the payer's name in the database, ranked with why
        assert [
            (s["invoice_number"], s["open_amount"], s["score"], s["reasons"])
            for s in rest["suggestions"]
        ] == [(bernd["number"], "27.58", 0.2, ["payer's name is the buyer's"])]

        matched = await billing.client.post(
            f"/bank-transactions/{rest['id']}/match",
            json={"invoice_numbers": [bernd["number"]], "amounts": {bernd["number"]: "49.25"}},
        )
        assert matched.status_code == 200, matched.text
        assert matched.json()["status"] == "matched"
        await eventually(lambda: paid(placed[1], "69.25"))
        twice = await billing.client.post(
            f"/bank-transactions/{rest['id']}/ignore", json={"note": "doch nicht"}
        )
        assert twice.status_code == 409

        mt940 = (DATA / "mt940_sparkasse.sta").read_bytes()
        imported = await billing.client.post(
            "/bank-statements", files={"file": ("umsaetze.sta", mt940, "text/plain")}
        )
        assert imported.status_code == 201, imported.text
        assert (imported.json()["format"], imported.json()["new"]) == ("mt940", 3)
        accounts = (await billing.client.get("/bank-accounts")).json()
        assert accounts == [
            {
                "iban": "DE89370400440532013000",
                "currency": "EUR",
                "balance": {"amount": "1449.28", "currency": "EUR", "date": "2026-12-02"},
                "statement_id": imported.json()["id"],
                "updated_at": accounts[0]["updated_at"],
            }
        ]
        kept = await billing.client.get(f"/bank-statements/{body['id']}/file")
        assert kept.content == statement
