"""An approved incoming invoice becomes ``paid`` when the bank statement settles the
transfer of its payout item, in the same unit of work (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_billing.application.payouts import settle_payout
from kontor_billing.domain.incoming import IncomingInvoice, InvoiceFields, ValidationReport
from kontor_billing.domain.payouts import PayoutItem
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
E2E = "AZ-2026-000042"


def invoice(status: str) -> IncomingInvoice:
    return IncomingInvoice(
        id="in-1",
        sha256="0" * 64,
        file_id="blob-1",
        filename="invoice.xml",
        media_type="application/xml",
        size=100,
        format="cii",
        fields=InvoiceFields(number="R-1", currency="EUR", amount_due=Decimal("119.00")),
        report=ValidationReport(outcome="accepted", rule_sets=("EN16931",)),
        status=status,  # type: ignore[arg-type]
        received_at=AT - timedelta(days=10),
        approved_account="3400" if status == "approved" else None,
    )


def supplier_item(kind: str = "supplier", source_id: str = "in-1") -> PayoutItem:
    item = PayoutItem(
        id=f"{kind}:{source_id}",
        number=E2E,
        kind=kind,  # type: ignore[arg-type]
        route="sepa",
        source_id=source_id,
        source_number="R-1",
        amount=Decimal("119.00"),
        currency="EUR",
        created_at=AT - timedelta(days=2),
        status="pending",
        creditor_name="Lieferant GmbH",
        remittance="R-1",
        iban="DE02120300000000202051",
    )
    item.send("ZL-2026-000001", AT - timedelta(days=1))
    return item


async def world(status: str, item: PayoutItem) -> FakeTransactor[InMemoryBillingUnitOfWork]:
    transactor = FakeTransactor(InMemoryBillingUnitOfWork)

    async def seed(uow: InMemoryBillingUnitOfWork) -> None:
        await uow.incoming.add(invoice(status))
        await uow.payouts.add(item)

    await transactor.run(seed)
    return transactor


async def settle(transactor: FakeTransactor[InMemoryBillingUnitOfWork], at: datetime) -> None:
    await transactor.run(lambda uow: settle_payout(uow, E2E, at=at))


async def test_the_settled_transfer_makes_the_approved_invoice_paid_once() -> None:
    transactor = await world("approved", supplier_item())
    await settle(transactor, AT)
    [stored] = transactor.db.rows("incoming_invoices")
    assert (stored.status, stored.paid_at) == ("paid", AT)
    [item] = transactor.db.rows("payout_items")
    assert item.status == "settled"
    await settle(transactor, AT + timedelta(days=1))  # the statement imported again
    assert transactor.db.rows("incoming_invoices")[0].paid_at == AT


async def test_an_invoice_not_approved_any_more_or_a_refund_item_is_left_alone() -> None:
    transactor = await world("rejected", supplier_item())
    await settle(transactor, AT)
    assert transactor.db.rows("incoming_invoices")[0].status == "rejected"
    assert transactor.db.rows("payout_items")[0].status == "settled"
    refund = await world("approved", supplier_item(kind="refund"))
    await settle(refund, AT)
    assert refund.db.rows("incoming_invoices")[0].status == "approved"
