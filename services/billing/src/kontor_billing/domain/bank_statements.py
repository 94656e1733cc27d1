"""Bank statements and their bookings (issue 12, ADR 0030). Pure: no parser, no database.

A statement (CAMT.053 or MT940, parsed in ``kontor_billing.bankfiles``) is a list of
:class:`StatementLine`; each booked line becomes one :class:`BankTransaction`, stored
ONCE however often it arrives: its id is derived from the booking itself
(:func:`booking_ids`), so the same statement imported twice, or two statements that
overlap by a day, add nothing the second time.

A credit waits to be matched to open receivables (``domain/reconciliation.py``); a debit
is matched to the payout it settles by its EndToEndId.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from kontor_servicekit.domain_errors import IllegalTransition, Invalid

Direction = Literal["credit", "debit"]
TransactionStatus = Literal["pending", "matched", "unmatched", "ignored", "matched_payout"]
TRANSACTION_STATUSES: tuple[TransactionStatus, ...] = (
    "pending",
    "matched",
    "unmatched",
    "ignored",
    "matched_payout",
)
StatementFormat = Literal[
    "camt.053.001.02",
    "camt.053.001.03",
    "camt.053.001.04",
    "camt.053.001.05",
    "camt.053.001.06",
    "camt.053.001.07",
    "camt.053.001.08",
    "camt.053.001.09",
    "camt.053.001.10",
    "camt.053.001.11",
    "camt.053.001.12",
    "camt.053.001.13",
    "mt940",
]

#: What payers and banks write where there is no reference (SEPA's placeholder).
NO_REFERENCE = frozenset({"", "NOTPROVIDED", "NONREF", "NONE"})
ID_PREFIX = "bt-"


def reference_or_none(value: str | None) -> str | None:
    """A bank or end-to-end reference, or None for SEPA's placeholders."""
    if value is None:
        return None
    value = value.strip()
    return None if value.upper() in NO_REFERENCE else value


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    """Signed: negative for a debit balance (an overdraft)."""
    currency: str
    on: date


@dataclass(frozen=True)
class StatementLine:
    """One booking of a statement as the bank sent it (a CAMT TxDtls, an MT940 :61:/:86:)."""

    direction: Direction
    amount: Decimal
    """Positive; ``direction`` says which way the money went."""
    currency: str
    booking_date: date
    value_date: date | None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance: str = ""
    end_to_end_id: str | None = None
    bank_reference: str | None = None
    """The bank's own reference of the booking (CAMT AcctSvcrRef, MT940 ``//`` of :61:)."""
    bank_code: str | None = None
    """The bank transaction code (CAMT BkTxCd domain/family/sub-family, MT940 GVC)."""

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise Invalid(f"a booking's amount must be positive, not {self.amount}")

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == "credit" else -self.amount

    @property
    def match_text(self) -> str:
        """What numbers are looked for in: the remittance text and the end-to-end id
        (a payer's banking app may put the invoice number there)."""
        return " ".join(t for t in (self.remittance, self.end_to_end_id) if t)


@dataclass(frozen=True)
class ParsedStatement:
    format: StatementFormat
    account_iban: str
    currency: str
    lines: tuple[StatementLine, ...]
    statement_id: str | None = None
    """The bank's id of the statement (CAMT Stmt/Id, MT940 :20: and :28C:)."""
    sequence_number: str | None = None
    opening: Balance | None = None
    closing: Balance | None = None
    skipped: int = 0
    """Entries not booked yet (CAMT status PDNG/INFO): not taken."""


def _fold(text: str | None) -> str:
    """Text compared as a bank would: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _digest(*parts: str) -> str:
    return ID_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def booking_ids(
    account_iban: str, lines: tuple[StatementLine, ...] | list[StatementLine]
) -> list[str]:
    """The identity of each line, the same in every statement that carries it (ADR 0030).

    - With the bank's reference (AcctSvcrRef / MT940 bank reference): the account, the
      reference and the line's ordinal among the lines with that reference (a batch
      entry carries one reference for several transactions, always in the same order).
    - Without: the account, booking date, value date, signed amount, currency,
      counterparty IBAN, end-to-end id and folded remittance text, and the line's
      ordinal among identical ones (two identical transfers on one day are two bookings).
    """
    seen: Counter[tuple[str, ...]] = Counter()
    ids = []
    for line in lines:
        reference = reference_or_none(line.bank_reference)
        if reference is not None:
            key: tuple[str, ...] = ("ref", account_iban, reference)
        else:
            key = (
                "fields",
                account_iban,
                line.booking_date.isoformat(),
                line.value_date.isoformat() if line.value_date else "",
                str(line.signed_amount),
                line.currency,
                (line.counterparty_iban or "").replace(" ", "").upper(),
                reference_or_none(line.end_to_end_id) or "",
                _fold(line.remittance),
            )
        seen[key] += 1
        ids.append(_digest(*key, str(seen[key])))
    return ids


@dataclass(frozen=True)
class Allocation:
    """The part of a credit applied to one invoice (the payment booked for it)."""

    invoice_number: str
    amount: Decimal
    order_id: str | None = None
    customer_email: str | None = None


@dataclass
class BankTransaction:
    """One booking on the merchant's account, stored once (``id`` from :func:`booking_ids`)."""

    id: str
    account_iban: str
    statement_id: str
    """The first imported statement that carried it."""
    line: StatementLine
    imported_at: datetime
    status: TransactionStatus = "pending"
    allocations: list[Allocation] = field(default_factory=list)
    matched_by: Literal["auto", "manual"] | None = None
    payout_id: str | None = None
    note: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    """Why a credit waits (no reference, several candidates, ...)."""

    @property
    def direction(self) -> Direction:
        return self.line.direction

    @property
    def open(self) -> bool:
        """Still to be decided (never tried, or waiting for a person)."""
        return self.status in ("pending", "unmatched")

    def payment_id(self, invoice_number: str) -> str:
        """The id of the payment booked for ``invoice_number``: the same on every import,
        so the ledger applies it once (ADR 0030)."""
        return f"bank:{self.id}:{invoice_number}"

    def _require_open(self, action: str) -> None:
        if not self.open:
            raise IllegalTransition(f"bank transaction {self.id}", action, self.status)

    def match(
        self, allocations: list[Allocation], *, by: Literal["auto", "manual"], now: datetime
    ) -> None:
        self._require_open("match")
        if self.direction != "credit":
            raise Invalid("only a credit pays invoices", field=("invoice_numbers",))
        if not allocations:
            raise Invalid("name at least one invoice", field=("invoice_numbers",))
        total = sum((a.amount for a in allocations), Decimal("0"))
        if total != self.line.amount:
            raise Invalid(
                f"the amounts ({total}) must add up to the booking's {self.line.amount}",
                field=("amounts",),
            )
        if len({a.invoice_number for a in allocations}) != len(allocations):
            raise Invalid("an invoice is named twice", field=("invoice_numbers",))
        self.allocations = list(allocations)
        self.status = "matched"
        self.matched_by = by
        self.decided_at = now
        self.reason = None

    def wait(self, reason: str) -> None:
        """Could not be matched with confidence: a person decides."""
        self._require_open("leave unmatched")
        self.status = "unmatched"
        self.reason = reason

    def ignore(self, note: str, now: datetime) -> None:
        """Not a customer payment (a refund from a supplier, interest, a private transfer)."""
        self._require_open("ignore")
        if not note.strip():
            raise Invalid("say why it is not a customer payment", field=("note",))
        self.status = "ignored"
        self.note = note.strip()
        self.decided_at = now

    def settles_payout(self, payout_id: str, now: datetime) -> None:
        if self.direction != "debit":
            raise Invalid("only a debit settles a payout")
        self._to_payout(payout_id, now)

    def brings_back_payout(self, payout_id: str, now: datetime) -> None:
        """A credit that returns a transfer billing made (ADR 0077)."""
        if self.direction != "credit":
            raise Invalid("only a credit brings a payout back")
        self._to_payout(payout_id, now)

    def _to_payout(self, payout_id: str, now: datetime) -> None:
        self._require_open("match to a payout")
        self.status = "matched_payout"
        self.payout_id = payout_id
        self.matched_by = "auto"
        self.decided_at = now


@dataclass(frozen=True)
class StatementPart:
    """One account's statement within an imported file (CAMT ``Stmt``, MT940 block)."""

    account_iban: str
    currency: str
    statement_id: str | None
    sequence_number: str | None
    opening: Balance | None
    closing: Balance | None
    transaction_ids: tuple[str, ...]
    new: int
    known: int
    skipped: int


@dataclass
class BankStatement:
    """An imported statement file, kept unchanged (GoBD), and what it said."""

    id: str
    """The SHA-256 of the file as uploaded: the same file is the same statement."""
    format: StatementFormat
    filename: str | None
    size: int
    imported_at: datetime
    parts: list[StatementPart]

    @property
    def new(self) -> int:
        return sum(p.new for p in self.parts)

    @property
    def known(self) -> int:
        return sum(p.known for p in self.parts)


@dataclass
class BankAccount:
    """A bank account of the merchant, with the balance of its latest statement."""

    iban: str
    currency: str
    balance: Balance | None = None
    statement_id: str | None = None
    """The file (SHA-256) whose closing balance this is."""
    updated_at: datetime | None = None

    def take(self, closing: Balance | None, statement_id: str, now: datetime) -> None:
        """Keep ``closing`` if it is the latest (a re-imported older file changes nothing)."""
        if closing is None:
            return
        if self.balance is not None and closing.on < self.balance.on:
            return
        self.balance = closing
        self.statement_id = statement_id
        self.updated_at = now


@dataclass(frozen=True)
class ImportResult:
    statement: BankStatement
    duplicate_file: bool
    new: int
    known: int
    matched: int
    matched_payouts: int
    unmatched: int
