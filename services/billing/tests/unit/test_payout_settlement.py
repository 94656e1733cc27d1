"""A debit on the bank statement whose EndToEndId is a payout item's settles that item
(the bank import of ADR 0030 and the payouts of ADR 0033, in one unit of work)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from kontor_billing.application.bank_statements import import_statement
from kontor_billing.domain.payouts import PayoutItem
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

CAMT02 = Path(__file__).resolve().parents[1] / "data" / "bank" / "camt053_v02_commerzbank.xml"
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
E2E = "KONTOR-RF-000017"  # the refund debit in the Commerzbank sample


class Files:
    async def put_once(self, file_id: str, data: bytes, filename: str | None) -> None:
        return None


class ItemsByEndToEndId:
    """The payouts store as the bank import looks it up (PayoutQueries in production)."""

    def __init__(self, transactor: FakeTransactor[InMemoryBillingUnitOfWork]) -> None:
        self.transactor = transactor

    async def by_end_to_end_id(self, end_to_end_id: str) -> str | None:
        rows = self.transactor.db.rows("payout_items")
        return next((i.id for i in rows if i.end_to_end_id == end_to_end_id), None)


async def test_the_statements_debit_settles_the_sent_refund_once() -> None:
    transactor = FakeTransactor(InMemoryBillingUnitOfWork)
    item = PayoutItem(
        id="refund:KR-2026-000017",
        number=E2E,
        kind="refund",
        route="sepa",
        source_id="KR-2026-000017",
        source_number="KR-2026-000017",
        amount=Decimal("30.00"),
        currency="EUR",
        created_at=AT,
        status="pending",
        creditor_name="Anna Muster",
        remittance="Erstattung",
        iban="DE02120300000000202051",
    )
    item.send("ZL-2026-000001", AT)
    await transactor.run(lambda uow: uow.payouts.add(item))
    clock = FakeClock(AT)
    result = await import_statement(
        transactor, Files(), ItemsByEndToEndId(transactor), CAMT02.read_bytes(), "a.xml", clock
    )
    assert result.matched_payouts == 1
    [settled] = transactor.db.rows("payout_items")
    assert (settled.status, settled.settled_at) == ("settled", AT)
    again = await import_statement(
        transactor, Files(), ItemsByEndToEndId(transactor), CAMT02.read_bytes(), "a.xml", clock
    )
    assert again.new == 0
    assert [h for h, _ in transactor.db.rows("payout_items")[0].history].count("settled") == 1
