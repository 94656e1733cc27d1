"""Bank statements in, payments out (issue 12, ADR 0030).

``import_statement`` keeps the file unchanged (GridFS, GoBD), stores each booking once
and then reconciles every booking not decided yet, each in a unit of work of its own
(a statement of hundreds of bookings never holds one long transaction; a booking left
``pending`` by a crash is decided on the next import of any file that carries it):

- a credit is matched by ``domain/reconciliation.decide``; a match books one payment per
  invoice through ``book_payment`` with the payment id ``bank:<booking id>:<invoice>``,
  so ``PaymentReceived`` goes out once per booking however often a statement arrives;
- a debit is matched to the payout whose EndToEndId it carries (``PayoutLookup``).

What is not sure waits (``unmatched``) until a person matches or ignores it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Protocol, cast

from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import FieldProblem, Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.payments import book_payment
from kontor_billing.application.payouts import PayoutsUnitOfWork, return_payout, settle_payout
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.bankfiles import parse_statement
from kontor_billing.domain.bank_statements import (
    Allocation,
    BankAccount,
    BankStatement,
    BankTransaction,
    ImportResult,
    ParsedStatement,
    StatementPart,
    booking_ids,
)
from kontor_billing.domain.receivables import PaymentBooking
from kontor_billing.domain.reconciliation import Suggestion, decide

METHOD = "bank_transfer"


class StatementFiles(Protocol):
    """Where statement files are kept as uploaded (never replaced)."""

    async def put_once(self, file_id: str, data: bytes, filename: str | None) -> None: ...


class PayoutLookup(Protocol):
    """The payouts (refunds, supplier payments) billing sent: a debit settles one."""

    async def by_end_to_end_id(self, end_to_end_id: str) -> str | None:
        """The id of the payout item with this EndToEndId, or None."""
        ...


class NoPayouts:
    """The default until the payouts store is wired in: no payout is known."""

    async def by_end_to_end_id(self, end_to_end_id: str) -> str | None:
        return None


@dataclass(frozen=True)
class TransactionView:
    """A booking for display, with suggestions while it waits (computed when read)."""

    transaction: BankTransaction
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class Stored:
    statement: BankStatement
    duplicate_file: bool
    new: int
    known: int
    undecided: list[str]
    """Bookings of the file not decided yet (new ones, and any a crash left pending)."""


async def _store_bookings(
    uow: BillingUnitOfWork,
    parsed: list[ParsedStatement],
    file_id: str,
    filename: str | None,
    size: int,
    now: datetime,
) -> Stored:
    """The statement file's record and its new bookings, in one unit of work."""
    parts, undecided = [], []
    for statement in parsed:
        ids = booking_ids(statement.account_iban, statement.lines)
        known = await uow.bank_transactions.known(ids)
        new = 0
        for tx_id, line in zip(ids, statement.lines, strict=True):
            if tx_id in known:
                # a debit whose payout was not known at its first import is looked up again
                waits_for_payout = known[tx_id] == "unmatched" and line.direction == "debit"
                if known[tx_id] == "pending" or (waits_for_payout and line.end_to_end_id):
                    undecided.append(tx_id)
                continue
            await uow.bank_transactions.add(
                BankTransaction(
                    id=tx_id,
                    account_iban=statement.account_iban,
                    statement_id=file_id,
                    line=line,
                    imported_at=now,
                )
            )
            new += 1
            undecided.append(tx_id)
        parts.append(
            StatementPart(
                account_iban=statement.account_iban,
                currency=statement.currency,
                statement_id=statement.statement_id,
                sequence_number=statement.sequence_number,
                opening=statement.opening,
                closing=statement.closing,
                transaction_ids=tuple(ids),
                new=new,
                known=len(ids) - new,
                skipped=statement.skipped,
            )
        )
        account = await uow.bank_statements.account(statement.account_iban) or BankAccount(
            iban=statement.account_iban, currency=statement.currency
        )
        account.take(statement.closing, file_id, now)
        await uow.bank_statements.save_account(account)
    new_total = sum(p.new for p in parts)
    known_total = sum(p.known for p in parts)
    existing = await uow.bank_statements.get(file_id)
    if existing is not None:
        return Stored(existing, True, new_total, known_total, undecided)
    record = BankStatement(
        id=file_id,
        format=parsed[0].format,
        filename=filename,
        size=size,
        imported_at=now,
        parts=parts,
    )
    await uow.bank_statements.add(record)
    return Stored(record, False, new_total, known_total, undecided)


def received_at(tx: BankTransaction) -> datetime:
    """When the money arrived: the booking day (value date if given), in Berlin."""
    day = tx.line.value_date or tx.line.booking_date
    return datetime.combine(day, time(0), tzinfo=BERLIN)


async def _pay(uow: BillingUnitOfWork, tx: BankTransaction, now: datetime) -> None:
    for allocation in tx.allocations:
        await book_payment(
            uow,
            PaymentBooking(
                payment_id=tx.payment_id(allocation.invoice_number),
                amount=allocation.amount,
                currency=tx.line.currency,
                method=METHOD,
                received_at=received_at(tx),
                source="bank",
                reference=(tx.line.remittance or tx.line.end_to_end_id or "")[:140] or None,
                invoice_number=allocation.invoice_number,
            ),
            now,
        )


async def reconcile(
    uow: BillingUnitOfWork, transaction_id: str, payouts: PayoutLookup, now: datetime
) -> str | None:
    """Decide one booking not decided yet: its new status, None if nothing changed (decided
    already, or a waiting debit whose payout is still unknown)."""
    tx = await uow.bank_transactions.get(transaction_id)
    if tx is None:
        raise NotFound("bank transaction", transaction_id)
    retry_payout = tx.status == "unmatched" and tx.direction == "debit"
    if tx.status != "pending" and not retry_payout:
        return None
    if tx.direction == "debit":
        payout = (
            await payouts.by_end_to_end_id(tx.line.end_to_end_id) if tx.line.end_to_end_id else None
        )
        if payout is not None:
            tx.settles_payout(payout, now)
            # the payout item the debit pays is settled in the same unit (ADR 0033)
            await settle_payout(cast(PayoutsUnitOfWork, uow), tx.line.end_to_end_id or "", at=now)
        elif retry_payout:
            return None
        else:
            tx.wait("no payout with this EndToEndId")
    elif await _returns_payout(uow, tx, payouts, now):
        pass  # a refund transfer came back (ADR 0077)
    else:
        payer = (
            await uow.bank_transactions.customers_paying_from(tx.line.counterparty_iban)
            if tx.line.counterparty_iban
            else frozenset()
        )
        items = await uow.open_items.candidates([tx.line], payer)
        decision = decide(tx.line, items, payer)
        if decision.allocations:
            tx.match(list(decision.allocations), by="auto", now=now)
            await _pay(uow, tx, now)
        else:
            tx.wait(decision.reason or "no match")
    await uow.bank_transactions.save(tx)
    return tx.status


async def _returns_payout(
    uow: BillingUnitOfWork, tx: BankTransaction, payouts: PayoutLookup, now: datetime
) -> bool:
    """Whether the credit ``tx`` brings back a refund billing sent: it carries that
    transfer's EndToEndId (``AZ-…``, billing's own)."""
    e2e = tx.line.end_to_end_id
    payout = await payouts.by_end_to_end_id(e2e) if e2e else None
    if payout is None or e2e is None:
        return False
    reason = " ".join(x for x in (tx.line.bank_code, tx.line.remittance) if x) or "no reason"
    returned = await return_payout(
        cast(PayoutsUnitOfWork, uow),
        e2e,
        booking_id=tx.id,
        reason=reason,
        received_at=received_at(tx),
        at=now,
    )
    if returned is not None:
        tx.brings_back_payout(payout, now)
    return returned is not None


async def import_statement(
    transactor: Transactor[BillingUnitOfWork],
    files: StatementFiles,
    payouts: PayoutLookup,
    raw: bytes,
    filename: str | None,
    clock: Clock,
) -> ImportResult:
    parsed = parse_statement(raw)
    file_id = hashlib.sha256(raw).hexdigest()
    # GridFS is not transactional: the file first, under its hash (a retry stores nothing
    # twice); a statement record never points at a missing file
    await files.put_once(file_id, raw, filename)
    now = clock()
    stored = await transactor.run(
        lambda uow: _store_bookings(uow, parsed, file_id, filename, len(raw), now)
    )
    counts = {"matched": 0, "matched_payout": 0, "unmatched": 0}
    for tx_id in dict.fromkeys(stored.undecided):
        status = await transactor.run(_reconciler(tx_id, payouts, clock))
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return ImportResult(
        statement=stored.statement,
        duplicate_file=stored.duplicate_file,
        new=stored.new,
        known=stored.known,
        matched=counts["matched"],
        matched_payouts=counts["matched_payout"],
        unmatched=counts["unmatched"],
    )


def _reconciler(
    tx_id: str, payouts: PayoutLookup, clock: Clock
) -> Callable[[BillingUnitOfWork], Awaitable[str | None]]:
    return lambda uow: reconcile(uow, tx_id, payouts, clock())


@dataclass(frozen=True)
class ManualAllocation:
    invoice_number: str
    amount: Decimal | None = None
    """None: the invoice's open amount (or, for a single invoice, the whole booking)."""


async def _allocations(
    uow: BillingUnitOfWork, tx: BankTransaction, wanted: list[ManualAllocation]
) -> list[Allocation]:
    problems, found = [], []
    for index, item in enumerate(wanted):
        receivable = await uow.receivables.get(item.invoice_number)
        if receivable is None:
            problems.append(FieldProblem(("invoice_numbers", index), "no such invoice"))
            continue
        if receivable.currency != tx.line.currency:
            problems.append(
                FieldProblem(("invoice_numbers", index), f"an invoice in {receivable.currency}")
            )
            continue
        if item.amount is not None:
            amount = item.amount
        elif len(wanted) == 1:
            amount = tx.line.amount
        else:
            amount = receivable.open_amount
        found.append(
            Allocation(
                invoice_number=receivable.invoice_number,
                amount=amount,
                order_id=receivable.order_id,
                customer_email=receivable.customer_email,
            )
        )
    if problems:
        raise Invalid("the booking cannot be matched to these invoices", problems=problems)
    return found


async def match_transaction(
    uow: BillingUnitOfWork, transaction_id: str, wanted: list[ManualAllocation], now: datetime
) -> BankTransaction:
    """A person matches a waiting credit: one payment per invoice named."""
    tx = await uow.bank_transactions.get(transaction_id)
    if tx is None:
        raise NotFound("bank transaction", transaction_id)
    tx.match(await _allocations(uow, tx, wanted), by="manual", now=now)
    await _pay(uow, tx, now)
    await uow.bank_transactions.save(tx)
    return tx


async def ignore_transaction(
    uow: BillingUnitOfWork, transaction_id: str, note: str, now: datetime
) -> BankTransaction:
    """A person says the booking is no customer payment (with why)."""
    tx = await uow.bank_transactions.get(transaction_id)
    if tx is None:
        raise NotFound("bank transaction", transaction_id)
    tx.ignore(note, now)
    await uow.bank_transactions.save(tx)
    return tx
