"""``GET /quotes?customer_email=`` is case-insensitive, for old quotes too (issue 13).

A quote for ``Erika.Einkauf@Example.DE`` through the real route is found by the address in
any case; a quote stored before the search key existed (no ``customer_email``) is found
once migration ``0701-quote-email-search-key`` ran, and a rerun changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from kontor_billing.store.quotes import QUOTES, add_email_search_keys
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import eventually

pytestmark = pytest.mark.integration


async def test_quotes_are_found_by_e_mail_in_any_case_old_ones_after_the_migration(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog, start_service("billing") as billing:
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        ask = {
            "customer": {**ORDER["customer"], "email": "Erika.Einkauf@Example.DE"},
            "billing_address": ORDER["shipping_address"],
            "lines": [{"sku": PRODUCT["sku"], "quantity": 1}],
        }

        async def quoted() -> Any:  # once the catalog's product reached billing
            made = await billing.client.post("/quotes", json=ask)
            return made.json() if made.status_code == 201 else None

        number = (await eventually(quoted, timeout=30, interval=0.2))["number"]

        async def found(email: str) -> list[str]:
            page = await billing.client.get("/quotes", params={"customer_email": email})
            assert page.status_code == 200, page.text
            return sorted(q["number"] for q in page.json()["items"])

        for email in (
            "erika.einkauf@example.de",
            "ERIKA.EINKAUF@EXAMPLE.DE",
            " Erika.Einkauf@Example.DE",
        ):
            assert await found(email) == [number], email
        assert await found("erika@example.de") == []

        # a quote as stored before the search key: found only after the migration
        quotes = billing.kit.store.db[QUOTES]
        old = await quotes.find_one({"_id": number})
        assert old is not None
        old = {k: v for k, v in old.items() if k != "customer_email"}
        old["_id"] = number.replace("-0000", "-9000")
        await quotes.insert_one(old)
        assert await found("erika.einkauf@example.de") == [number]
        await add_email_search_keys(billing.kit.store)
        await add_email_search_keys(billing.kit.store)
        assert await found("ERIKA.einkauf@example.de") == sorted([number, old["_id"]])
