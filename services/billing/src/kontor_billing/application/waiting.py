"""The invoices that wait un-numbered (ADR 0025), tried again when the data is fixed."""

from __future__ import annotations

from kontor_servicekit.clock import Clock

from kontor_billing.application.invoicing import WAITING_BATCH, BillingPolicy, _invoice_if_due
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.invoice import Invoice

__all__ = ["WAITING_BATCH", "retry_waiting"]


async def retry_waiting(
    uow: BillingUnitOfWork, *, clock: Clock, policy: BillingPolicy
) -> tuple[list[Invoice], int]:
    """Every waiting order (up to ``WAITING_BATCH``) tried again: the invoices issued now
    (numbered in this unit, in order) and how many still wait."""
    waiting = await uow.orders.waiting(WAITING_BATCH)
    issued = [
        invoice
        for order in waiting
        if (invoice := await _invoice_if_due(uow, order, clock=clock, policy=policy))
    ]
    return issued, len(waiting) - len(issued)
