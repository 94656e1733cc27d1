"""Complaints: filing (ComplaintFiled) and resolution, each on the order's timeline.

A refund is announced as ReturnCompleted with the complaint's id as ``return_id``
(no goods come back): that is the event billing issues credit notes from. A
replacement shipment is recorded on the complaint and the timeline only; it does
not reopen the order's shipping status.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from kontor_contracts.events import common
from kontor_contracts.events.orders import ComplaintFiled, ReturnCompleted, ShippedLine
from kontor_servicekit.store import Store, Transaction

from kontor_orders.application.order_life import UnknownOrder
from kontor_orders.domain.complaint import Complaint
from kontor_orders.store.complaints import ComplaintRepository
from kontor_orders.store.orders import OrderRepository


class UnknownComplaint(LookupError):
    pass


async def file_complaint(
    store: Store,
    *,
    order_id: str,
    line_no: int,
    description: str,
    photo_ids: list[str],
    kind: str | None,
    desired_remedy: str | None,
    now: datetime,
) -> Complaint:
    complaint_id = str(uuid.uuid4())

    async def work(tx: Transaction) -> Complaint:
        orders = OrderRepository(tx)
        order = await orders.get(order_id)
        if order is None:
            raise UnknownOrder(order_id)
        c = Complaint.file(
            complaint_id=complaint_id,
            order=order,
            line_no=line_no,
            description=description,
            photo_ids=photo_ids,
            kind=kind,
            desired_remedy=desired_remedy,
            now=now,
        )
        order.note("complaint_filed", now, complaint_id=c.id, sku=c.sku, kind=kind)
        await orders.save(order)
        await ComplaintRepository(tx).add(c)
        tx.emit(
            ComplaintFiled(
                complaint_id=c.id,
                order_id=order.id,
                sku=c.sku,
                description=description,
                photo_ids=photo_ids,
                customer=common.Customer(
                    customer_id=order.customer.customer_id,
                    email=order.customer.email,
                    name=order.customer.name,
                ),
                kind=kind,
                desired_remedy=desired_remedy,
                filed_at=now,
            ),
            aggregate_id=c.id,
        )
        return c

    return await store.transaction(work)


async def resolve_complaint(
    store: Store,
    complaint_id: str,
    *,
    remedy: str,
    note: str | None,
    amount: Decimal | None,
    carrier: str | None,
    tracking_number: str | None,
    now: datetime,
) -> Complaint:
    async def work(tx: Transaction) -> Complaint:
        complaints = ComplaintRepository(tx)
        c = await complaints.get(complaint_id)
        if c is None:
            raise UnknownComplaint(complaint_id)
        orders = OrderRepository(tx)
        order = await orders.get(c.order_id)
        assert order is not None
        if remedy == "replacement":
            assert carrier is not None
            r = c.resolve_by_replacement(
                carrier=carrier, tracking_number=tracking_number, note=note, now=now
            )
            order.note(
                "replacement_shipped",
                now,
                complaint_id=c.id,
                sku=c.sku,
                carrier=carrier,
                tracking_number=tracking_number,
            )
        else:
            r = c.resolve_by_refund(order, amount=amount, note=note, now=now)
            assert r.refund_amount is not None
            order.note("complaint_refunded", now, complaint_id=c.id, amount=str(r.refund_amount))
            tx.emit(
                ReturnCompleted(
                    return_id=c.id,
                    order_id=order.id,
                    refund_amount=r.refund_amount,
                    currency=order.currency,
                    includes_shipping=False,
                    lines=[ShippedLine(line_no=c.line_no, sku=c.sku, quantity=1)],
                    completed_at=now,
                ),
                aggregate_id=c.id,
            )
        await orders.save(order)
        await complaints.save(c)
        return c

    return await store.transaction(work)
