"""An erased buyer in the answers of billing's write routes, and her unmatched bank
credits (issue 13, ADR 0113, 0114).

Anna buys twice (orders' events on the real broker), pays the first invoice by hand and
part of the second from her account (a statement credit a person matched); the same
statement carries two credits nobody matched: one from her account under another
spelling, one from another account in her name. She asked for a quote and sent an
XRechnung as a sole trader. After her erasure, every write route a ``billing:admin``
(without ``billing:tax``) calls on her records answers with placeholders and
``restricted: true``: cancel, reissue (and the reissued invoice on the read route too),
a payment (also an Idempotency-Key replay of one booked before the erasure), a
dispute, matching and ignoring a bank credit, the refund's account, the payment run,
her supplier invoice received again and approved, her quote declined. The two unmatched
credits (and a third, in her name, on another bank's file, which is then 403 naming
``billing:tax``) are hers to ``billing:tax`` only, in ``/bank-transactions?status=unmatched``
and in their suggestions; Bernd, on the same statement, is shown as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.testing import (
    Keys,
    eventually,
    wait_for_assignment,
)

from services.billing.tests.integration.test_erased_buyer import (
    ANNA_IBAN,
    DATA,
    anna_buys_twice,
    anna_erased,
    invoice_of_a_sole_trader,
    receivable_of,
    shown_of_anna,
)

pytestmark = pytest.mark.integration

#: her account and name, written as another bank would
OTHER_SPELLING = "MUSTER, ANNA"


def statement_of_her_credits() -> bytes:
    """The Commerzbank test file: Anna pays 5.00 without a number (nothing matches it),
    she pays 49.25 from her account as "A. Muster", and 29.90 from another account as
    "MUSTER, ANNA"; Bernd's down payment waits as before."""
    raw = (DATA / "bank" / "camt053_v02_commerzbank.xml").read_bytes()
    return (
        raw.replace(b">57.98<", b">5.00<")
        .replace(b"Rechnung re 2026 000101 vielen Dank", b"Teilzahlung")
        .replace(b"CLARA KUNDIN", OTHER_SPELLING.encode())
        .replace(b"Danke fuer die schnelle Lieferung", b"Spende")
        .replace(b"Dieter Unbekannt", b"A. Muster")
        .replace(b"DE12500105170648489890", ANNA_IBAN.encode())
        .replace(b"Mitgliedsbeitrag 2027", b"Rest")
    )


async def test_write_routes_and_unmatched_credits_show_an_erased_buyer_to_billing_tax_only(
    start_service: Any, infra: Any, namespace: str, auth_keys: Keys
) -> None:
    admin = auth_keys.token("billing:read", "billing:write", "billing:admin")
    staff = {"Authorization": f"Bearer {admin}"}
    tax = {
        "Authorization": "Bearer "
        + auth_keys.token("billing:read", "billing:write", "billing:admin", "billing:tax")
    }
    async with (
        start_service("catalog") as catalog,
        start_service("orders", privacy_expected_services=["billing", "orders"]) as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        first_order, second_order = await anna_buys_twice(billing, catalog, infra, namespace)
        first = await eventually(lambda: receivable_of(billing, first_order, tax), timeout=30)
        second = await eventually(lambda: receivable_of(billing, second_order, tax), timeout=30)
        today = datetime.now(BERLIN).date().isoformat()

        # she pays the first invoice in full by hand: its cancellation will refund her
        full = {
            "amount": first["gross_total"],
            "method": "bank_transfer",
            "date": today,
            "invoice_number": first["invoice_number"],
        }
        paid = await billing.client.post("/payments", json=full, headers=tax)
        assert paid.status_code == 201, paid.text
        # a payment on the second, with an Idempotency-Key: its answer names her
        part = {**full, "amount": "1.00", "invoice_number": second["invoice_number"]}
        keyed = {**staff, "Idempotency-Key": "pay-second-1"}
        booked = await billing.client.post("/payments", json=part, headers=keyed)
        assert booked.status_code == 201, booked.text
        assert shown_of_anna(booked.text) != []

        # the statement: a person matches her 5.00 to the second invoice (so her IBAN is
        # one that paid her invoices); the two other credits of hers wait
        files = {"file": ("auszug.xml", statement_of_her_credits(), "text/xml")}
        imported = await billing.client.post("/bank-statements", files=files)
        assert imported.status_code == 201, imported.text
        listed = await billing.client.get("/bank-transactions", params={"status": "unmatched"})
        waiting = {t["counterparty"]["name"]: t for t in listed.json()["items"]}
        assert {"Anna Muster", "A. Muster", OTHER_SPELLING, "Bernd Beispiel"} <= set(waiting)
        matched = await billing.client.post(
            f"/bank-transactions/{waiting['Anna Muster']['id']}/match",
            json={"invoice_numbers": [second["invoice_number"]]},
            headers=staff,
        )
        assert matched.status_code == 200, matched.text
        assert shown_of_anna(matched.text) != []  # before the erasure: shown
        # another bank's file: a credit in her name, nothing else of hers in it
        other_bank = (DATA / "bank" / "camt053_v08_sparkasse.xml").read_bytes()
        files = {"file": ("sparkasse.xml", other_bank.replace(b"Greta Gast", b"Anna Muster"), "")}
        second_file = await billing.client.post("/bank-statements", files=files)
        assert second_file.status_code == 201, second_file.text

        ask = {
            "customer": ORDER["customer"],
            "billing_address": ORDER["shipping_address"],
            "lines": [{"sku": PRODUCT["sku"], "quantity": 3}],
        }

        async def quoted() -> Any:
            response = await billing.client.post("/quotes", json=ask)
            return response.json() if response.status_code == 201 else None

        quote = (await eventually(quoted, timeout=30, interval=0.2))["number"]
        supplier_file = {"file": ("rechnung.xml", invoice_of_a_sole_trader(), "application/xml")}
        supplied = await billing.client.post("/incoming-invoices", files=supplier_file)
        assert supplied.status_code == 201, supplied.text
        incoming_id = supplied.json()["id"]

        done = await anna_erased(orders)
        kept = {i["what"]: i["count"] for i in done["services"]["billing"]["retained"]}
        assert kept["bank bookings from the person's account or name, allocated to nothing"] == 3

        # 2. her unmatched credits: the payer hidden, amount, date and bank reference kept
        queue = await billing.client.get(
            "/bank-transactions", params={"status": "unmatched"}, headers=staff
        )
        assert queue.status_code == 200
        items = queue.json()["items"]
        hers = [t for t in items if t["restricted"]]
        assert sorted(t["amount"] for t in hers) == ["29.90", "49.25", "50.00"]
        assert all(t["counterparty"] == {"name": None, "iban": None} for t in hers)
        # what the books need stays: amount, date, the bank's reference where it gave one
        assert all(t["booking_date"] and t["statement_id"] for t in hers)
        assert {t["bank_reference"] for t in hers if t["amount"] != "50.00"} == {
            "2026120105000113",
            "2026120105000114",
        }
        assert shown_of_anna(queue.text) == [] and OTHER_SPELLING not in queue.text
        assert "A. Muster" not in queue.text
        others = {t["counterparty"]["name"] for t in items if not t["restricted"]}
        assert "Bernd Beispiel" in others  # the other payers as before
        for booking in hers:
            one = await billing.client.get(f"/bank-transactions/{booking['id']}", headers=staff)
            assert one.json()["restricted"] is True and shown_of_anna(one.text) == []
        clear = await billing.client.get(
            "/bank-transactions", params={"status": "unmatched"}, headers=tax
        )
        assert {"A. Muster", OTHER_SPELLING} <= {
            t["counterparty"]["name"] for t in clear.json()["items"]
        }
        by_amount = {t["amount"]: t for t in hers}
        # the file that carries her credit prints her: billing:tax only
        route = f"/bank-statements/{second_file.json()['id']}/file"
        refused = await billing.client.get(route, headers=staff)
        assert refused.status_code == 403 and "billing:tax" in refused.text
        assert (await billing.client.get(route, headers=tax)).status_code == 200

        # 1. the write routes' answers, to billing:admin without billing:tax
        answers: dict[str, Any] = {}
        answers["ignore"] = await billing.client.post(
            f"/bank-transactions/{by_amount['29.90']['id']}/ignore",
            json={"note": "keine Kundenzahlung"},
            headers=staff,
        )
        answers["match"] = await billing.client.post(
            f"/bank-transactions/{by_amount['49.25']['id']}/match",
            json={"invoice_numbers": [second["invoice_number"]]},
            headers=staff,
        )
        answers["replay"] = await billing.client.post("/payments", json=part, headers=keyed)
        assert answers["replay"].headers["Idempotent-Replayed"] == "true"
        answers["payment"] = await billing.client.post(
            "/payments", json={**part, "amount": "0.50"}, headers=staff
        )
        answers["dispute"] = await billing.client.post(
            f"/receivables/{second['invoice_number']}/dispute",
            json={"reason": "Anna Muster bestreitet"},
            headers=staff,
        )
        answers["cancel"] = await billing.client.post(
            f"/invoices/{first['invoice_number']}/cancel", json={}, headers=staff
        )
        answers["reissue"] = await billing.client.post(
            f"/invoices/{first['invoice_number']}/reissue", json={}, headers=staff
        )
        answers["duplicate"] = await billing.client.post(
            "/incoming-invoices", files=supplier_file, headers=staff
        )
        answers["approve"] = await billing.client.post(
            f"/incoming-invoices/{incoming_id}/approve",
            json={"not_a_duplicate": True},
            headers=staff,
        )
        answers["decline"] = await billing.client.post(f"/quotes/{quote}/decline", headers=staff)

        async def refund_waiting() -> Any:
            params = {"status": "awaiting_account"}
            page = await billing.client.get("/payout-items", params=params, headers=staff)
            return page.json()["items"][0] if page.json()["items"] else None

        refund = await eventually(refund_waiting, timeout=30)
        answers["account"] = await billing.client.put(
            f"/payout-items/{refund['number']}/account",
            json={"iban": ANNA_IBAN, "name": "Anna Muster"},
            headers=staff,
        )
        answers["run"] = await billing.client.post("/payment-runs", json={}, headers=staff)
        for name, answer in answers.items():
            assert answer.status_code in (200, 201), (name, answer.text)
            assert shown_of_anna(answer.text) == [], (name, answer.text)
            assert '"restricted":true' in answer.text, (name, answer.text)
        assert answers["cancel"].json()["buyer"]["email"].endswith("@pseudonym.invalid")
        assert answers["replay"].json()["payment"]["amount"] == "1.00"  # the first answer
        assert answers["duplicate"].json()["duplicate"] is True
        # the run pays what is due: her refund, and the supplier invoice once its
        # payment date has come (the test's supplier invoice is dated, the run is today)
        run_items = answers["run"].json()["items"]
        [item] = [i for i in run_items if i["kind"] == "refund"]
        assert (item["number"], item["iban"]) == (refund["number"], None)

        # the reissued invoice (after the erasure, her order's) reads as her first did
        reissued = answers["reissue"].json()["number"]
        masked = await billing.client.get(f"/invoices/{reissued}", headers=staff)
        assert masked.json()["restricted"] is True and shown_of_anna(masked.text) == []
        shown = await billing.client.get(f"/invoices/{reissued}", headers=tax)
        assert shown.json()["buyer"]["name"] == "Anna Muster"
        # the tax scope's answer to a write shows her, as its read routes do
        again = await billing.client.post("/payments", json={**part, "amount": "0.25"}, headers=tax)
        assert again.status_code == 201 and "Anna Muster" in again.text
