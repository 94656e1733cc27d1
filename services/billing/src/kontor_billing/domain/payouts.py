"""Payouts: money billing sends out. Pure: no framework, broker or database.

Two kinds of payout item:

- a **refund** to a customer, from a credit document billing issued (a correction,
  Rechnungskorrektur, or a cancellation, Storno) for what the customer had paid beyond
  what the invoice still asks. Where the order was paid by card or wallet through the
  provider (a payment with the provider's reference, the PaymentIntent), it goes back
  through the provider's refund call (route ``provider``); otherwise as a SEPA credit
  transfer (route ``sepa``) to the account the customer paid from.
- a **supplier** payment of an approved incoming invoice, by SEPA credit transfer,
  the cash discount (Skonto) taken when the transfer is executed by its deadline.

Statuses: ``awaiting_account`` (a SEPA refund whose customer account is not known yet)
-> ``pending`` -> ``sent`` (in a payment run's pain.001 file, or accepted by the
provider but not final) -> ``settled`` (seen on the bank statement, or the provider's
refund succeeded); ``failed`` when the provider refused it. A SEPA item is in at most
one payment run: a run takes only ``pending`` items and makes them ``sent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from kontor_contracts.money import quantize
from kontor_servicekit.domain_errors import IllegalTransition, Invalid

ZERO = Decimal("0")

PayoutKind = Literal["refund", "supplier"]
PayoutRoute = Literal["sepa", "provider"]
PayoutStatus = Literal["awaiting_account", "pending", "sent", "settled", "failed"]
PAYOUT_STATUSES: tuple[PayoutStatus, ...] = (
    "awaiting_account",
    "pending",
    "sent",
    "settled",
    "failed",
)
PROVIDER_METHODS = frozenset({"card", "wallet"})
"""Payment methods paid through the card/wallet provider: refunded through it."""

END_TO_END_PREFIX = "AZ-"
"""Auszahlung: the EndToEndId of item ``AZ-2026-000001`` is its number."""
RUN_PREFIX = "ZL-"
"""Zahlungslauf: the payment run ``ZL-2026-000001`` (also the file's MsgId)."""


@dataclass(frozen=True)
class Skonto:
    """A cash discount: ``percent`` off when paid by ``until`` (inclusive)."""

    percent: Decimal
    until: date


@dataclass(frozen=True)
class Payable:
    """An approved incoming invoice, as the payouts read it (incoming invoices own it)."""

    id: str
    number: str
    supplier_name: str
    iban: str | None
    amount_due: Decimal
    currency: str
    due_date: date | None
    skonto: Skonto | None = None
    bic: str | None = None


@dataclass(frozen=True)
class PaidSummary:
    """What the customer paid on an order, as the payouts read it (payments own it)."""

    paid: Decimal
    method: str | None
    provider_reference: str | None = None
    """The provider's PaymentIntent (``pi_...``) when paid by card or wallet."""
    payer_iban: str | None = None
    payer_name: str | None = None


@dataclass(frozen=True)
class CreditDocument:
    """A correction or cancellation and what its invoice and earlier credits add up to."""

    number: str
    id: str
    order_id: str
    currency: str
    credit: Decimal
    """What this document credits, a positive figure."""
    invoice_gross: Decimal
    credits_total: Decimal
    """All credits of the invoice including this one, positive."""
    buyer_name: str


def refund_amount(doc: CreditDocument, paid: PaidSummary | None, refunded: Decimal) -> Decimal:
    """What goes back to the customer for ``doc``: what they paid beyond what the
    invoice still asks after every credit, less what was refunded already, at most
    the document's credit. Zero when they had not paid (the credit lowers the debt)."""
    if paid is None:
        return ZERO
    still_asked = max(doc.invoice_gross - doc.credits_total, ZERO)
    over = paid.paid - still_asked - refunded
    return quantize(min(max(over, ZERO), doc.credit), doc.currency)


def refund_route(paid: PaidSummary) -> PayoutRoute:
    if paid.method in PROVIDER_METHODS and paid.provider_reference:
        return "provider"
    return "sepa"


def payable_amount(payable: Payable, execution_date: date) -> tuple[Decimal, Decimal]:
    """(amount to transfer, discount taken) when executed on ``execution_date``."""
    if payable.skonto is not None and execution_date <= payable.skonto.until:
        discount = quantize(payable.amount_due * payable.skonto.percent / 100, payable.currency)
        return payable.amount_due - discount, discount
    return payable.amount_due, ZERO


def payable_is_due(payable: Payable, execution_date: date, due_until: date) -> bool:
    """Whether a run executed on ``execution_date`` paying what is due by ``due_until``
    pays it: its Skonto deadline falls in the window (the last day the discount is
    still taken) or its due date does (or it has none)."""
    if payable.skonto is not None and execution_date <= payable.skonto.until <= due_until:
        return True
    return payable.due_date is None or payable.due_date <= due_until


def remittance(text: str) -> str:
    """SEPA remittance text: at most 140 characters."""
    return text[:140]


@dataclass
class PayoutItem:
    id: str
    number: str
    """``AZ-YYYY-NNNNNN``; also the EndToEndId of its transfer or the provider's
    idempotency key."""
    kind: PayoutKind
    route: PayoutRoute
    source_id: str
    source_number: str
    amount: Decimal
    currency: str
    created_at: datetime
    status: PayoutStatus
    creditor_name: str
    remittance: str
    order_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    provider_reference: str | None = None
    provider_refund_id: str | None = None
    discount: Decimal = ZERO
    """Skonto taken (supplier payments)."""
    run_id: str | None = None
    failure: str | None = None
    sent_at: datetime | None = None
    settled_at: datetime | None = None
    history: list[tuple[str, datetime]] = field(default_factory=list)
    ledger_payment_id: str | None = None
    """A refund's booking on the receivables ledger (ADR 0071), once it was handed over."""
    returns: int = 0
    """How often the bank brought its transfer back (ADR 0077): each return makes it wait
    for another account, and its next hand-over is booked anew."""

    @property
    def end_to_end_id(self) -> str | None:
        return self.number if self.route == "sepa" else None

    def _move(self, to: PayoutStatus, at: datetime, allowed: tuple[PayoutStatus, ...]) -> None:
        if self.status not in allowed:
            raise IllegalTransition(f"payout item {self.number}", to, self.status)
        self.status = to
        self.history.append((to, at))

    def give_account(self, iban: str, name: str | None, bic: str | None, at: datetime) -> None:
        if self.route != "sepa" or self.status not in ("awaiting_account", "pending"):
            raise IllegalTransition(f"payout item {self.number}", "give an account", self.status)
        self.iban, self.bic = iban, bic
        if name:
            self.creditor_name = name
        if self.status == "awaiting_account":
            self._move("pending", at, ("awaiting_account",))

    def send(self, run_id: str | None, at: datetime) -> None:
        self._move("sent", at, ("pending",))
        self.run_id = run_id
        self.sent_at = at

    def settle(self, at: datetime) -> None:
        if self.status == "settled":
            return  # a statement imported again settles nothing twice
        if self.returns and self.status in ("awaiting_account", "pending"):
            return  # the debit of a transfer that came back already
        self._move("settled", at, ("sent", "pending"))
        self.settled_at = at

    def came_back(self, reason: str, at: datetime) -> None:
        """The bank brought the transfer back (a closed or wrong account, ADR 0077): the
        item waits for another account and is paid again in a later run."""
        if self.route != "sepa":
            raise IllegalTransition(f"payout item {self.number}", "come back", self.status)
        self._move("awaiting_account", at, ("sent", "settled"))
        self.failure = f"returned by the bank: {reason}"[:200]
        self.iban = self.bic = None
        self.settled_at = None
        self.ledger_payment_id = None
        self.returns += 1

    def fail(self, reason: str, at: datetime) -> None:
        self._move("failed", at, ("pending", "sent"))
        self.failure = reason


def provider_outcome(item: PayoutItem, status: str, refund_id: str, at: datetime) -> None:
    """Apply the provider's refund status (Stripe: succeeded, pending,
    requires_action, failed, canceled) to ``item``."""
    item.provider_refund_id = refund_id
    if status == "succeeded":
        if item.status == "pending":
            item.send(None, at)
        item.settle(at)
    elif status in ("failed", "canceled"):
        item.fail(f"the provider answered {status}", at)
    elif item.status == "pending":
        item.send(None, at)


@dataclass
class PaymentRun:
    id: str
    number: str
    created_at: datetime
    execution_date: date
    item_ids: list[str]
    currency: str
    control_sum: Decimal
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None = None
    file_name: str = ""
    schema: str = "pain.001.001.09"


def check_run_items(items: list[PayoutItem]) -> None:
    """A run pays pending SEPA items in one currency (a pain.001 file is per currency)."""
    if not items:
        raise Invalid("nothing is due: no pending payout item and no due supplier invoice")
    currencies = {i.currency for i in items}
    if currencies != {"EUR"}:
        raise Invalid(f"SEPA transfers are in EUR only, not {sorted(currencies - {'EUR'})}")
    for item in items:
        if item.route != "sepa" or item.status != "pending" or not item.iban:
            raise IllegalTransition(f"payout item {item.number}", "pay in a run", item.status)
