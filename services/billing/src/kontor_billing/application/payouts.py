"""Payouts: refunds from credit documents, supplier payments, payment runs (pain.001).

- ``on_credit_document`` (subscription ``billing.payouts`` on billing's own
  ``billing.invoice.v1``: CreditNoteIssued, InvoiceCancelled) plans the refund of what
  the customer paid beyond what the invoice still asks, once per document (the inbox).
- ``execute_provider_refunds`` (a sweeper) calls the provider for each pending
  provider refund OUTSIDE any transaction, the item's number as idempotency key, and
  records the answer in a unit of work of its own that re-checks the item.
- ``create_payment_run`` collects every pending SEPA item and every approved incoming
  invoice due by the run's horizon (Skonto taken by its deadline), checks each IBAN
  (schwifty), writes ONE pain.001.001.09 file and marks the items ``sent``, all in one
  unit of work: two runs at once conflict and the second re-runs without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Protocol

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import CreditNoteIssued, InvoiceCancelled
from kontor_servicekit.clock import BERLIN, Clock
from kontor_servicekit.domain_errors import Invalid, NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.bank import compact_bank_code
from kontor_billing.application.payout_refunds import book_paid_out_refund, book_returned_refund
from kontor_billing.application.supplier_payments import mark_supplier_invoice_paid
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.invoice import document_number, numbering_year
from kontor_billing.domain.payouts import (
    END_TO_END_PREFIX,
    RUN_PREFIX,
    ZERO,
    CreditDocument,
    PaidSummary,
    Payable,
    PaymentRun,
    PayoutItem,
    PayoutKind,
    PayoutRoute,
    PayoutStatus,
    check_run_items,
    payable_amount,
    payable_is_due,
    provider_outcome,
    refund_amount,
    refund_route,
    remittance,
)

# ------------------------------------------------------------------ what payouts need


class PayoutRepository(Protocol):
    async def add(self, item: PayoutItem) -> None:
        """A new item; a second item of the same (kind, source_id) is a Conflict."""
        ...

    async def save(self, item: PayoutItem) -> None: ...

    async def by_number(self, number: str) -> PayoutItem | None: ...

    async def of_source(self, kind: PayoutKind, source_id: str) -> PayoutItem | None: ...

    async def refunded_for_order(self, order_id: str) -> Decimal:
        """The refunds planned or paid for the order (every status but failed)."""
        ...

    async def with_status(
        self, status: PayoutStatus, route: PayoutRoute | None = None, limit: int = 1000
    ) -> list[PayoutItem]: ...


class PaymentRunRepository(Protocol):
    async def add(self, run: PaymentRun, file: bytes) -> None: ...

    async def get(self, run_id: str) -> PaymentRun | None: ...

    async def file_of(self, run_id: str) -> bytes | None: ...


class PayableSource(Protocol):
    """Approved incoming invoices (collection ``incoming_invoices``, status approved)."""

    async def approved(self) -> list[Payable]: ...


class OrderPayments(Protocol):
    """What the customer paid on an order (collection ``payments``)."""

    async def paid_of(self, order_id: str) -> PaidSummary | None: ...


class PayoutsUnitOfWork(BillingUnitOfWork, Protocol):
    @property
    def payouts(self) -> PayoutRepository: ...

    @property
    def payment_runs(self) -> PaymentRunRepository: ...

    @property
    def payables(self) -> PayableSource: ...

    @property
    def order_payments(self) -> OrderPayments: ...


@dataclass(frozen=True)
class ProviderRefund:
    """The provider's answer: its refund ``id`` and ``status``, or ``refused`` (no id)
    with the provider's ``reason``."""

    id: str | None
    status: str
    reason: str | None = None
    charge: str | None = None
    """The charge the refund belongs to (Stripe's refund object has it)."""
    created: datetime | None = None


class RefundProvider(Protocol):
    async def refund(
        self, *, payment_intent: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        """Refund ``amount`` of the PaymentIntent; raises ``Unavailable`` when the
        provider cannot answer now (the same key later gives the same refund)."""
        ...


class NoRefundProvider:
    """No provider configured: every provider refund waits (and says why)."""

    async def refund(
        self, *, payment_intent: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        from kontor_servicekit.domain_errors import Unavailable

        raise Unavailable("no refund provider configured (KONTOR_BILLING_REFUND_PROVIDER_URL)")


async def _next_number(uow: BillingUnitOfWork, prefix: str, kind: str, at: datetime) -> str:
    year = numbering_year(at)
    return document_number(prefix, year, await uow.next_sequence(f"{kind}:{year}"))


# ------------------------------------------------------------------ refunds


async def on_credit_document(
    event: CreditNoteIssued | InvoiceCancelled,
    uow: PayoutsUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
) -> PayoutItem | None:
    """Plan the refund a correction or cancellation asks for (None: nothing to pay back)."""
    number = event.number if isinstance(event, CreditNoteIssued) else event.cancellation_number
    if await uow.payouts.of_source("refund", number) is not None:
        return None
    document = await uow.invoices.by_number(number)
    if document is None or document.original_number is None:
        raise NotFound("credit document", number)
    invoice = await uow.invoices.by_number(document.original_number)
    if invoice is None:
        raise NotFound("invoice", document.original_number)
    referring = await uow.invoices.referring_to(invoice.number)
    credit = CreditDocument(
        number=document.number,
        id=document.id,
        order_id=document.order_id,
        currency=document.currency,
        credit=-document.gross_total,
        invoice_gross=invoice.gross_total,
        credits_total=-sum((d.gross_total for d in referring), Decimal("0")),
        buyer_name=document.buyer.company or document.buyer.name,
    )
    paid = await uow.order_payments.paid_of(document.order_id)
    amount = refund_amount(credit, paid, await uow.payouts.refunded_for_order(credit.order_id))
    if paid is None or amount <= ZERO:
        return None
    now = clock()
    route = refund_route(paid)
    item = PayoutItem(
        id=f"refund:{credit.number}",
        number=await _next_number(uow, END_TO_END_PREFIX, "payout", now),
        kind="refund",
        route=route,
        source_id=credit.number,
        source_number=credit.number,
        amount=amount,
        currency=credit.currency,
        created_at=now,
        status="pending" if route == "provider" or paid.payer_iban else "awaiting_account",
        creditor_name=paid.payer_name or credit.buyer_name,
        remittance=remittance(
            f"Erstattung {credit.number} zu Rechnung {document.original_number}"
            + (f" Bestellung {document.order_number}" if document.order_number else "")
        ),
        order_id=credit.order_id,
        iban=paid.payer_iban if route == "sepa" else None,
        provider_reference=paid.provider_reference if route == "provider" else None,
        history=[("planned", now)],
    )
    await uow.payouts.add(item)
    return item


@dataclass
class ProviderRound:
    settled: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def _record(
    uow: PayoutsUnitOfWork, *, number: str, answer: ProviderRefund, clock: Clock
) -> PayoutItem | None:
    current = await uow.payouts.by_number(number)
    if current is None or current.status != "pending":
        return None  # another replica recorded it
    now = clock()
    if answer.id is None:
        current.fail(f"refused by the provider: {answer.reason}", now)
    else:
        provider_outcome(current, answer.status, answer.id, now)
        if current.status in ("sent", "settled"):
            await book_paid_out_refund(
                uow, current, now, charge=answer.charge, created=answer.created
            )
    await uow.payouts.save(current)
    return current


async def execute_provider_refunds(
    transactor: Transactor[PayoutsUnitOfWork],
    provider: RefundProvider,
    *,
    clock: Clock,
    limit: int = 50,
) -> ProviderRound:
    """Call the provider for each pending provider refund; ``Unavailable`` ends the
    round (the rest stays pending for the next one)."""
    due = await transactor.run(lambda uow: uow.payouts.with_status("pending", "provider", limit))
    done = ProviderRound()
    for item in due:
        assert item.provider_reference is not None
        answer = await provider.refund(
            payment_intent=item.provider_reference,
            amount=item.amount,
            currency=item.currency,
            idempotency_key=item.number,
        )

        recorded = await transactor.run(
            partial(_record, number=item.number, answer=answer, clock=clock)
        )
        if recorded is not None:
            {"settled": done.settled, "sent": done.sent, "failed": done.failed}.get(
                recorded.status, done.sent
            ).append(recorded.number)
    return done


async def give_payout_account(
    transactor: Transactor[PayoutsUnitOfWork],
    number: str,
    *,
    iban: str,
    name: str | None,
    bic: str | None,
    clock: Clock,
) -> PayoutItem:
    """The customer's account for a SEPA refund (checked by schwifty)."""
    checked_iban = _checked("iban", iban, ("iban",))
    checked_bic = _checked("bic", bic, ("bic",)) if bic else None

    async def work(uow: PayoutsUnitOfWork) -> PayoutItem:
        item = await uow.payouts.by_number(number)
        if item is None:
            raise NotFound("payout item", number)
        item.give_account(checked_iban, name, checked_bic, clock())
        await uow.payouts.save(item)
        return item

    return await transactor.run(work)


async def settle_payout(
    uow: PayoutsUnitOfWork, end_to_end_id: str, *, at: datetime
) -> PayoutItem | None:
    """The bank statement shows the transfer ``end_to_end_id``: the item is settled
    (for the bank reconciliation; None if no item has that EndToEndId)."""
    item = await uow.payouts.by_number(end_to_end_id)
    if item is None or item.route != "sepa":
        return None
    item.settle(at)
    await book_paid_out_refund(uow, item, at)  # an item sent before ADR 0071: booked now
    await uow.payouts.save(item)
    await mark_supplier_invoice_paid(uow, item, at)
    return item


async def return_payout(
    uow: PayoutsUnitOfWork,
    end_to_end_id: str,
    *,
    booking_id: str,
    reason: str,
    received_at: datetime,
    at: datetime,
) -> PayoutItem | None:
    """A credit on the bank statement brings the refund transfer ``end_to_end_id`` back
    (ADR 0077): the refund is reversed on the ledger and the item waits for another
    account. None (nothing changes) when no refund was sent under that id."""
    item = await uow.payouts.by_number(end_to_end_id)
    if item is None or item.kind != "refund" or item.status not in ("sent", "settled"):
        return None
    await book_returned_refund(uow, item, booking_id=booking_id, received_at=received_at, now=at)
    item.came_back(reason, at)
    await uow.payouts.save(item)
    return item


# ------------------------------------------------------------------ payment runs


@dataclass(frozen=True)
class Skipped:
    source_number: str
    reason: str


@dataclass(frozen=True)
class CreatedRun:
    run: PaymentRun
    items: list[PayoutItem]
    skipped: list[Skipped]


def _checked(kind: str, value: str, loc: Sequence[str | int]) -> str:
    try:
        return compact_bank_code("iban" if kind == "iban" else "bic", value)
    except ValueError as exc:
        raise Invalid(str(exc), field=list(loc)) from exc


def _bank_problem(item_iban: str | None, bic: str | None) -> tuple[str | None, str | None, str]:
    if not item_iban:
        return None, None, "no IBAN"
    try:
        iban = compact_bank_code("iban", item_iban)
        return iban, compact_bank_code("bic", bic) if bic else None, ""
    except ValueError as exc:
        return None, None, str(exc)


async def create_payment_run(
    transactor: Transactor[PayoutsUnitOfWork],
    *,
    execution_date: date | None,
    due_until: date | None,
    clock: Clock,
) -> CreatedRun:
    from kontor_billing.documents.pain001 import Debtor, Transfer, credit_transfer_file

    async def work(uow: PayoutsUnitOfWork) -> CreatedRun:
        now = clock()
        today = now.astimezone(BERLIN).date()
        execute = execution_date or today
        if execute < today:
            raise Invalid("the execution date is in the past", field=["execution_date"])
        horizon = due_until or execute
        if horizon < execute:
            raise Invalid("due_until is before the execution date", field=["due_until"])
        seller = await uow.seller.current()
        if seller is None or not seller.iban:
            raise Invalid(
                "the seller's IBAN is missing (PUT /seller): it is the account debited",
                field=["seller", "iban"],
            )
        skipped: list[Skipped] = []
        for payable in await uow.payables.approved():
            if await uow.payouts.of_source("supplier", payable.id) is not None:
                continue
            if not payable_is_due(payable, execute, horizon):
                continue
            iban, bic, problem = _bank_problem(payable.iban, payable.bic)
            if iban is None:
                skipped.append(Skipped(payable.number, f"supplier account: {problem}"))
                continue
            amount, discount = payable_amount(payable, execute)
            text = f"Rechnung {payable.number}" + (
                f" abzgl. {discount:f} {payable.currency} Skonto" if discount else ""
            )
            await uow.payouts.add(
                PayoutItem(
                    id=f"supplier:{payable.id}",
                    number=await _next_number(uow, END_TO_END_PREFIX, "payout", now),
                    kind="supplier",
                    route="sepa",
                    source_id=payable.id,
                    source_number=payable.number,
                    amount=amount,
                    currency=payable.currency,
                    created_at=now,
                    status="pending",
                    creditor_name=payable.supplier_name,
                    remittance=remittance(text),
                    iban=iban,
                    bic=bic,
                    discount=discount,
                    history=[("planned", now)],
                )
            )
        items = []
        for item in await uow.payouts.with_status("pending", "sepa"):
            iban, bic, problem = _bank_problem(item.iban, item.bic)
            if iban is None:
                skipped.append(Skipped(item.source_number, f"account: {problem}"))
                continue
            items.append(item)
        if not items:
            raise Invalid("nothing is due: no pending payout item and no due supplier invoice")
        check_run_items(items)
        number = await _next_number(uow, RUN_PREFIX, "payment_run", now)
        debtor = Debtor(seller.name, compact_bank_code("iban", seller.iban), seller.bic)
        file = credit_transfer_file(
            message_id=number,
            created_at=now,
            execution_date=execute,
            debtor=debtor,
            transfers=[
                Transfer(i.number, i.creditor_name, i.iban or "", i.amount, i.remittance, i.bic)
                for i in items
            ],
        )
        run = PaymentRun(
            id=number,
            number=number,
            created_at=now,
            execution_date=execute,
            item_ids=[i.id for i in items],
            currency="EUR",
            control_sum=sum((i.amount for i in items), Decimal("0")),
            debtor_name=debtor.name,
            debtor_iban=debtor.iban,
            debtor_bic=debtor.bic,
            file_name=f"{number}.pain.001.001.09.xml",
        )
        for item in items:
            item.send(run.id, now)
            await book_paid_out_refund(uow, item, now)
            await uow.payouts.save(item)
        await uow.payment_runs.add(run, file)
        return CreatedRun(run, items, skipped)

    return await transactor.run(work)
