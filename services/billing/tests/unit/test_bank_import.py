"""Importing bank statements over the in-memory unit of work: each booking stored once,
matched credits booked as payments (PaymentReceived once per booking however often the
file comes), debits matched to payouts, the rest waiting for a person."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from kontor_billing.application.bank_statements import (
    ManualAllocation,
    NoPayouts,
    ignore_transaction,
    import_statement,
    match_transaction,
)
from kontor_billing.domain.bank_statements import BankTransaction
from kontor_billing.domain.receivables import Receivable
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import PaymentReceived
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "bank"
CAMT02 = (DATA / "camt053_v02_commerzbank.xml").read_bytes()
CAMT08 = (DATA / "camt053_v08_sparkasse.xml").read_bytes()
MT940 = (DATA / "mt940_sparkasse.sta").read_bytes()
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
Billing = FakeTransactor[InMemoryBillingUnitOfWork]


class Files:
    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    async def put_once(self, file_id: str, data: bytes, filename: str | None) -> None:
        self.kept.setdefault(file_id, data)


class Payouts:
    def __init__(self, **items: str) -> None:
        self.items = items

    async def by_end_to_end_id(self, end_to_end_id: str) -> str | None:
        return self.items.get(end_to_end_id)


def receivable(
    number: str, gross: str, name: str, *, order_number: str | None = None
) -> Receivable:
    seq = number.rsplit("-", 1)[1]
    return Receivable.open(
        invoice_number=number,
        invoice_id=f"i-{seq}",
        order_id=f"o-{seq}",
        order_number=order_number or f"B-2026-{seq}",
        customer_email=f"{name.split()[0].lower()}@example.de",
        customer_name=name,
        currency="EUR",
        gross_total=Decimal(gross),
        issue_date=date(2026, 11, 28),
        due_date=date(2026, 12, 12),
        opened_at=AT,
    )


async def ledger(billing: Billing, *receivables: Receivable) -> None:
    async def add(uow: InMemoryBillingUnitOfWork) -> None:
        for r in receivables:
            r.pull_events()
            await uow.receivables.add(r)

    await billing.run(add)


@pytest.fixture
async def billing() -> Billing:
    billing: Billing = FakeTransactor(InMemoryBillingUnitOfWork)
    await ledger(
        billing,
        receivable("RE-2026-000101", "57.98", "Anna Muster"),
        receivable("RE-2026-000102", "50.00", "Bernd Beispiel"),
        receivable("RE-2026-000103", "29.90", "Clara Kundin"),
        receivable("RE-2026-000104", "29.90", "Max Andere"),
    )
    return billing


def transactions(billing: Billing) -> dict[str, BankTransaction]:
    return {t.line.bank_reference or t.id: t for t in billing.db.rows("bank_transactions")}


def payments(billing: Billing) -> list[tuple[str | None, Decimal]]:
    return [(e.invoice_number, e.amount) for e in billing.db.events(PaymentReceived)]


async def test_a_statement_pays_three_invoices_and_leaves_one_credit_waiting(
    billing: Billing,
) -> None:
    files, clock = Files(), FakeClock(AT)
    result = await import_statement(
        billing, files, Payouts(**{"KONTOR-RF-000017": "po-17"}), CAMT02, "a.xml", clock
    )
    assert (result.new, result.known, result.duplicate_file) == (5, 0, False)
    assert (result.matched, result.matched_payouts, result.unmatched) == (3, 1, 1)
    assert payments(billing) == [
        ("RE-2026-000101", Decimal("57.98")),  # by number in the text
        ("RE-2026-000102", Decimal("20.00")),  # a partial payment, by order number
        ("RE-2026-000103", Decimal("29.90")),  # by amount and the buyer's name
    ]
    [anna] = billing.db.events(PaymentReceived)[:1]
    assert (anna.method, anna.source, anna.order_id) == ("bank_transfer", "bank", "o-000101")
    assert anna.received_at == datetime(2026, 12, 1, tzinfo=anna.received_at.tzinfo)
    txs = transactions(billing)
    assert txs["2026120105000114"].status == "unmatched"
    assert txs["2026120105000114"].reason == "no number in the text and no open item of this amount"
    assert txs["2026120105000115"].status == "matched_payout"
    assert txs["2026120105000115"].payout_id == "po-17"
    assert txs["2026120105000112"].matched_by == "auto"
    bernd = await billing.run(lambda uow: uow.receivables.get("RE-2026-000102"))
    assert bernd is not None and (bernd.status, bernd.open_amount) == (
        "partially_paid",
        Decimal("30.00"),
    )
    assert files.kept == {result.statement.id: CAMT02}  # the file as uploaded
    account = billing.db.rows("bank_accounts")[0]
    assert (account.iban, account.balance.amount) == ("DE89370400440532013000", Decimal("1377.13"))


async def test_the_same_statement_twice_adds_nothing_and_pays_nothing_twice(
    billing: Billing,
) -> None:
    clock = FakeClock(AT)
    first = await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)
    events = len(billing.db.outbox)
    again = await import_statement(billing, Files(), NoPayouts(), CAMT02, "again.xml", clock)
    assert (again.new, again.known, again.duplicate_file) == (0, 5, True)
    assert (again.matched, again.unmatched) == (0, 0)
    assert again.statement.id == first.statement.id
    assert len(billing.db.outbox) == events
    assert len(billing.db.rows("bank_transactions")) == 5
    assert len(billing.db.rows("bank_statements")) == 1


async def test_an_overlapping_statement_adds_only_its_new_bookings(billing: Billing) -> None:
    clock = FakeClock(AT)
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)
    # the next day's file repeats the last two entries of the day before (other bytes)
    head, _, rest = CAMT02.partition(b"<Ntry>")
    entries = (b"<Ntry>" + rest).split(b"<Ntry>")[1:]
    overlap = head + b"".join(b"<Ntry>" + e for e in entries[3:])
    overlap = overlap.replace(b"<Id>0532013000-2026-12-01-233</Id>", b"<Id>x-234</Id>")
    result = await import_statement(billing, Files(), NoPayouts(), overlap, "b.xml", clock)
    assert (result.new, result.known, result.duplicate_file) == (0, 2, False)
    assert len(billing.db.rows("bank_statements")) == 2
    assert len(billing.db.events(PaymentReceived)) == 3


async def test_a_booking_left_pending_is_decided_on_the_next_import(billing: Billing) -> None:
    clock = FakeClock(AT)
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)

    async def crash_left_it_pending(uow: InMemoryBillingUnitOfWork) -> None:
        tx = transactions(billing)["2026120105000114"]
        tx.status = "pending"
        await uow.bank_transactions.save(tx)

    await billing.run(crash_left_it_pending)
    again = await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)
    assert (again.new, again.unmatched) == (0, 1)


async def test_a_person_matches_a_waiting_credit_and_it_stays_matched(billing: Billing) -> None:
    clock = FakeClock(AT)
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)
    waiting = transactions(billing)["2026120105000114"]  # 49.25 from Dieter Unbekannt
    matched = await billing.run(
        lambda uow: match_transaction(
            uow,
            waiting.id,
            [
                ManualAllocation("RE-2026-000104", Decimal("29.90")),
                ManualAllocation("RE-2026-000102", Decimal("19.35")),
            ],
            AT,
        )
    )
    assert (matched.status, matched.matched_by) == ("matched", "manual")
    assert payments(billing)[-2:] == [
        ("RE-2026-000104", Decimal("29.90")),
        ("RE-2026-000102", Decimal("19.35")),
    ]
    with pytest.raises(IllegalTransition):
        await billing.run(
            lambda uow: match_transaction(uow, waiting.id, [ManualAllocation("RE-2026-000104")], AT)
        )
    again = await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", clock)
    assert again.new == 0
    assert len(billing.db.events(PaymentReceived)) == 5


async def test_a_manual_match_must_name_real_invoices_and_add_up(billing: Billing) -> None:
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", FakeClock(AT))
    waiting = transactions(billing)["2026120105000114"]
    with pytest.raises(Invalid) as unknown:
        await billing.run(
            lambda uow: match_transaction(uow, waiting.id, [ManualAllocation("RE-2026-999999")], AT)
        )
    assert [p.loc for p in unknown.value.problems] == [("invoice_numbers", 0)]
    with pytest.raises(Invalid) as short:
        await billing.run(
            lambda uow: match_transaction(
                uow, waiting.id, [ManualAllocation("RE-2026-000104", Decimal("10.00"))], AT
            )
        )
    assert short.value.field == ("amounts",)
    # without amounts, several invoices take their open amounts: 29.90 + 50.00 is not 49.25
    with pytest.raises(Invalid):
        await billing.run(
            lambda uow: match_transaction(
                uow,
                waiting.id,
                [ManualAllocation("RE-2026-000104"), ManualAllocation("RE-2026-000102")],
                AT,
            )
        )
    with pytest.raises(NotFound):
        await billing.run(
            lambda uow: match_transaction(uow, "bt-nope", [ManualAllocation("RE-2026-000104")], AT)
        )
    debit = transactions(billing)["2026120105000115"]
    with pytest.raises(Invalid):
        await billing.run(
            lambda uow: match_transaction(uow, debit.id, [ManualAllocation("RE-2026-000104")], AT)
        )
    assert transactions(billing)["2026120105000114"].status == "unmatched"


async def test_a_person_marks_a_credit_as_no_customer_payment(billing: Billing) -> None:
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", FakeClock(AT))
    waiting = transactions(billing)["2026120105000114"]
    with pytest.raises(Invalid):
        await billing.run(lambda uow: ignore_transaction(uow, waiting.id, "  ", AT))
    ignored = await billing.run(
        lambda uow: ignore_transaction(uow, waiting.id, "Vereinsbeitrag, privat", AT)
    )
    assert (ignored.status, ignored.note) == ("ignored", "Vereinsbeitrag, privat")
    with pytest.raises(IllegalTransition):
        await billing.run(
            lambda uow: match_transaction(uow, waiting.id, [ManualAllocation("RE-2026-000104")], AT)
        )


async def test_a_credit_naming_a_paid_invoice_waits_and_the_iban_is_remembered(
    billing: Billing,
) -> None:
    await ledger(billing, receivable("RE-2026-000105", "70.00", "Anna Muster"))
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "a.xml", FakeClock(AT))
    # Anna paid RE-2026-000101 from this IBAN: it vouches for her by amount next time
    paid_from = await billing.run(
        lambda uow: uow.bank_transactions.customers_paying_from("DE02120300000000202051")
    )
    assert paid_from == frozenset({"anna@example.de"})
    await import_statement(billing, Files(), NoPayouts(), MT940, "b.sta", FakeClock(AT))
    # the MT940 credit says "RE-2026-000101 Rest", but 101 is paid: it waits
    txs = transactions(billing)
    assert txs["2026120205000201"].status == "unmatched"
    assert "nothing is open" in (txs["2026120205000201"].reason or "")


async def test_collective_transfer_and_a_number_without_prefix_from_camt_08() -> None:
    billing: Billing = FakeTransactor(InMemoryBillingUnitOfWork)
    await ledger(
        billing,
        receivable("RE-2026-000201", "60.50", "Kaufgut Einkauf"),
        receivable("RE-2026-000202", "40.00", "Kaufgut Einkauf"),
        receivable("RE-2026-000203", "80.00", "Greta Gast"),
    )
    result = await import_statement(billing, Files(), NoPayouts(), CAMT08, "c.xml", FakeClock(AT))
    assert (result.new, result.matched, result.unmatched) == (2, 2, 0)
    assert payments(billing) == [
        ("RE-2026-000201", Decimal("60.50")),
        ("RE-2026-000202", Decimal("40.00")),
        ("RE-2026-000203", Decimal("50.00")),
    ]
    [collective] = [
        t for t in billing.db.rows("bank_transactions") if t.line.amount == Decimal("100.50")
    ]
    assert {f"bank:{collective.id}:RE-2026-000201", f"bank:{collective.id}:RE-2026-000202"} <= {
        p.payment_id for p in billing.db.rows("payments")
    }
    account = billing.db.rows("bank_accounts")[0]
    assert account.balance.amount == Decimal("250.50")


async def test_the_balance_is_the_latest_statements_even_if_an_older_one_comes_later() -> None:
    billing: Billing = FakeTransactor(InMemoryBillingUnitOfWork)
    await import_statement(billing, Files(), NoPayouts(), MT940, "new.sta", FakeClock(AT))
    await import_statement(billing, Files(), NoPayouts(), CAMT02, "old.xml", FakeClock(AT))
    [account] = billing.db.rows("bank_accounts")
    assert (account.balance.amount, account.balance.on) == (Decimal("1449.28"), date(2026, 12, 2))


async def test_a_debit_without_a_known_payout_waits() -> None:
    billing: Billing = FakeTransactor(InMemoryBillingUnitOfWork)
    result = await import_statement(billing, Files(), NoPayouts(), MT940, "b.sta", FakeClock(AT))
    assert result.matched_payouts == 0
    refund = transactions(billing)["2026120205000203"]
    assert (refund.status, refund.reason) == ("unmatched", "no payout with this EndToEndId")
