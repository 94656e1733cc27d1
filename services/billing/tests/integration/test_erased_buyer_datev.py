"""DATEV personal accounts keyed by a pseudonym, not the e-mail (issue 13, ADR 0115).

Billing on personal accounts (``DATEV_PARTY_ACCOUNTS=personal``) with rows from before
ADR 0115 (``debtor:<e-mail>``): Anna's keeps its number when her invoices are exported
(moved to her subject id on the way), Bernd's is moved by the migration, and after
Anna's erasure (over the real broker) ``datev_party_accounts`` holds no e-mail, only
pseudonymous keys and account numbers; her account is reported as retained.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from kontor_billing.context import BillingContext
from kontor_billing.store.datev import DATEV_PARTY_ACCOUNTS, pseudonymise_party_accounts
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, eventually, produce, topic_of, wait_for_assignment

from services.billing.tests.integration.test_erased_buyer import (
    SELLER,
    anna_erased,
    receivable_of,
)

pytestmark = pytest.mark.integration


async def test_personal_accounts_are_kept_by_pseudonym_and_survive_an_erasure_as_numbers(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("orders", privacy_expected_services=["billing", "orders"]) as orders,
        start_service("billing", datev_party_accounts="personal") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        ctx = context_of(billing.app, BillingContext)
        accounts = ctx.erased.db[DATEV_PARTY_ACCOUNTS]
        assert ctx.erased.pseudonyms is not None
        anna = ctx.erased.pseudonyms.subject_id("anna@example.de")
        bernd = ctx.erased.pseudonyms.subject_id("bernd@example.de")
        # rows written before ADR 0115: keyed by the e-mail in clear
        await accounts.insert_many(
            [
                {"_id": "debtor:anna@example.de", "account": "10042"},
                {"_id": "debtor:bernd@example.de", "account": "10043"},
            ]
        )
        assert (await billing.client.put("/seller", json=SELLER)).status_code == 200
        placed = order_placed_envelope(number=9)
        await produce(
            infra.kafka_bootstrap,
            topic_of(namespace, "OrderPlaced"),
            [as_message(placed), as_message(order_confirmed_envelope(placed))],
        )
        await eventually(lambda: receivable_of(billing, placed), timeout=30)

        today = datetime.now(BERLIN).date()
        month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
        export = await billing.client.get("/exports/datev", params=month)
        assert export.status_code == 200, export.text
        rows = list(csv.reader(io.StringIO(export.content.decode("cp1252")), delimiter=";"))
        konten = {value for row in rows[2:] for value in row[6:8]}  # Konto, Gegenkonto
        assert "10042" in konten and "10000" not in konten  # her old number, not a new one
        assert await accounts.find_one({"_id": f"debtor:{anna}"}) == {
            "_id": f"debtor:{anna}",
            "account": "10042",
        }
        assert await accounts.find_one({"_id": "debtor:anna@example.de"}) is None

        # the migration moves the rows no export reached yet
        await pseudonymise_party_accounts(ctx.transactor.store)  # type: ignore[attr-defined]
        await pseudonymise_party_accounts(ctx.transactor.store)  # type: ignore[attr-defined]
        rows = [d async for d in accounts.find({})]
        assert sorted((r["_id"], r["account"]) for r in rows) == sorted(
            [(f"debtor:{anna}", "10042"), (f"debtor:{bernd}", "10043")]
        )

        done = await anna_erased(orders)
        kept = {i["what"]: i for i in done["services"]["billing"]["retained"]}
        item = kept["DATEV personal accounts (the number only, under a pseudonymous key)"]
        assert item["count"] == 1 and item["until"]
        rows = [d async for d in accounts.find({})]
        assert not any("@" in str(r) or "anna" in str(r).lower() for r in rows), rows
        assert all(set(r) == {"_id", "account"} for r in rows)
