"""Shipping methods in the catalog's database (one document per method id)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.errors import DuplicateKeyError

from kontor_catalog.domain.shipping import MethodTaken, Rate, ShippingMethod, Zone

SHIPPING_METHODS = "shipping_methods"


def to_document(method: ShippingMethod) -> dict[str, Any]:
    return {
        "_id": method.method_id,
        "name": method.name,
        "carrier": method.carrier,
        "basis": method.basis,
        "zones": [
            {"zone_id": z.zone_id, "name": z.name, "countries": list(z.countries)}
            for z in method.zones
        ],
        "rates": [
            {
                "zone_id": r.zone_id,
                "max_weight_grams": r.max_weight_grams,
                "max_value": r.max_value,
                "price_net": r.price_net,
            }
            for r in method.rates
        ],
        "free_from": method.free_from,
        "currency": method.currency,
        "vat_rate": method.vat_rate,
        "active": method.active,
    }


def from_document(doc: dict[str, Any]) -> ShippingMethod:
    return ShippingMethod(
        method_id=doc["_id"],
        name=doc["name"],
        carrier=doc.get("carrier"),
        basis=doc["basis"],
        zones=tuple(Zone(z["zone_id"], tuple(z["countries"]), z.get("name")) for z in doc["zones"]),
        rates=tuple(
            Rate(r["zone_id"], r["price_net"], r.get("max_weight_grams"), r.get("max_value"))
            for r in doc["rates"]
        ),
        free_from=doc.get("free_from"),
        currency=doc["currency"],
        vat_rate=doc["vat_rate"],
        active=doc["active"],
    )


class MongoShippingMethodRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.methods = tx.db[SHIPPING_METHODS]

    async def get(self, method_id: str) -> ShippingMethod | None:
        doc = await self.methods.find_one({"_id": method_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def add(self, method: ShippingMethod) -> None:
        try:
            await self.methods.insert_one(
                {**to_document(method), "version": 1}, session=self.tx.session
            )
        except DuplicateKeyError as exc:
            raise MethodTaken(method.method_id) from exc

    async def replace(self, method: ShippingMethod) -> None:
        await self.methods.update_one(
            {"_id": method.method_id},
            {
                "$set": {k: v for k, v in to_document(method).items() if k != "_id"},
                "$inc": {"version": 1},
            },
            session=self.tx.session,
        )
