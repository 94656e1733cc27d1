"""The order service's read model of the catalog's shipping methods.

Fed by ShippingMethodChanged on ``catalog.shipping.v1`` (the full state of one
method per event); like the product read model, an older event arriving late
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.clock import micros
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.domain.order import OrderError, ShippingCharge

SHIPPING_METHODS = "shipping_methods"
STANDARD = "standard"


async def apply_shipping_method(
    tx: Transaction, code: str, fields: dict[str, Any], occurred_at: datetime
) -> None:
    collection = tx.db[SHIPPING_METHODS]
    as_of = micros(occurred_at)
    current = await collection.find_one({"_id": code}, {"as_of_us": 1}, session=tx.session)
    if current is not None and current.get("as_of_us", -1) > as_of:
        return
    await collection.update_one(
        {"_id": code},
        {"$set": {**fields, "as_of_us": as_of, "as_of": occurred_at}},
        upsert=True,
        session=tx.session,
    )


async def shipping_charge(
    db: AsyncDatabase[dict[str, Any]], method: str, currency: str
) -> ShippingCharge:
    """The charge for ``method`` now; OrderError(("shipping_method",)) if it can't be used."""
    docs = {
        d["_id"]: d
        for d in await db[SHIPPING_METHODS].find({"_id": {"$in": [method, STANDARD]}}).to_list(None)
    }
    doc = docs.get(method)
    if doc is None or not doc.get("active", True):
        raise OrderError(("shipping_method",), f"no shipping method {method!r} is offered")
    if doc["currency"] != currency:
        raise OrderError(("shipping_method",), f"{method!r} is priced in {doc['currency']}")
    standard = docs.get(STANDARD)
    standard_gross = None
    if standard is not None and standard["currency"] == currency:
        standard_gross = ShippingCharge(
            STANDARD, Decimal(standard["price_net"]), Decimal(standard["vat_rate"])
        ).gross
    return ShippingCharge(
        method=method,
        net=Decimal(doc["price_net"]),
        vat_rate=Decimal(doc["vat_rate"]),
        carrier=doc.get("carrier"),
        standard_gross=standard_gross,
    )
