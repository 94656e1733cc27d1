"""A supplier's invoice is paid when the bank shows the transfer paying it (issue 12).

The bank statement settles the payout item (``settle_payout``); for a supplier payment
the approved incoming invoice it pays becomes ``paid`` in the same unit of work, so the
due list, the payment runs and the invoice's record agree with the bank.
"""

from __future__ import annotations

from datetime import datetime

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.incoming import mark_paid
from kontor_billing.domain.payouts import PayoutItem


async def mark_supplier_invoice_paid(
    uow: BillingUnitOfWork, item: PayoutItem, at: datetime
) -> None:
    """The incoming invoice of a settled supplier item, ``paid``; other items, an invoice
    no longer there or one not approved any more are left as they are."""
    if item.kind != "supplier" or item.status != "settled":
        return
    invoice = await uow.incoming.get(item.source_id)
    if invoice is None or invoice.status == "paid":
        return
    if mark_paid(invoice, at):
        await uow.incoming.save(invoice)
