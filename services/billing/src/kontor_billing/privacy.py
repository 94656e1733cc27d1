"""Billing as a privacy participant (issue 13, ADR 0035): one module, joined in main.py.

- **Export**: every document issued to the buyer (invoices, cancellations, corrections;
  matched by ``customer_email``) and billing's read model of their orders.
- **Erasure**: the documents are *retained*: they are tax records (§147 AO, §14b UStG:
  ten years from the end of the year of issue) and never changed (ADR 0021), so they
  keep the buyer's name and address, shown to ``billing:tax`` only from then on
  (``store/erased_buyers.py``, ADR 0037).
  In the read model of orders, an order already invoiced is reduced to what the invoice
  refers to (name, e-mail, street, company and VAT id replaced, as orders does); an order
  not invoiced yet keeps its buyer, since its invoice must still name them (§14 Abs. 4
  UStG; Art. 17 (3) b DSGVO), and is reported as retained.

It works on the consumer's transaction directly (``unit_of_work=None``): the privacy
queries are its own and touch no other module of billing.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from kontor_contracts.events.orders import ErasedItem
from kontor_contracts.personal import PLACEHOLDER_DOMAIN, PLACEHOLDER_TEXT
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.participant import ErasureSummary, Subject, privacy_subscription
from kontor_servicekit.store import Transaction

from kontor_billing.store.erased_buyers import record_erased
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.ledger import ORDERS

TAX_RETENTION_YEARS = 10


def _jsonable(docs: list[dict[str, Any]]) -> list[Any]:
    """Amounts (Decimal) and moments as strings, as the export document shows them."""
    return json.loads(json.dumps(docs, default=str))  # type: ignore[no-any-return]


def _buyer_email(email: str) -> dict[str, Any]:
    return {"$regex": f"^\\s*{re.escape(email.strip())}\\s*$", "$options": "i"}


def _until(issue_dates: list[str], now: datetime) -> date:
    last = max((date.fromisoformat(d) for d in issue_dates), default=now.date())
    return date(last.year + TAX_RETENTION_YEARS, 12, 31)


class BillingPrivacy:
    async def _find(self, tx: Transaction, name: str, query: dict[str, Any]) -> list[Any]:
        return [doc async for doc in tx.db[name].find(query, session=tx.session)]

    async def export(self, subject: Subject, tx: Transaction) -> dict[str, Any]:
        documents = await self._find(
            tx, INVOICES, {"customer_email": subject.email.strip().lower()}
        )
        orders = await self._find(tx, ORDERS, {"placed.buyer.email": _buyer_email(subject.email)})
        return {"documents": _jsonable(documents), "orders": _jsonable(orders)}

    async def erase(self, subject: Subject, tx: Transaction, now: datetime) -> ErasureSummary:
        documents = await self._find(
            tx, INVOICES, {"customer_email": subject.email.strip().lower()}
        )
        orders = await self._find(tx, ORDERS, {"placed.buyer.email": _buyer_email(subject.email)})
        email = f"p-{subject.subject_id.removeprefix('subj_')}@{PLACEHOLDER_DOMAIN}"
        invoiced = [o for o in orders if o.get("invoice_number")]
        for order in invoiced:
            await tx.db[ORDERS].update_one(
                {"_id": order["_id"]},
                {
                    "$set": {
                        "placed.buyer.name": PLACEHOLDER_TEXT,
                        "placed.buyer.email": email,
                        "placed.buyer.street": PLACEHOLDER_TEXT,
                        "placed.buyer.company": None,
                        "placed.buyer.vat_id": None,
                    }
                },
                session=tx.session,
            )
        await record_erased(tx, subject.subject_id, now)
        summary = ErasureSummary()
        if invoiced:
            summary.anonymised.append(ErasedItem(what="orders (read model)", count=len(invoiced)))
        if documents:
            summary.retained.append(
                ErasedItem(
                    what="invoices, cancellations and corrections",
                    count=len(documents),
                    why="tax records, unchanged (§147 AO, §14b UStG; ADR 0021); the "
                    "buyer shown to the billing:tax scope only",
                    until=_until([d["issue_date"] for d in documents], now),
                )
            )
        waiting = len(orders) - len(invoiced)
        if waiting:
            summary.retained.append(
                ErasedItem(
                    what="orders not invoiced yet",
                    count=waiting,
                    why="their invoice must name the buyer (§14 Abs. 4 UStG, "
                    "Art. 17 (3) b DSGVO); erased with a later request",
                )
            )
        return summary


def privacy_participant(clock: Clock) -> Subscription:
    return privacy_subscription("billing", BillingPrivacy(), unit_of_work=None, clock=clock)
