"""The dunning sweep: every receivable past due gets its next level when it is due,
each in a unit of work of its own that re-checks it (a payment booked meanwhile wins:
the write conflict re-runs the unit, which finds the receivable settled).

Each level: a numbered document (``MA-YYYY-NNNNNN``, one gap-free range per year,
numbered in the unit that stores it) and ``PaymentOverdue`` with the level, the fee,
the interest so far and the §288 (5) flat fee, for support and marketing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Protocol

from kontor_contracts.events.billing import PaymentOverdue
from kontor_contracts.events.common import Customer
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.documents import StoredFile
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.dunning import DunningNotice, DunningPolicy, dunning_notice
from kontor_billing.domain.invoice import document_number, numbering_year
from kontor_billing.domain.seller import EXAMPLE_SELLER

log = logging.getLogger(__name__)

#: How many receivables one round looks at (the rest in the next round).
SWEEP_BATCH = 200


async def dun(
    uow: BillingUnitOfWork, invoice_number: str, *, policy: DunningPolicy, now: datetime
) -> DunningNotice | None:
    """Issue the next dunning level of ``invoice_number`` if it is due now."""
    today = now.astimezone(BERLIN).date()
    receivable = await uow.receivables.get(invoice_number)
    if receivable is None:
        return None
    level = policy.next_level(receivable, today)
    if level is None:
        return None
    invoice = await uow.invoices.by_number(invoice_number)
    if invoice is None:
        return None
    year = numbering_year(now)
    number = document_number(policy.prefix, year, await uow.next_sequence(f"dunning:{year}"))
    seller = await uow.seller.current() or invoice.seller or EXAMPLE_SELLER
    notice = dunning_notice(
        receivable,
        level,
        policy,
        number=number,
        now=now,
        today=today,
        buyer=invoice.buyer,
        seller=seller,
    )
    await uow.dunning.add(notice)
    await uow.receivables.save(receivable)
    uow.emit(
        PaymentOverdue(
            invoice_id=notice.invoice_id,
            order_id=notice.order_id,
            amount_due=notice.open_amount,
            currency=notice.currency,
            due_date=notice.due_date,
            days_overdue=notice.days_overdue,
            invoice_number=notice.invoice_number,
            dunning_level=notice.level,
            customer=Customer(email=receivable.customer_email, name=receivable.customer_name),
            notice_number=notice.number,
            fee=notice.fee,
            interest=notice.interest,
            flat_fee=notice.flat_fee or None,
        ),
        aggregate_id=notice.order_id,
    )
    return notice


async def run_dunning(
    transactor: Transactor[BillingUnitOfWork], *, policy: DunningPolicy, clock: Clock
) -> list[DunningNotice]:
    """One round of the sweep: the notices it issued."""
    now = clock()
    first_due = policy.earliest_due_date(now.astimezone(BERLIN).date())
    candidates = await transactor.run(
        lambda uow: uow.receivables.dunning_candidates(first_due, len(policy.levels), SWEEP_BATCH)
    )
    issued = []
    for receivable in candidates:

        async def work(
            uow: BillingUnitOfWork, number: str = receivable.invoice_number
        ) -> DunningNotice | None:
            return await dun(uow, number, policy=policy, now=now)

        notice = await transactor.run(work)
        if notice is not None:
            issued.append(notice)
            if notice.base_rate_unknown_from is not None:
                log.warning(
                    "dunning notice %s claims interest only through %s: no Basiszinssatz "
                    "is known from %s (set KONTOR_BILLING_DUNNING_BASE_RATES, ADR 0070)",
                    notice.number,
                    notice.interest_until,
                    notice.base_rate_unknown_from,
                )
    return issued


class NoticeSource(Protocol):
    async def by_number(self, number: str) -> DunningNotice | None: ...


class DunningDocuments:
    """The PDF of a notice, rendered from the stored notice (which never changes)."""

    def __init__(self, notices: NoticeSource) -> None:
        self.notices = notices

    async def pdf(self, number: str) -> StoredFile:
        notice = await self.notices.by_number(number)
        if notice is None:
            raise NotFound("dunning notice", number)
        # imported here: weasyprint takes seconds to load, not at service start
        from kontor_billing.documents.dunning_pdf import render_notice_pdf

        data = await asyncio.to_thread(render_notice_pdf, notice)
        return StoredFile(data, "application/pdf", f"{number}.pdf")
