"""Retention by kind (§147 AO as amended from 2025, ADR 0027): the period counts from the
end of the calendar year, nothing is deletable a day before it ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.invoicing import _store
from kontor_billing.application.retention import purge_documents
from kontor_billing.domain.audit import first_broken
from kontor_billing.domain.invoice import KINDS, Invoice, InvoiceLine, Party
from kontor_billing.domain.retention import (
    KIND_CLASSES,
    Deletable,
    RetentionPeriods,
    last_deletable_year,
    retention_ends,
)
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.settings import BillingSettings
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.invoices import to_document
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Conflict, NotFound
from kontor_servicekit.fakes import FakeTransactor
from pydantic import ValidationError

pytestmark = pytest.mark.unit

PERIODS = RetentionPeriods()


def test_every_kind_billing_stores_has_a_period_by_its_class() -> None:
    assert set(KINDS) <= set(KIND_CLASSES)
    assert {PERIODS.years(k) for k in ("invoice", "cancellation", "correction")} == {8}
    assert PERIODS.years("payment") == PERIODS.years("incoming_invoice") == 8
    assert PERIODS.years("audit_chain") == PERIODS.years("journal") == 10
    assert PERIODS.years("quote") == PERIODS.years("dunning_letter") == 6
    with pytest.raises(KeyError):
        PERIODS.years("shopping_list")


def test_a_2017_invoice_is_deletable_on_2026_01_01_a_2018_one_is_not() -> None:
    new_year = date(2026, 1, 1)
    old = Deletable.of("RE-2017-000001", "invoice", 2017, PERIODS)
    young = Deletable.of("RE-2018-000001", "invoice", 2018, PERIODS)
    assert old.retention_ends == date(2025, 12, 31)
    assert not old.deletable_on(date(2025, 12, 31))
    assert old.deletable_on(new_year)
    assert not young.deletable_on(new_year)
    assert young.deletable_on(date(2027, 1, 1))
    assert last_deletable_year(new_year, 8) == 2017


def test_books_and_letters_by_their_own_periods() -> None:
    assert retention_ends(2015, PERIODS.years("audit_chain")) == date(2025, 12, 31)
    assert (
        Deletable.of("RE-2016", "audit_chain", 2016, PERIODS).deletable_on(date(2026, 1, 1))
        is False
    )
    assert Deletable.of("AN-2019-1", "quote", 2019, PERIODS).deletable_on(date(2026, 1, 1))


def test_the_periods_are_settings_that_cannot_go_below_the_law(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTOR_BILLING_RETENTION_BOOKING_VOUCHER_YEARS", "10")
    assert BillingSettings().retention_periods.years("invoice") == 10
    monkeypatch.setenv("KONTOR_BILLING_RETENTION_BOOKING_VOUCHER_YEARS", "7")
    with pytest.raises(ValidationError):
        BillingSettings()


def _invoice(number: str, issued_at: datetime) -> Invoice:
    line = InvoiceLine(
        1, "T", "T-Shirt", 1, Decimal("10"), Decimal("0.19"), Decimal("10.00"), Decimal("1.90")
    )
    return Invoice.issue(
        invoice_id=number,
        number=number,
        order_id=f"o-{number}",
        order_number=None,
        buyer=Party(
            name="Anna Muster",
            email="anna@example.de",
            street="Hauptstr. 1",
            postcode="10115",
            city="Berlin",
            country="DE",
        ),
        currency="EUR",
        lines=[line],
        issued_at=issued_at,
        seller=EXAMPLE_SELLER,
    )


async def _chains_hold(transactor: FakeTransactor[Any]) -> bool:
    entries = transactor.db.rows("audit")
    documents = {i.number: document_sha256(to_document(i)) for i in transactor.db.rows("invoices")}
    for chain in {e.chain for e in entries}:
        ordered = sorted((e for e in entries if e.chain == chain), key=lambda e: e.seq)
        if first_broken(ordered, documents) is not None:
            return False
    return True


async def test_the_purge_deletes_only_what_has_ended_and_leaves_a_tombstone() -> None:
    transactor = FakeTransactor(InMemoryBillingUnitOfWork)
    clock = FakeClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
    old = _invoice("RE-2017-000001", datetime(2017, 5, 2, 10, tzinfo=UTC))
    young = _invoice("RE-2018-000001", datetime(2018, 1, 2, 10, tzinfo=UTC))
    for invoice in (old, young):
        await transactor.run(lambda uow, i=invoice: _store(uow, i, at=i.issued_at))
    new_year = date(2026, 1, 1)

    def purge(*numbers: str) -> Any:
        return purge_documents(
            transactor, list(numbers), periods=PERIODS, clock=clock, today=new_year
        )

    # one younger number refuses the whole request: nothing is deleted
    with pytest.raises(Conflict, match=r"RE-2018-000001 must be kept until 31\.12\.2026"):
        await purge("RE-2017-000001", "RE-2018-000001")
    assert len(transactor.db.rows("invoices")) == 2
    with pytest.raises(NotFound):
        await purge("RE-2017-999999")

    [purged] = await purge("RE-2017-000001")
    assert purged.document_sha256 == document_sha256(to_document(old))
    assert [i.number for i in transactor.db.rows("invoices")] == ["RE-2018-000001"]
    [tombstone] = [e for e in transactor.db.rows("audit") if e.action == "purged"]
    assert (tombstone.chain, tombstone.action, tombstone.document_sha256) == (
        "RE-2017",
        "purged",
        purged.document_sha256,
    )
    assert await _chains_hold(transactor)  # the chain still verifies without the document

    # a tombstone whose hash is not the issued document's is found
    forged = replace(tombstone, document_sha256="f" * 64)
    issued = next(
        e for e in transactor.db.rows("audit") if e.action == "issued" and e.chain == "RE-2017"
    )
    broken = first_broken([issued, forged], {})
    assert broken is not None and broken.reason == "document differs from the one issued"
