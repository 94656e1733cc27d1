"""The order service's read model of the catalog's shipping methods.

Fed by ShippingMethodChanged on ``catalog.shipping.v1``: each event is the full
state of one method, so the document is replaced; the newest event wins
(:func:`kontor_servicekit.projections.upsert_if_newer`, as for products), so an
older event arriving late changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.domain.shipping import STANDARD, RateRow, ShippingMethod

SHIPPING_METHODS = "shipping_methods"


async def apply_shipping_method(
    tx: Transaction, method_id: str, state: dict[str, Any], occurred_at: datetime
) -> None:
    await upsert_if_newer(
        tx.db[SHIPPING_METHODS],
        method_id,
        state,
        occurred_at=occurred_at,
        session=tx.session,
        replace=True,
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def method_of(doc: dict[str, Any]) -> ShippingMethod:
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


async def methods_for(
    db: AsyncDatabase[dict[str, Any]], method_id: str
) -> tuple[ShippingMethod | None, ShippingMethod | None]:
    """The requested method and the standard method, as known now."""
    docs = {
        d["_id"]: d
        for d in await db[SHIPPING_METHODS]
        .find({"_id": {"$in": [method_id, STANDARD]}})
        .to_list(None)
    }
    requested = docs.get(method_id)
    standard = docs.get(STANDARD)
    return (
        None if requested is None else method_of(requested),
        None if standard is None else method_of(standard),
    )
