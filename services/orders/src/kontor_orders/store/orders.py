"""Orders in the order service's own database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_orders.domain.order import (
    Address,
    Customer,
    Order,
    OrderLine,
    Shipment,
    ShippingCharge,
    TimelineEntry,
    VatIdCheck,
)
from kontor_orders.domain.parties import email_key
from kontor_orders.store.retention import with_retention_from

ORDERS = "orders"

#: The customer's e-mail as it is matched (``email_key``), beside the address as given.
EMAIL_KEY = "customer_email_key"


def _address(a: Address | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "name": a.name,
        "company": a.company,
        "street": a.street,
        "postcode": a.postcode,
        "city": a.city,
        "country": a.country,
    }


def _address_of(d: dict[str, Any] | None) -> Address | None:
    return None if d is None else Address(**d)


def to_document(order: Order) -> dict[str, Any]:
    return {
        "_id": order.id,
        "number": order.number,
        "status": order.status,
        "version": order.version,
        "customer": {
            "email": order.customer.email,
            "name": order.customer.name,
            "customer_id": order.customer.customer_id,
        },
        EMAIL_KEY: email_key(order.customer.email),
        "shipping_address": _address(order.shipping_address),
        "billing_address": _address(order.billing_address),
        "currency": order.currency,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_net": line.unit_price_net,
                "vat_rate": line.vat_rate,
                "unit_price_gross": line.unit_price_gross,
                "line_net": line.line_net,
                "line_vat": line.line_vat,
                "line_gross": line.line_gross,
            }
            for line in order.lines
        ],
        "price_basis": order.price_basis,
        "discount_gross": order.discount_gross,
        "coupon_discounts": dict(order.coupon_discounts),
        "vat_treatment": order.vat_treatment,
        "vat_country": order.vat_country,
        "distance_sale_net": order.distance_sale_net,
        "vat_id_check": None if order.vat_id_check is None else asdict(order.vat_id_check),
        "placed_at": order.placed_at,
        "timeline": [
            {"event": e.event, "at": e.at, "status": e.status, "details": e.details}
            for e in order.timeline
        ],
        "shipping": None
        if order.shipping is None
        else {
            "method": order.shipping.method,
            "net": order.shipping.net,
            "vat_rate": order.shipping.vat_rate,
            "carrier": order.shipping.carrier,
            "standard_gross": order.shipping.standard_gross,
            "split": [{"vat_rate": r, "net": n} for r, n in order.shipping.split],
        },
        "buyer_vat_id": order.buyer_vat_id,
        "buyer_reference": order.buyer_reference,
        "locale": order.locale,
        "coupon_codes": order.coupon_codes,
        "payment_method": order.payment_method,
        "cart_id": order.cart_id,
        "shipments": [
            {
                "shipment_id": s.shipment_id,
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "lines": [{"line_no": n, "quantity": q} for n, q in s.lines],
                "shipped_at": s.shipped_at,
            }
            for s in order.shipments
        ],
        "amount_paid": order.amount_paid,
        "paid_at": order.paid_at,
        "delivered_at": order.delivered_at,
        "returned": [{"line_no": n, "quantity": q} for n, q in order.returned.items()],
        "taken_back": [{"line_no": n, "quantity": q} for n, q in order.taken_back.items()],
        "refunded_lines": [{"line_no": n, "amount": a} for n, a in order.refunded_lines.items()],
        "refunded_shipping": order.refunded_shipping,
        "refunded_total": order.refunded_total,
        "quote_number": order.quote_number,
    }


def from_document(doc: dict[str, Any]) -> Order:
    shipping = _address_of(doc["shipping_address"])
    assert shipping is not None
    return Order(
        id=doc["_id"],
        number=doc["number"],
        status=doc["status"],
        version=doc["version"],
        customer=Customer(**doc["customer"]),
        shipping_address=shipping,
        billing_address=_address_of(doc.get("billing_address")),
        currency=doc["currency"],
        lines=[_line(line, doc["currency"]) for line in doc["lines"]],
        placed_at=doc["placed_at"],
        timeline=[_timeline_entry(e) for e in doc.get("timeline", [])]
        # orders stored before the timeline existed kept their status history
        or [TimelineEntry(h["status"], h["at"], h["status"]) for h in doc.get("history", [])],
        shipping=_shipping(doc.get("shipping"), doc["currency"]),
        buyer_vat_id=doc.get("buyer_vat_id"),
        buyer_reference=doc.get("buyer_reference"),
        locale=doc.get("locale"),
        coupon_codes=list(doc.get("coupon_codes", [])),
        payment_method=doc.get("payment_method"),
        cart_id=doc.get("cart_id"),
        quote_number=doc.get("quote_number"),
        shipments=[
            Shipment(
                shipment_id=s["shipment_id"],
                carrier=s["carrier"],
                tracking_number=s.get("tracking_number"),
                lines=tuple((x["line_no"], x["quantity"]) for x in s["lines"]),
                shipped_at=s["shipped_at"],
            )
            for s in doc.get("shipments", [])
        ],
        amount_paid=Decimal(str(doc.get("amount_paid", "0"))),
        paid_at=doc.get("paid_at"),
        delivered_at=doc.get("delivered_at"),
        returned={r["line_no"]: r["quantity"] for r in doc.get("returned", [])},
        # orders stored before ADR 0017 were priced from the net, per line
        price_basis=doc.get("price_basis", "net"),
        discount_gross=None if doc.get("discount_gross") is None else _dec(doc["discount_gross"]),
        coupon_discounts={c: _dec(v) for c, v in (doc.get("coupon_discounts") or {}).items()},
        vat_treatment=doc.get("vat_treatment", "domestic"),
        vat_country=doc.get("vat_country"),
        distance_sale_net=None
        if doc.get("distance_sale_net") is None
        else _dec(doc["distance_sale_net"]),
        vat_id_check=None if not doc.get("vat_id_check") else VatIdCheck(**doc["vat_id_check"]),
        # orders stored before these existed: nothing came back, nothing refunded
        taken_back={r["line_no"]: r["quantity"] for r in doc.get("taken_back", [])},
        refunded_lines={
            r["line_no"]: Decimal(str(r["amount"])) for r in doc.get("refunded_lines", [])
        },
        refunded_shipping=Decimal(str(doc.get("refunded_shipping", "0"))),
        refunded_total=Decimal(str(doc.get("refunded_total", "0"))),
    )


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _line(doc: dict[str, Any], currency: str) -> OrderLine:
    keys = ("line_no", "sku", "name", "quantity", "unit_price_net", "vat_rate")
    if "line_gross" not in doc:  # stored before ADR 0017: priced per line from the net
        return OrderLine.rounded_from_net(**{k: doc[k] for k in keys}, currency=currency)
    return OrderLine(
        **{k: doc[k] for k in keys},
        currency=currency,
        unit_price_gross=_dec(doc["unit_price_gross"]),
        line_net=_dec(doc["line_net"]),
        line_vat=_dec(doc["line_vat"]),
        line_gross=_dec(doc["line_gross"]),
    )


def _shipping(doc: dict[str, Any] | None, currency: str) -> ShippingCharge | None:
    if not doc:
        return None
    split = tuple((_dec(p["vat_rate"]), _dec(p["net"])) for p in doc.get("split") or [])
    return ShippingCharge(
        **{k: v for k, v in doc.items() if k != "split"}, currency=currency, split=split
    )


def _timeline_entry(doc: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(doc["event"], doc["at"], doc["status"], dict(doc.get("details") or {}))


class MongoOrderRepository:
    """``OrderRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, order: Order) -> None:
        doc = with_retention_from(to_document(order))
        await self.tx.db[ORDERS].insert_one(doc, session=self.tx.session)
        self.tx.remember(ORDERS, order.id, doc)

    async def get(self, order_id: str) -> Order | None:
        known, doc = self.tx.recall(ORDERS, order_id)  # read ahead, or saved in this unit
        if not known:
            doc = await self.tx.db[ORDERS].find_one({"_id": order_id}, session=self.tx.session)
            self.tx.remember(ORDERS, order_id, doc)
        return None if doc is None else from_document(doc)

    async def prefetch(self, order_ids: Sequence[str]) -> None:
        """Read ``order_ids`` for :meth:`get`, one query for all (ADR 0150)."""
        await self.tx.read_ahead(ORDERS, order_ids)

    async def by_number(self, number: str) -> Order | None:
        await self.tx.flush(ORDERS)
        doc = await self.tx.db[ORDERS].find_one({"number": number}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def awaiting_prepayment(self, placed_before: datetime, limit: int = 100) -> list[str]:
        await self.tx.flush(ORDERS)
        cursor = (
            self.tx.db[ORDERS]
            .find(
                {
                    "payment_method": "prepayment",
                    "status": "confirmed",
                    "placed_at": {"$lte": placed_before},
                },
                {"_id": 1},
                session=self.tx.session,
            )
            .sort("placed_at", 1)
            .limit(limit)
        )
        return [doc["_id"] async for doc in cursor]

    async def number_taken(self, number: str) -> bool:
        await self.tx.flush(ORDERS)
        doc = await self.tx.db[ORDERS].find_one(
            {"number": number}, {"_id": 1}, session=self.tx.session
        )
        return doc is not None

    async def save(self, order: Order) -> None:
        """Replace the stored order; the transaction's snapshot isolation makes two
        concurrent changes of one order conflict, and the loser retries."""
        order.version += 1
        # written when the unit of work ends, with the other orders it saved (ADR 0151)
        self.tx.replace_later(ORDERS, with_retention_from(to_document(order)))
