"""The read side of the One-Stop-Shop figures (ADR 0026): the documents of a quarter taxed
in the destination state, and the year's distance sales for the threshold.

Documents are loaded and summed in Python (the domain's :mod:`kontor_billing.domain.oss`),
not by an aggregation pipeline: Decimal128 sums are not supported alike by every
MongoDB-wire server we run, and one quarter's distance sales are a bounded set.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.oss import OssReturn, Threshold, oss_return, quarter_bounds, threshold
from kontor_billing.store.invoices import INVOICES, from_document

Document = dict[str, Any]


class OssQueries:
    def __init__(self, db: AsyncDatabase[Document], *, opt_in: bool = False) -> None:
        self.db = db
        self.opt_in = opt_in

    async def quarter(self, year: int, quarter: int) -> OssReturn:
        start, end = quarter_bounds(year, quarter)
        docs = self.db[INVOICES].find(
            {
                "vat_country": {"$ne": None},
                "issue_date": {"$gte": start.isoformat(), "$lt": end.isoformat()},
            }
        )
        return oss_return([from_document(d) async for d in docs], year, quarter)

    async def threshold(self, year: int) -> Threshold:
        docs = self.db[INVOICES].find(
            {
                "buyer_vat_id": None,
                "issue_date": {
                    "$gte": date(year - 1, 1, 1).isoformat(),
                    "$lt": date(year + 1, 1, 1).isoformat(),
                },
            }
        )
        return threshold([from_document(d) async for d in docs], year, opt_in=self.opt_in)
