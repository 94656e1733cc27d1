"""Outgoing replies: what the channel adapters report after sending one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery

__all__ = ["mark_delivery"]


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
