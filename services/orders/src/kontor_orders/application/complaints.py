"""Complaints: filing (ComplaintFiled) and resolution, each on the order's timeline.

A refund is announced as ReturnCompleted with the complaint's id as ``return_id``
(no goods come back): that is the event billing issues credit notes from. A
replacement is a shipment: ReplacementRequested asks the catalog to reserve and book
out the piece; its answer (ReplacementStockBooked / ReplacementStockRejected on
``catalog.reservation.v1``) resolves the complaint or opens it again. It does not
reopen the order's shipping status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ReplacementStockBooked, ReplacementStockRejected
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import publish_complaint
from kontor_orders.application.order_life import load_order
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.complaint import (
    Complaint,
    UnknownComplaint,
    require_known_photos,
    require_replacement_carrier,
)
from kontor_orders.domain.order import Order


@dataclass(frozen=True)
class FileComplaint:
    order_id: str
    line_no: int
    description: str
    photo_ids: list[str] = field(default_factory=list)
    kind: str | None = None
    desired_remedy: str | None = None


async def file_complaint(
    transactor: Transactor[OrdersUnitOfWork], command: FileComplaint, clock: Clock
) -> Complaint:
    """File a complaint about a shipped line within the warranty; its photos must
    have been uploaded first."""
    now = clock()
    complaint_id = str(uuid.uuid4())

    async def work(uow: OrdersUnitOfWork) -> Complaint:
        require_known_photos(command.photo_ids, await uow.photos.exists(command.photo_ids))
        order = await load_order(uow, command.order_id)
        c = Complaint.file(
            complaint_id=complaint_id,
            order=order,
            line_no=command.line_no,
            description=command.description,
            photo_ids=command.photo_ids,
            kind=command.kind,
            desired_remedy=command.desired_remedy,
            now=now,
        )
        await uow.orders.save(order)
        await uow.complaints.add(c)
        publish_complaint(uow, c, order)
        return c

    return await transactor.run(work)


@dataclass(frozen=True)
class ResolveComplaint:
    remedy: str  # replacement | refund
    note: str | None = None
    amount: Decimal | None = None
    """Refund (gross); default one piece of the line."""
    carrier: str | None = None
    tracking_number: str | None = None


async def resolve_complaint(
    transactor: Transactor[OrdersUnitOfWork],
    complaint_id: str,
    command: ResolveComplaint,
    clock: Clock,
) -> Complaint:
    require_replacement_carrier(command.remedy, command.carrier)
    now = clock()

    async def work(uow: OrdersUnitOfWork) -> Complaint:
        c = await uow.complaints.get(complaint_id)
        if c is None:
            raise UnknownComplaint(complaint_id)
        order = await load_order(uow, c.order_id)
        c.resolve(
            order,
            remedy=command.remedy,
            note=command.note,
            amount=command.amount,
            carrier=command.carrier,
            tracking_number=command.tracking_number,
            now=now,
        )
        await uow.orders.save(order)
        await uow.complaints.save(c)
        publish_complaint(uow, c, order)
        return c

    return await transactor.run(work)


# ------------------------------------------------------------------ the catalog's answer


async def _answered(
    uow: OrdersUnitOfWork, complaint_id: str, answer: Callable[[Complaint, Order], None]
) -> None:
    c = await uow.complaints.get(complaint_id)
    if c is None:
        raise UnknownComplaint(complaint_id)  # dead-lettered: we never asked for it
    order = await load_order(uow, c.order_id)
    answer(c, order)
    await uow.orders.save(order)
    await uow.complaints.save(c)
    publish_complaint(uow, c, order)


async def on_replacement_stock_booked(
    event: ReplacementStockBooked, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    """The replacement left the warehouse: the complaint is resolved."""
    await _answered(
        uow, event.complaint_id, lambda c, order: c.replacement_booked(order, env.occurred_at)
    )


async def on_replacement_stock_rejected(
    event: ReplacementStockRejected, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    """No stock for the replacement: the complaint is open again, with the shortfall."""
    shortfall = "; ".join(
        f"{r.sku}: requested {r.requested}, available {r.available}" for r in event.reasons
    )
    await _answered(
        uow,
        event.complaint_id,
        lambda c, order: c.replacement_rejected(order, shortfall, env.occurred_at),
    )
