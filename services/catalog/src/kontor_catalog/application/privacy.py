"""The catalog as a privacy participant (issue 13, ADR 0035).

The catalog keeps no data about people: products, prices, stock, categories, shipping
methods and product images are the merchant's; a reservation names an order id, never
a customer (the order id says nothing once orders has erased the person). Staff notes on
stock movements name goods, not customers (docs/privacy.md). So its part of an export
says what it holds on the person (nothing), and an erasure has nothing to do; it still
answers both, so a request knows the catalog was asked and checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.privacy.participant import ErasureSummary, Subject

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork

HOLDS = "No data about customers: reservations are kept per order id, stock notes name goods."


class CatalogPrivacy:
    async def export(self, subject: Subject, uow: CatalogUnitOfWork) -> dict[str, Any]:
        return {"personal_data": {}, "holds": HOLDS}

    async def erase(
        self, subject: Subject, uow: CatalogUnitOfWork, now: datetime
    ) -> ErasureSummary:
        return ErasureSummary()
