"""HTTP routes of payments (booked by hand) and the receivables ledger (open items)."""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, MoneyAmount, Page, PageOut, QueryBool
from kontor_servicekit.auth import Principal
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kontor_billing.api.erasure import erased_since, hidden_numbers, pseudonymous_email
from kontor_billing.api.invoices import Admin, PageSize, Reader
from kontor_billing.application.payments import ManualPayment, book_manual_payment
from kontor_billing.application.receivables import dispute_receivable
from kontor_billing.context import Context
from kontor_billing.domain.receivables import (
    BookedPayment,
    Payment,
    PaymentMethod,
    Receivable,
    ReceivableStatus,
)

router = APIRouter(tags=["payments"])

InvoiceNumber = Annotated[str, Path(min_length=1, max_length=32)]


class PaymentIn(BaseModel):
    """A payment the merchant books by hand (cash on delivery, a cheque, ...)."""

    model_config = ConfigDict(extra="forbid")

    amount: MoneyAmount = Field(description="Positive, at most two decimal places")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    method: PaymentMethod
    date: dt.date = Field(
        description="The day the money arrived (Europe/Berlin), not in the future"
    )
    order_id: str | None = Field(default=None, min_length=1, max_length=64)
    invoice_number: str | None = Field(default=None, min_length=1, max_length=32)
    reference: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def one_target(self) -> PaymentIn:
        if (self.order_id is None) == (self.invoice_number is None):
            raise ValueError("give exactly one of order_id and invoice_number")
        return self


class ReceivableOut(BaseModel):
    invoice_number: str
    invoice_id: str
    order_id: str
    order_number: str | None
    customer_email: str
    customer_name: str
    company: str | None
    currency: str
    payment_method: str | None
    gross_total: MoneyAmount
    credited: MoneyAmount = Field(description="Reduced by corrections (Rechnungskorrekturen)")
    paid: MoneyAmount = Field(description="Received less refunded")
    open_amount: MoneyAmount
    overpaid_amount: MoneyAmount = Field(description="The customer's credit, to refund or apply")
    status: ReceivableStatus
    issue_date: date
    due_date: date
    days_overdue: int = Field(ge=0)
    cancelled_by: str | None = Field(description="The cancellation (Storno) that closed it")
    disputed_at: Instant | None
    dispute_reason: str | None
    dunning_level: int = Field(ge=0, description="The last reminder/dunning level sent")
    dunning_stopped: str | None = Field(description="settled, disputed or cancelled")
    restricted: bool = Field(
        default=False,
        description="The buyer was erased (Art. 17 DSGVO) after the invoice was issued: the "
        "receivable is kept as a booking (§147 AO) and the buyer's e-mail, name, company "
        "and the dispute's reason are shown to the billing:tax scope only (here: placeholders)",
    )

    def without_buyer(self, subject_id: str) -> ReceivableOut:
        """As shown to a caller who may not see the erased buyer ``subject_id``."""
        return self.model_copy(
            update={
                "customer_email": pseudonymous_email(subject_id),
                "customer_name": PLACEHOLDER_TEXT,
                "company": None,
                "dispute_reason": None,
                "restricted": True,
            }
        )

    @classmethod
    def of(cls, r: Receivable, today: date, erased_subject: str | None = None) -> ReceivableOut:
        """``erased_subject``: the buyer's subject id when the caller may not see them."""
        shown = cls(
            invoice_number=r.invoice_number,
            invoice_id=r.invoice_id,
            order_id=r.order_id,
            order_number=r.order_number,
            customer_email=r.customer_email,
            customer_name=r.customer_name,
            company=r.company,
            currency=r.currency,
            payment_method=r.payment_method,
            gross_total=r.gross_total,
            credited=r.credited,
            paid=max(r.paid, 0),
            open_amount=r.open_amount,
            overpaid_amount=r.overpaid_amount,
            status=r.status,
            issue_date=r.issue_date,
            due_date=r.due_date,
            days_overdue=r.days_overdue(today),
            cancelled_by=r.cancelled_by,
            disputed_at=r.disputed_at,
            dispute_reason=r.dispute_reason,
            dunning_level=r.dunning_level,
            dunning_stopped=r.dunning_stopped,
        )
        return shown if erased_subject is None else shown.without_buyer(erased_subject)


class PaymentOut(BaseModel):
    payment_id: str
    direction: Literal["in", "out"] = Field(description="in: received; out: refunded")
    amount: MoneyAmount
    currency: str
    method: str
    source: str = Field(description="manual, stripe, bank or payout (a refund paid out, ADR 0071)")
    received_at: Instant
    booked_at: Instant
    reference: str | None
    order_id: str
    invoice_number: str | None = Field(description="null: the order is not invoiced yet")
    open_amount_after: MoneyAmount | None
    status_after: ReceivableStatus | None
    held: str | None = Field(
        default=None,
        description="Why the payment is held and not announced yet: a provider reported it "
        "for an order billing has not seen placed (booked when OrderPlaced arrives), or "
        "that order is in another currency (a person books or refunds it); null: booked "
        "(ADR 0148)",
    )
    restricted: bool = Field(
        default=False,
        description="Paid for an invoice whose buyer was erased: kept as a booking (§147 AO), "
        "its reference (the remittance text names the payer) shown to billing:tax only",
    )

    def without_payer(self) -> PaymentOut:
        """As shown to a caller who may not see the erased buyer it was paid for."""
        return self.model_copy(update={"reference": None, "restricted": True})

    @classmethod
    def of(cls, p: Payment, restricted: bool = False) -> PaymentOut:
        shown = cls.model_validate(vars(p), from_attributes=False)
        return shown.without_payer() if restricted else shown


class BookedOut(BaseModel):
    payment: PaymentOut
    receivable: ReceivableOut | None = Field(
        description="The invoice's ledger after the payment; null before the invoice exists"
    )

    async def as_seen_by(self, ctx: Context, principal: Principal) -> BookedOut:
        """This answer as ``principal`` may see it: for an invoice whose buyer was
        erased, the payment and receivable with placeholders (ADR 0113), also when an
        answer stored for its Idempotency-Key is replayed after the erasure."""
        number = self.payment.invoice_number
        hidden = await hidden_numbers(ctx, principal, [number])
        if number not in hidden:
            return self
        receivable = self.receivable
        return self.model_copy(
            update={
                "payment": self.payment.without_payer(),
                "receivable": None
                if receivable is None
                else receivable.without_buyer(hidden[number]),
            }
        )


class PaymentPage(PageOut[PaymentOut]):
    pass


class ReceivablePage(PageOut[ReceivableOut]):
    pass


def _today(ctx: Context) -> date:
    return ctx.clock().astimezone(BERLIN).date()


@router.post(
    "/payments",
    status_code=201,
    response_model=BookedOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Book a payment by hand (emits PaymentReceived; orders follows it)",
    description="Applied to the invoice's open amount (partial, full or over: an "
    "over-payment is kept as a credit). With an `Idempotency-Key` a retry answers the "
    "first answer again and books nothing.",
)
async def post_payment(
    ctx: Context,
    principal: Admin,
    request: Request,
    body: PaymentIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    manual = ManualPayment(
        amount=body.amount,
        currency=body.currency,
        method=body.method,
        received_on=body.date,
        reference=body.reference,
        order_id=body.order_id,
        invoice_number=body.invoice_number,
    )
    today = _today(ctx)
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: book_manual_payment(transactor, manual, clock=ctx.clock),
        present=lambda booked: _booked(booked, today).as_seen_by(ctx, principal),
        status_code=201,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/payments/{out.payment.payment_id}",
        replayed=lambda stored: _replayed(ctx, principal, stored),
    )


def _booked(booked: BookedPayment, today: date) -> BookedOut:
    return BookedOut(
        payment=PaymentOut.of(booked.payment),
        receivable=ReceivableOut.of(booked.receivable, today) if booked.receivable else None,
    )


async def _replayed(ctx: Context, principal: Principal, stored: bytes) -> bytes:
    seen = await BookedOut.model_validate_json(stored).as_seen_by(ctx, principal)
    return seen.model_dump_json().encode()


@router.get(
    "/payments",
    responses=problem_responses(401, 403, 422),
    summary="Payments and refunds, oldest first, of an order and/or an invoice",
    description="`held=true`: only the payments held for an order billing does not know "
    "(yet), e.g. a card payment reported before the order, or in another currency than "
    "its order (ADR 0148).",
)
async def list_payments(
    ctx: Context,
    principal: Reader,
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    invoice_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    held: Annotated[QueryBool, Query(description="only the held payments")] = False,
    page: Page = 1,
    page_size: PageSize = 50,
) -> PaymentPage:
    found = await ctx.receivables.payments(
        invoice_number=invoice_number,
        order_id=order_id,
        held=held,
        page=page,
        page_size=page_size,
    )
    hidden = await hidden_numbers(ctx, principal, [p.invoice_number for p in found.items])
    return PaymentPage(
        items=[PaymentOut.of(p, p.invoice_number in hidden) for p in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/payments/{payment_id}",
    responses=problem_responses(401, 403, 404),
    summary="One payment or refund",
)
async def read_payment(
    ctx: Context,
    principal: Reader,
    payment_id: Annotated[str, Path(min_length=1, max_length=255)],
) -> PaymentOut:
    payment = await ctx.receivables.payment(payment_id)
    if payment is None:
        raise NotFound("payment", payment_id)
    hidden = await hidden_numbers(ctx, principal, [payment.invoice_number])
    return PaymentOut.of(payment, payment.invoice_number in hidden)


@router.get(
    "/receivables",
    responses=problem_responses(401, 403, 422),
    summary="The receivables ledger by due date: open amount, due date, days overdue",
    description="`status` is repeatable; open items (OPOS) are "
    "`?status=open&status=partially_paid`; `overdue=true`: only those past due.",
)
async def list_receivables(
    ctx: Context,
    principal: Reader,
    status: Annotated[list[ReceivableStatus] | None, Query()] = None,
    overdue: Annotated[QueryBool, Query(description="only past due and unsettled")] = False,
    customer_email: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> ReceivablePage:
    today = _today(ctx)
    found = await ctx.receivables.page(
        tuple(status or ()),
        overdue_on=today if overdue else None,
        customer_email=customer_email,
        opened_after=await erased_since(ctx, principal, customer_email),
        page=page,
        page_size=page_size,
    )
    hidden = await hidden_numbers(ctx, principal, [r.invoice_number for r in found.items])
    return ReceivablePage(
        items=[ReceivableOut.of(r, today, hidden.get(r.invoice_number)) for r in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/receivables/{invoice_number}",
    responses=problem_responses(401, 403, 404),
    summary="The receivable of one invoice",
)
async def read_receivable(
    ctx: Context, principal: Reader, invoice_number: InvoiceNumber
) -> ReceivableOut:
    receivable = await ctx.receivables.by_invoice(invoice_number)
    if receivable is None:
        raise NotFound("receivable", invoice_number)
    hidden = await hidden_numbers(ctx, principal, [invoice_number])
    return ReceivableOut.of(receivable, _today(ctx), hidden.get(invoice_number))


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/receivables/{invoice_number}/dispute",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="The customer disputes the invoice: its dunning stops",
    response_model=ReceivableOut,
)
async def dispute(
    ctx: Context, principal: Admin, invoice_number: InvoiceNumber, body: DisputeIn
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: dispute_receivable(uow, invoice_number, body.reason, now=ctx.clock())
        ),
        present=lambda receivable: _receivable_seen(ctx, principal, receivable),
    )


async def _receivable_seen(
    ctx: Context, principal: Principal, receivable: Receivable
) -> ReceivableOut:
    """A receivable as the read routes show it (an erased buyer's with placeholders)."""
    hidden = await hidden_numbers(ctx, principal, [receivable.invoice_number])
    return ReceivableOut.of(receivable, _today(ctx), hidden.get(receivable.invoice_number))
