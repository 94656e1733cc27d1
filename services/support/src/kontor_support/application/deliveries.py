"""Outgoing replies: what the channel adapters report after sending one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery

__all__ = ["claim_delivery", "mark_delivery"]


async def claim_delivery(
    transactor: Transactor[SupportUnitOfWork],
    delivery_id: str,
    *,
    at: datetime,
    lease: timedelta,
) -> Delivery | None:
    """Take ``delivery_id`` for one attempt (several replicas sweep the queue; the unit
    of work's write conflict lets one of them win). None: not due, or someone else's."""
    claim = str(uuid.uuid4())

    async def work(uow: SupportUnitOfWork) -> Delivery | None:
        delivery = await uow.deliveries.get(delivery_id)
        if delivery is None or not delivery.take(claim, at, lease):
            return None
        await uow.deliveries.save(delivery)
        return delivery

    return await transactor.run(work)


async def mark_delivery(
    transactor: Transactor[SupportUnitOfWork],
    delivery_id: str,
    outcome: Literal["sent", "failed"],
    *,
    at: datetime,
    error: str | None = None,
    permanent: bool = False,
) -> Delivery:
    """Record one attempt of ``delivery_id``: sent, or failed with ``error`` (retried
    later unless ``permanent`` or the attempts are used up). Marking a sent delivery
    sent again changes nothing. Answers the delivery as stored."""

    async def work(uow: SupportUnitOfWork) -> Delivery:
        delivery = await uow.deliveries.get(delivery_id)
        if delivery is None:
            raise NotFound("delivery", delivery_id)
        changed = (
            delivery.mark_sent(at)
            if outcome == "sent"
            else delivery.mark_failed(error or "unknown error", at, permanent=permanent)
        )
        if changed:
            await uow.deliveries.save(delivery)
        return delivery

    return await transactor.run(work)
