"""Billing as a privacy participant (issue 13, ADR 0035): one module, joined in main.py.

- **Export**: every document issued to the buyer (invoices, cancellations, corrections;
  matched by ``customer_email``) and billing's read model of their orders.
- Also exported: the person's receivables and payments (by the orders of those
  documents), the reminders and dunning notices sent to them, the bank bookings
  allocated to their invoices or settling a payout to them (payer name, IBAN, remittance
  text), the incoming invoices they sent as a supplier (a sole trader, matched by the
  seller e-mail, BT-43), the payout items paying them (refunds of their corrections and
  cancellations, payments of their supplier invoices: name, IBAN), the quotes made to
  them, and the document language and payment terms chosen for their e-mail.
- **Erasure**: the documents are *retained*: they are tax records (§147 AO, §14b UStG:
  ten years from the end of the year of issue) and never changed (ADR 0021), so they
  keep the buyer's name and address, shown to ``billing:tax`` only from then on
  (``store/erased_buyers.py``, ADR 0037).
  In the read model of orders, an order already invoiced is reduced to what the invoice
  refers to (name, e-mail, street, company and VAT id replaced, as orders does); an order
  not invoiced yet keeps its buyer, since its invoice must still name them (§14 Abs. 4
  UStG; Art. 17 (3) b DSGVO), and is reported as retained. The receivables, payments,
  bank bookings and incoming invoices are bookings and their vouchers (§147 (1) Nr. 1, 4
  AO: ten years), the reminders and dunning notices business letters sent (§147 (1)
  Nr. 3 AO: six years): all retained as they are, and reported with why and until;
  the routes show them to ``billing:tax`` only from then on (``api/erasure.py``, ADR
  0075). The payout items are vouchers of the bookings, the quotes business letters
  (retained alike); the document language and payment terms chosen for the e-mail
  are deleted (the documents keep them in their buyer snapshot).
- **Payers** (ADR 0114): bank bookings allocated to nothing whose payer is one of the
  person's IBANs or names (from their documents, the bookings that paid them, the
  payouts to them, their supplier invoices) are exported and retained as vouchers; the
  erasure keeps the keyed pseudonyms of those IBANs and names (``payer_keys``), so such
  a booking is shown to ``billing:tax`` only, however it arrived before the erasure.
- **DATEV personal accounts** (ADR 0115): the person's debtor account (and creditor
  account as a sole trader) is kept under a pseudonymous key with its number only (the
  books name the number); a row still keyed by the e-mail, VAT id or name is re-keyed.

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

from kontor_billing.domain.datev import creditor_of, debtor_of, stored_party
from kontor_billing.domain.erasure import payer_identities
from kontor_billing.store.bank_statements import BANK_TRANSACTIONS
from kontor_billing.store.buyer_languages import BUYER_LANGUAGES, BUYER_PAYMENT_TERMS
from kontor_billing.store.datev import DATEV_PARTY_ACCOUNTS, rekey_party_account
from kontor_billing.store.dunning import DUNNING_NOTICES
from kontor_billing.store.erased_buyers import payer_keys, record_erased
from kontor_billing.store.incoming import INCOMING
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.ledger import ORDERS
from kontor_billing.store.payouts import PAYOUT_ITEMS
from kontor_billing.store.quotes import QUOTES
from kontor_billing.store.receivables import PAYMENTS, RECEIVABLES

TAX_RETENTION_YEARS = 10
LETTER_RETENTION_YEARS = 6


def _jsonable(docs: list[dict[str, Any]]) -> list[Any]:
    """Amounts (Decimal) and moments as strings, as the export document shows them."""
    return json.loads(json.dumps(docs, default=str))  # type: ignore[no-any-return]


def _buyer_email(email: str) -> dict[str, Any]:
    return {"$regex": f"^\\s*{re.escape(email.strip())}\\s*$", "$options": "i"}


def _until(issue_dates: list[str], now: datetime) -> date:
    last = max((date.fromisoformat(d) for d in issue_dates), default=now.date())
    return date(last.year + TAX_RETENTION_YEARS, 12, 31)


def _years_after(now: datetime, years: int) -> date:
    return date(now.year + years, 12, 31)


#: What billing keeps of a person besides the documents: collection -> (what, why, years)
RETAINED_RECORDS = {
    "receivables": ("receivables (open items)", "bookings (§147 (1) Nr. 1 AO)", 10),
    "payments": ("payments and refunds", "bookings (§147 (1) Nr. 1 AO)", 10),
    "bank_transactions": (
        "bank bookings (payer name, IBAN, remittance text)",
        "vouchers of the bookings (§147 (1) Nr. 4 AO)",
        10,
    ),
    "dunning_notices": (
        "reminders and dunning notices",
        "business letters sent (§147 (1) Nr. 3 AO)",
        LETTER_RETENTION_YEARS,
    ),
    "incoming_invoices": (
        "incoming invoices of the person as a supplier",
        "invoices received (§147 (1) Nr. 4 AO, §14b UStG)",
        10,
    ),
    "payout_items": (
        "refunds and supplier payments paid out to the person (name, IBAN)",
        "vouchers of the bookings (§147 (1) Nr. 4 AO)",
        10,
    ),
    "datev_party_accounts": (
        "DATEV personal accounts (the number only, under a pseudonymous key)",
        "the account the books name (§147 (1) Nr. 1 AO)",
        10,
    ),
    "unallocated_bank_transactions": (
        "bank bookings from the person's account or name, allocated to nothing",
        "vouchers of the bookings (§147 (1) Nr. 4 AO); the payer shown to the billing:tax "
        "scope only",
        10,
    ),
    "quotes": (
        "quotes (Angebote) made to the person",
        "business letters sent (§147 (1) Nr. 3 AO)",
        LETTER_RETENTION_YEARS,
    ),
}


#: A booking that paid nothing (yet): a waiting credit, or one a person ignored.
UNALLOCATED = {"status": {"$in": ["pending", "unmatched", "ignored"]}}


def payers_of(
    documents: list[dict[str, Any]], records: dict[str, list[Any]]
) -> list[tuple[str | None, str | None]]:
    """The person's (IBAN, name) pairs billing knows: their documents' buyer name, the
    payer of each booking allocated to them, the account of each payout to them, their
    own account and name as a supplier."""
    return [
        *((None, (d.get("buyer") or {}).get("name")) for d in documents),
        *(
            (b.get("counterparty_iban"), b.get("counterparty_name"))
            for b in records["bank_transactions"]
        ),
        *((p.get("iban"), p.get("creditor_name")) for p in records["payout_items"]),
        *(
            ((i.get("supplier") or {}).get("iban"), (i.get("supplier") or {}).get("name"))
            for i in records["incoming_invoices"]
        ),
    ]


def parties_of(email: str, incoming: list[dict[str, Any]]) -> list[str]:
    """The person's DATEV parties in clear: the debtor of their e-mail, the creditor of
    each of their supplier invoices (ADR 0074)."""
    creditors = (
        creditor_of((i.get("supplier") or {}).get("vat_id"), (i.get("supplier") or {}).get("name"))
        for i in incoming
    )
    return sorted({p for p in (debtor_of(email), *creditors) if p})


class BillingPrivacy:
    async def _find(self, tx: Transaction, name: str, query: dict[str, Any]) -> list[Any]:
        return [doc async for doc in tx.db[name].find(query, session=tx.session)]

    async def _party_accounts(
        self, tx: Transaction, email: str, incoming: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The person's rows of ``datev_party_accounts``, each under its pseudonymous key
        with its account number only (a row keyed in clear is re-keyed, ADR 0115)."""
        found = []
        for party in parties_of(email, incoming):
            key = stored_party(party, tx.subject_id)
            rows = await self._find(tx, DATEV_PARTY_ACCOUNTS, {"_id": {"$in": [key, party]}})
            by_id = {str(r["_id"]): r for r in rows}
            row = by_id.get(key) or by_id.get(party)
            if row is None:
                continue
            if row["_id"] != key or set(row) != {"_id", "account"} or party in by_id:
                await rekey_party_account(tx, party, key, str(row["account"]))
            found.append({"_id": key, "account": str(row["account"])})
        return found

    async def _paid_by(
        self, tx: Transaction, payers: list[tuple[str | None, str | None]]
    ) -> list[Any]:
        """The bookings allocated to nothing whose payer is one of ``payers``."""
        theirs = {i for iban, name in payers for i in payer_identities(iban, name)}
        if not theirs:
            return []
        waiting = await self._find(tx, BANK_TRANSACTIONS, UNALLOCATED)
        return [
            b
            for b in waiting
            if not b.get("allocations")
            and not b.get("payout_id")
            and theirs
            & set(payer_identities(b.get("counterparty_iban"), b.get("counterparty_name")))
        ]

    async def _records(
        self, tx: Transaction, subject: Subject, documents: list[dict[str, Any]]
    ) -> dict[str, list[Any]]:
        """The person's records besides the documents, by collection (``RETAINED_RECORDS``)."""
        email = subject.email.strip().lower()
        numbers = [d["number"] for d in documents]
        order_ids = sorted({d["order_id"] for d in documents})
        incoming = await self._find(tx, INCOMING, {"supplier.email": _buyer_email(subject.email)})
        supplied = [str(d["_id"]) for d in incoming]
        payouts = await self._find(
            tx, PAYOUT_ITEMS, {"source_number": {"$in": numbers}, "kind": "refund"}
        ) + await self._find(tx, PAYOUT_ITEMS, {"source_id": {"$in": supplied}, "kind": "supplier"})
        paid_out = [str(d["_id"]) for d in payouts]
        bookings = await self._find(
            tx, BANK_TRANSACTIONS, {"allocations.invoice_number": {"$in": numbers}}
        ) + await self._find(tx, BANK_TRANSACTIONS, {"payout_id": {"$in": paid_out}})
        records = {
            "receivables": await self._find(tx, RECEIVABLES, {"customer_email": email}),
            "payments": await self._find(tx, PAYMENTS, {"order_id": {"$in": order_ids}}),
            "bank_transactions": list({d["_id"]: d for d in bookings}.values()),
            "dunning_notices": await self._find(
                tx, DUNNING_NOTICES, {"invoice_number": {"$in": numbers}}
            ),
            "incoming_invoices": incoming,
            "payout_items": payouts,
            "quotes": await self._find(tx, QUOTES, {"buyer.email": _buyer_email(subject.email)}),
        }
        records["unallocated_bank_transactions"] = await self._paid_by(
            tx, payers_of(documents, records)
        )
        records["datev_party_accounts"] = await self._party_accounts(tx, email, incoming)
        return records

    async def export(self, subject: Subject, tx: Transaction) -> dict[str, Any]:
        documents = await self._find(
            tx, INVOICES, {"customer_email": subject.email.strip().lower()}
        )
        orders = await self._find(tx, ORDERS, {"placed.buyer.email": _buyer_email(subject.email)})
        records = await self._records(tx, subject, documents)
        language = await self._find(tx, BUYER_LANGUAGES, {"_id": subject.email.strip().lower()})
        terms = await self._find(tx, BUYER_PAYMENT_TERMS, {"_id": subject.email.strip().lower()})
        return {
            "documents": _jsonable(documents),
            "orders": _jsonable(orders),
            **{name: _jsonable(docs) for name, docs in records.items()},
            "document_language": language[0].get("language") if language else None,
            "payment_term_days": terms[0].get("days") if terms else None,
        }

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
        records = await self._records(tx, subject, documents)
        payers = payer_keys(tx.subject_id, payers_of(documents, records))
        await record_erased(tx, subject.subject_id, now, payers)
        summary = ErasureSummary()
        for collection, what in (
            (BUYER_LANGUAGES, "document language chosen"),
            (BUYER_PAYMENT_TERMS, "payment terms agreed"),
        ):
            choice = await tx.db[collection].delete_one(
                {"_id": subject.email.strip().lower()}, session=tx.session
            )
            if choice.deleted_count:
                summary.deleted.append(ErasedItem(what=what, count=1))
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
        for name, docs in records.items():
            if docs:
                what, why, years = RETAINED_RECORDS[name]
                summary.retained.append(
                    ErasedItem(
                        what=what,
                        count=len(docs),
                        why=f"{why}; kept as they are",
                        until=_years_after(now, years),
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
