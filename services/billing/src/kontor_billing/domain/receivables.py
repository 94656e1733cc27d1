"""The receivables ledger: what each issued invoice still asks of its customer.

One :class:`Receivable` per issued invoice (keyed by the invoice number), opened in
the unit of work that issues the invoice. Its open amount is the invoice's gross total
less the credits of its corrections, less the payments applied, plus the refunds paid
out; a cancellation (Storno) closes it. Money beyond what is due is kept as a credit
(``overpaid_amount``) to refund or to apply, never lost.

Payments arrive as a :class:`PaymentBooking` (booked by hand, from a card provider's
webhook, or matched from a bank statement); the payment id is the idempotency key: a
second booking with the same id changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal, get_args

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import Conflict, FieldProblem, IllegalTransition, Invalid

ZERO = Decimal("0")

ReceivableStatus = Literal["open", "partially_paid", "paid", "overpaid", "cancelled"]
RECEIVABLE_STATUSES: tuple[ReceivableStatus, ...] = (
    "open",
    "partially_paid",
    "paid",
    "overpaid",
    "cancelled",
)
PaymentSource = Literal["manual", "stripe", "bank", "payout"]
PaymentDirection = Literal["in", "out"]
PaymentMethod = Literal[
    "bank_transfer",
    "prepayment",
    "invoice",
    "card",
    "wallet",
    "paypal",
    "sepa_direct_debit",
    "cash",
    "cash_on_delivery",
    "manual",
]
PAYMENT_METHODS: tuple[str, ...] = get_args(PaymentMethod)


# ------------------------------------------------------------------ recorded events


@dataclass(frozen=True)
class ReceivableWasOpened:
    invoice_number: str


@dataclass(frozen=True)
class PaymentWasApplied:
    invoice_number: str
    payment_id: str
    amount: Decimal


@dataclass(frozen=True)
class RefundWasRecorded:
    invoice_number: str
    payment_id: str
    amount: Decimal


@dataclass(frozen=True)
class ReceivableWasSettled:
    """The open amount reached zero (paid, credited or cancelled): dunning stops."""

    invoice_number: str


# ------------------------------------------------------------------ payments


@dataclass(frozen=True)
class PaymentBooking:
    """Money that arrived (or, for a refund, left), to be applied to a receivable.

    Exactly one of ``invoice_number`` and ``order_id`` says what it pays.
    """

    payment_id: str
    amount: Decimal
    currency: str
    method: str
    received_at: datetime
    source: PaymentSource = "manual"
    reference: str | None = None
    invoice_number: str | None = None
    order_id: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.payment_id:
            problems.append(FieldProblem(("payment_id",), "must not be empty"))
        if self.amount <= ZERO:
            problems.append(FieldProblem(("amount",), "must be positive"))
        elif self.amount != self.amount.quantize(Decimal("0.01")):
            problems.append(FieldProblem(("amount",), "at most two decimal places"))
        if self.received_at.tzinfo is None:
            problems.append(FieldProblem(("received_at",), "must be timezone-aware"))
        if (self.invoice_number is None) == (self.order_id is None):
            problems.append(
                FieldProblem(("invoice_number",), "give exactly one of invoice_number, order_id")
            )
        if problems:
            raise Invalid("the payment cannot be booked", problems=problems)


@dataclass
class Payment:
    """A booked payment (``direction`` ``in``) or refund (``out``) as stored in ``payments``."""

    payment_id: str
    amount: Decimal
    currency: str
    method: str
    received_at: datetime
    booked_at: datetime
    source: PaymentSource
    order_id: str
    reference: str | None = None
    invoice_number: str | None = None
    """None while no invoice of the order exists (a prepayment): applied when it is issued."""
    invoice_id: str | None = None
    direction: PaymentDirection = "in"
    open_amount_after: Decimal | None = None
    """The receivable's open amount right after this payment was applied."""
    status_after: ReceivableStatus | None = None
    held: str | None = None
    """Why the payment is held, unannounced: a provider reported it for an order billing
    has not seen placed yet (OrderPlaced releases it and PaymentReceived goes out then),
    or that order turned out to be in another currency (a person decides). None: booked
    and announced (ADR 0148)."""

    @classmethod
    def of(
        cls,
        booking: PaymentBooking,
        *,
        order_id: str,
        booked_at: datetime,
        direction: PaymentDirection = "in",
    ) -> Payment:
        return cls(
            payment_id=booking.payment_id,
            amount=booking.amount,
            currency=booking.currency,
            method=booking.method,
            received_at=booking.received_at,
            booked_at=booked_at,
            source=booking.source,
            order_id=order_id,
            reference=booking.reference,
            invoice_number=booking.invoice_number,
            direction=direction,
        )

    def same_as(self, booking: PaymentBooking) -> bool:
        """Whether a repeated booking with this id describes the same money."""
        return self.amount == booking.amount and self.currency == booking.currency

    def applied_to(self, receivable: Receivable) -> None:
        self.invoice_number = receivable.invoice_number
        self.invoice_id = receivable.invoice_id
        self.open_amount_after = receivable.open_amount
        self.status_after = receivable.status


@dataclass(frozen=True)
class AppliedPayment:
    payment_id: str
    amount: Decimal
    """Positive for money in, negative for a refund paid out."""
    method: str
    received_at: datetime
    source: PaymentSource


@dataclass(frozen=True)
class Credit:
    """A correction (Rechnungskorrektur) that reduced what the invoice asks."""

    number: str
    amount: Decimal


@dataclass(frozen=True)
class BookedPayment:
    payment: Payment
    receivable: Receivable | None
    """None for a payment of an order not invoiced yet (kept, applied on its invoice)."""
    replayed: bool = False


def received_moment(day: date, now: datetime) -> datetime:
    """When money booked for ``day`` (a Berlin calendar day) arrived: now if today,
    else the start of that day; a day in the future is refused."""
    today = now.astimezone(BERLIN).date()
    if day > today:
        raise Invalid("the payment date lies in the future", field=("date",))
    if day == today:
        return now
    return datetime.combine(day, time(0), tzinfo=BERLIN)


# ------------------------------------------------------------------ the receivable


@dataclass
class Receivable(RecordsEvents):
    invoice_number: str
    invoice_id: str
    order_id: str
    order_number: str | None
    customer_email: str
    customer_name: str
    currency: str
    gross_total: Decimal
    issue_date: date
    due_date: date
    opened_at: datetime
    payment_method: str | None = None
    company: str | None = None
    """The buyer's company: a business (B2B) for the default interest of §288 BGB."""
    payments: list[AppliedPayment] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    cancelled_by: str | None = None
    """The number of the cancellation (Storno) that closed it."""
    disputed_at: datetime | None = None
    dispute_reason: str | None = None
    settled_at: datetime | None = None
    """When the open amount last reached zero."""
    dunning_level: int = 0
    """The highest dunning level sent (0: none)."""
    last_dunned_on: date | None = None

    @classmethod
    def open(
        cls,
        *,
        invoice_number: str,
        invoice_id: str,
        order_id: str,
        order_number: str | None,
        customer_email: str,
        customer_name: str,
        currency: str,
        gross_total: Decimal,
        issue_date: date,
        due_date: date,
        opened_at: datetime,
        payment_method: str | None = None,
        company: str | None = None,
    ) -> Receivable:
        receivable = cls(
            invoice_number=invoice_number,
            invoice_id=invoice_id,
            order_id=order_id,
            order_number=order_number,
            customer_email=customer_email,
            customer_name=customer_name,
            currency=currency,
            gross_total=gross_total,
            issue_date=issue_date,
            due_date=due_date,
            opened_at=opened_at,
            payment_method=payment_method,
            company=company,
        )
        receivable.record(ReceivableWasOpened(invoice_number))
        return receivable

    # --- figures

    @property
    def credited(self) -> Decimal:
        return sum((c.amount for c in self.credits), ZERO)

    @property
    def paid(self) -> Decimal:
        """Money received less refunds paid out."""
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def amount_due(self) -> Decimal:
        """What the invoice asks after its corrections (nothing once cancelled)."""
        if self.cancelled_by is not None:
            return ZERO
        return max(self.gross_total - self.credited, ZERO)

    @property
    def open_amount(self) -> Decimal:
        return max(self.amount_due - self.paid, ZERO)

    @property
    def overpaid_amount(self) -> Decimal:
        """Money beyond what is due: a credit of the customer, to refund or to apply."""
        return max(self.paid - self.amount_due, ZERO)

    @property
    def status(self) -> ReceivableStatus:
        if self.cancelled_by is not None:
            return "cancelled"
        if self.overpaid_amount > ZERO:
            return "overpaid"
        if self.open_amount == ZERO:
            return "paid"
        if self.paid > ZERO:
            return "partially_paid"
        return "open"

    @property
    def settled(self) -> bool:
        return self.open_amount == ZERO

    @property
    def business(self) -> bool:
        return bool(self.company)

    def days_overdue(self, today: date) -> int:
        if self.settled:
            return 0
        return max((today - self.due_date).days, 0)

    @property
    def dunning_stopped(self) -> str | None:
        """Why no (further) dunning notice goes out, or None."""
        if self.cancelled_by is not None:
            return "cancelled"
        if self.disputed_at is not None:
            return "disputed"
        if self.settled:
            return "settled"
        return None

    # --- changes

    def _settle_check(self, was_settled: bool, now: datetime) -> None:
        if self.settled and not was_settled:
            self.settled_at = now
            self.record(ReceivableWasSettled(self.invoice_number))

    def apply(self, payment: Payment, now: datetime) -> None:
        """Apply a payment (money in) or a refund (money out); once per payment id."""
        if any(p.payment_id == payment.payment_id for p in self.payments):
            return
        if payment.currency != self.currency:
            raise Conflict(
                f"payment in {payment.currency} for invoice {self.invoice_number} "
                f"in {self.currency}"
            )
        was_settled = self.settled
        signed = payment.amount if payment.direction == "in" else -payment.amount
        if payment.direction == "out" and payment.amount > self.paid:
            raise Conflict(
                f"refund of {payment.amount} {payment.currency} exceeds the "
                f"{self.paid} {self.currency} paid on invoice {self.invoice_number}"
            )
        self.payments.append(
            AppliedPayment(
                payment_id=payment.payment_id,
                amount=signed,
                method=payment.method,
                received_at=payment.received_at,
                source=payment.source,
            )
        )
        if payment.direction == "in":
            self.record(PaymentWasApplied(self.invoice_number, payment.payment_id, payment.amount))
        else:
            self.record(RefundWasRecorded(self.invoice_number, payment.payment_id, payment.amount))
        self._settle_check(was_settled, now)
        payment.applied_to(self)

    def credit(self, number: str, amount: Decimal, now: datetime) -> None:
        """A correction reduces what is due (its gross amount, as a positive figure)."""
        if any(c.number == number for c in self.credits):
            return
        was_settled = self.settled
        self.credits.append(Credit(number=number, amount=abs(amount)))
        self._settle_check(was_settled, now)

    def cancel(self, cancellation_number: str, now: datetime) -> None:
        """The invoice's cancellation closes the receivable; what was paid stays a credit."""
        if self.cancelled_by is not None:
            return
        was_settled = self.settled
        self.cancelled_by = cancellation_number
        self._settle_check(was_settled, now)

    def dispute(self, reason: str, now: datetime) -> None:
        """The customer disputes the invoice: dunning stops until it is resolved."""
        if self.cancelled_by is not None:
            raise IllegalTransition(f"receivable {self.invoice_number}", "dispute", "cancelled")
        if self.disputed_at is None:
            self.disputed_at = now
            self.dispute_reason = reason
