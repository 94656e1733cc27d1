"""Complaints: filing (ComplaintFiled) and resolution, each on the order's timeline.

A refund is announced as ReturnCompleted with the complaint's id as ``return_id``
(no goods come back): that is the event billing issues credit notes from. A
replacement shipment is recorded on the complaint and the timeline only; it does
not reopen the order's shipping status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

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
