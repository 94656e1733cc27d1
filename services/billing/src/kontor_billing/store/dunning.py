"""Dunning notices in billing's database (``dunning_notices``, ``_id`` the number):
inserted once, never changed (a Handelsbrief, kept like the invoices)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_billing.domain.dunning import DunningNotice
from kontor_billing.domain.order import Buyer
from kontor_billing.store.invoices import seller_document, seller_of

DUNNING_NOTICES = "dunning_notices"
_DATES = (
    "issue_date",
    "invoice_date",
    "due_date",
    "interest_since",
    "pay_by",
    "interest_until",
    "base_rate_unknown_from",
)


def notice_document(notice: DunningNotice) -> dict[str, Any]:
    doc = asdict(notice)
    for name in _DATES:
        doc[name] = doc[name].isoformat() if doc[name] else None
    doc["seller"] = seller_document(notice.seller)
    doc["_id"] = notice.number
    doc["total_claim"] = notice.total_claim
    return doc


def notice_of(doc: dict[str, Any]) -> DunningNotice:
    fields = {k: v for k, v in doc.items() if k in DunningNotice.__dataclass_fields__}
    for name in _DATES:
        fields[name] = date.fromisoformat(fields[name]) if fields.get(name) else None
    fields["buyer"] = Buyer(**doc["buyer"])
    fields["seller"] = seller_of(doc["seller"])
    return DunningNotice(**fields)


class MongoDunningNotices:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, notice: DunningNotice) -> None:
        await self.tx.db[DUNNING_NOTICES].insert_one(
            notice_document(notice), session=self.tx.session
        )
