"""The order service's read model of the catalog's shipping methods.

Fed by ShippingMethodChanged on ``catalog.shipping.v1``: each event is the full
state of one method, so the document is replaced; the newest event wins
(:func:`kontor_servicekit.projections.upsert_if_newer`, as for products), so an
older event arriving late changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Transaction

from kontor_orders.domain.shipping import STANDARD, RateRow, ShippingMethod

SHIPPING_METHODS = "shipping_methods"


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def method_of(doc: Mapping[str, Any]) -> ShippingMethod:
    return ShippingMethod(
        method_id=doc["_id"],
        name=doc.get("name", doc["_id"]),
        basis=doc["basis"],
        zones={z["zone_id"]: tuple(z["countries"]) for z in doc["zones"]},
        rates=tuple(
            RateRow(
                zone_id=r["zone_id"],
                price_net=Decimal(str(r["price_net"])),
                max_weight_grams=r.get("max_weight_grams"),
                max_value=_decimal(r.get("max_value")),
            )
            for r in doc["rates"]
        ),
        currency=doc["currency"],
        vat_rate=Decimal(str(doc["vat_rate"])),
        active=doc.get("active", True),
        carrier=doc.get("carrier"),
        free_from=_decimal(doc.get("free_from")),
    )


def requested_and_standard(
    docs: Mapping[str, Mapping[str, Any]], method_id: str
) -> tuple[ShippingMethod | None, ShippingMethod | None]:
    """The method ``method_id`` and the standard method among ``docs`` (by id)."""
    requested, standard = docs.get(method_id), docs.get(STANDARD)
    return (
        None if requested is None else method_of(requested),
        None if standard is None else method_of(standard),
    )


class MongoShippingMethods:
    """``ShippingMethods`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def with_standard(
        self, method_id: str
    ) -> tuple[ShippingMethod | None, ShippingMethod | None]:
        docs = (
            await self.tx.db[SHIPPING_METHODS]
            .find({"_id": {"$in": [method_id, STANDARD]}}, session=self.tx.session)
            .to_list(None)
        )
        return requested_and_standard({d["_id"]: d for d in docs}, method_id)

    async def replace(
        self, method_id: str, state: Mapping[str, Any], occurred_at: datetime
    ) -> None:
        await upsert_if_newer(
            self.tx.db[SHIPPING_METHODS],
            method_id,
            state,
            occurred_at=occurred_at,
            session=self.tx.session,
            replace=True,
        )
