"""HTTP routes of bank statements and reconciliation (issue 12, ADR 0030)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, MoneyAmount, Page, PageOut, SignedAmount
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import PayloadTooLarge, problem_responses
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kontor_billing.api.erasure import forbid_unless_tax, hidden
from kontor_billing.api.invoices import Admin, PageSize, Reader
from kontor_billing.application.bank_statements import (
    ManualAllocation,
    TransactionView,
    ignore_transaction,
    import_statement,
    match_transaction,
)
from kontor_billing.bankfiles import MAX_STATEMENT_BYTES
from kontor_billing.context import Context
from kontor_billing.domain.bank_statements import (
    Balance,
    BankAccount,
    BankStatement,
    BankTransaction,
    Direction,
    ImportResult,
    StatementFormat,
    StatementPart,
    TransactionStatus,
)
from kontor_billing.domain.reconciliation import Suggestion

router = APIRouter(tags=["bank"])
TransactionId = Annotated[str, Path(min_length=4, max_length=64, pattern=r"^bt-[0-9a-f]+$")]
StatementId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
InvoiceNumber = Annotated[str, Field(min_length=1, max_length=32)]


class BalanceOut(BaseModel):
    amount: SignedAmount = Field(description="Negative: a debit balance (overdraft)")
    currency: str
    date: date

    @classmethod
    def of(cls, b: Balance | None) -> BalanceOut | None:
        return None if b is None else cls(amount=b.amount, currency=b.currency, date=b.on)


class StatementPartOut(BaseModel):
    account_iban: str
    currency: str
    statement_id: str | None = Field(description="The bank's id (CAMT Stmt/Id, MT940 :20:/:28C:)")
    sequence_number: str | None
    opening_balance: BalanceOut | None
    closing_balance: BalanceOut | None
    bookings: int
    new: int
    known: int = Field(description="Bookings stored by an earlier import (same or overlapping)")
    skipped: int = Field(description="Entries not booked yet by the bank (CAMT PDNG/INFO)")

    @classmethod
    def of(cls, p: StatementPart) -> StatementPartOut:
        return cls(
            account_iban=p.account_iban,
            currency=p.currency,
            statement_id=p.statement_id,
            sequence_number=p.sequence_number,
            opening_balance=BalanceOut.of(p.opening),
            closing_balance=BalanceOut.of(p.closing),
            bookings=len(p.transaction_ids),
            new=p.new,
            known=p.known,
            skipped=p.skipped,
        )


class StatementOut(BaseModel):
    id: str = Field(description="The SHA-256 of the file as uploaded")
    format: StatementFormat
    filename: str | None
    size: int
    imported_at: Instant
    statements: list[StatementPartOut]

    @classmethod
    def of(cls, s: BankStatement) -> StatementOut:
        return cls(
            id=s.id,
            format=s.format,
            filename=s.filename,
            size=s.size,
            imported_at=s.imported_at,
            statements=[StatementPartOut.of(p) for p in s.parts],
        )


class ImportOut(StatementOut):
    duplicate: bool = Field(description="This very file was imported before (answered 200)")
    new: int = Field(description="Bookings stored by this import")
    known: int = Field(description="Bookings stored before (same or overlapping statement)")
    matched: int = Field(description="New credits matched to invoices and booked as payments")
    matched_payouts: int = Field(description="New debits matched to the payouts they settle")
    unmatched: int = Field(description="Bookings waiting for a person")

    @classmethod
    def of_result(cls, r: ImportResult) -> ImportOut:
        return cls(
            **StatementOut.of(r.statement).model_dump(),
            duplicate=r.duplicate_file,
            new=r.new,
            known=r.known,
            matched=r.matched,
            matched_payouts=r.matched_payouts,
            unmatched=r.unmatched,
        )


@router.post(
    "/bank-statements",
    status_code=201,
    dependencies=[Depends(require_scope("billing:admin"))],
    responses={
        **problem_responses(401, 403, 413, 422),
        200: {"description": "The same file again: nothing added"},
    },
    summary="Import a bank statement (CAMT.053 or MT940, told by its content)",
)
async def post_statement(
    ctx: Context,
    response: Response,
    file: Annotated[UploadFile, File(description="CAMT.053 XML or MT940, at most 10 MiB")],
) -> ImportOut:
    # not through ctx.answers (tests/shape OUTSIDE_A_UNIT_OF_WORK): the file goes to
    # GridFS outside any unit of work, the import runs one block per booking and only the
    # last one tells 201 from 200; the same file again answers 200, books nothing twice
    raw = await file.read(MAX_STATEMENT_BYTES + 1)
    if len(raw) > MAX_STATEMENT_BYTES:
        raise PayloadTooLarge(detail=f"a statement may have at most {MAX_STATEMENT_BYTES} bytes")
    result = await import_statement(
        ctx.transactor,
        ctx.bank_files,
        ctx.payouts,
        raw,
        (file.filename or "")[:200] or None,
        ctx.clock,
    )
    if result.duplicate_file:
        response.status_code = 200
    return ImportOut.of_result(result)


class StatementPage(PageOut[StatementOut]):
    pass


@router.get(
    "/bank-statements",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The imported statement files, newest first",
)
async def list_statements(ctx: Context, page: Page = 1, page_size: PageSize = 50) -> StatementPage:
    found = await ctx.bank.statements(page=page, page_size=page_size)
    return StatementPage(
        items=[StatementOut.of(s) for s in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/bank-statements/{statement_id}/file",
    responses={
        **problem_responses(401, 403, 404),
        200: {"content": {"application/octet-stream": {}}},
    },
    response_class=Response,
    summary="The statement file exactly as it was uploaded (GoBD)",
)
async def read_statement_file(
    ctx: Context, principal: Reader, statement_id: StatementId
) -> Response:
    found = await ctx.bank.statement_file(statement_id)
    if found is None:
        raise NotFound("bank statement", statement_id)
    await forbid_unless_tax(
        principal,
        lambda: ctx.erased.statement_restricted(statement_id),
        f"The bank statement {statement_id}",
    )
    return Response(
        found.data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{statement_id}"'},
    )


class AccountOut(BaseModel):
    iban: str
    currency: str
    balance: BalanceOut | None = Field(description="The closing balance of the latest statement")
    statement_id: str | None = Field(description="The file it is from")
    updated_at: Instant | None

    @classmethod
    def of(cls, a: BankAccount) -> AccountOut:
        return cls(
            iban=a.iban,
            currency=a.currency,
            balance=BalanceOut.of(a.balance),
            statement_id=a.statement_id,
            updated_at=a.updated_at,
        )


@router.get(
    "/bank-accounts",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403),
    summary="The merchant's bank accounts with the balance from the last statement",
)
async def list_accounts(ctx: Context) -> list[AccountOut]:
    return [AccountOut.of(a) for a in await ctx.bank.accounts()]


class AllocationOut(BaseModel):
    invoice_number: str
    order_id: str | None
    amount: MoneyAmount


class SuggestionOut(BaseModel):
    invoice_number: str
    order_id: str
    order_number: str | None
    customer_name: str
    open_amount: MoneyAmount
    currency: str
    score: float = Field(ge=0, le=1, description="How sure the rules are, 0 to 1")
    reasons: list[str]

    @classmethod
    def of(cls, s: Suggestion, erased: bool = False) -> SuggestionOut:
        """``erased``: the invoice's buyer was erased and the caller may not see them."""
        shown = {**vars(s), "score": float(s.score), "reasons": list(s.reasons)}
        if erased:
            shown["customer_name"] = PLACEHOLDER_TEXT
        return cls(**shown)


class CounterpartyOut(BaseModel):
    name: str | None
    iban: str | None


class TransactionOut(BaseModel):
    id: str
    status: TransactionStatus
    direction: Direction
    amount: MoneyAmount
    currency: str
    booking_date: date
    value_date: date | None
    counterparty: CounterpartyOut
    remittance: str
    end_to_end_id: str | None
    bank_reference: str | None
    bank_code: str | None
    account_iban: str
    statement_id: str = Field(description="The first imported file that carried it")
    imported_at: Instant
    allocations: list[AllocationOut]
    matched_by: Literal["auto", "manual"] | None
    payout_id: str | None
    note: str | None
    reason: str | None = Field(description="Why it waits")
    decided_at: Instant | None
    suggestions: list[SuggestionOut] = Field(description="For a waiting credit, best first")
    restricted: bool = Field(
        default=False,
        description="It paid an invoice of (or a payout to) a person who was erased: kept as "
        "the voucher of a booking (§147 AO), the payer's name, IBAN and the remittance text "
        "are shown to the billing:tax scope only (here: placeholders)",
    )

    @classmethod
    def of(cls, view: TransactionView, hidden: Mapping[str, str] | None = None) -> TransactionOut:
        """``hidden``: booking ids and invoice numbers of erased people the caller may not
        see (their subject ids)."""
        hidden = hidden or {}
        t, line = view.transaction, view.transaction.line
        if t.id in hidden:
            return cls.of(view).model_copy(
                update={
                    "counterparty": CounterpartyOut(name=None, iban=None),
                    "remittance": PLACEHOLDER_TEXT,
                    "restricted": True,
                    "suggestions": [SuggestionOut.of(s, True) for s in view.suggestions],
                }
            )
        return cls(
            id=t.id,
            status=t.status,
            direction=line.direction,
            amount=line.amount,
            currency=line.currency,
            booking_date=line.booking_date,
            value_date=line.value_date,
            counterparty=CounterpartyOut(name=line.counterparty_name, iban=line.counterparty_iban),
            remittance=line.remittance,
            end_to_end_id=line.end_to_end_id,
            bank_reference=line.bank_reference,
            bank_code=line.bank_code,
            account_iban=t.account_iban,
            statement_id=t.statement_id,
            imported_at=t.imported_at,
            allocations=[
                AllocationOut(invoice_number=a.invoice_number, order_id=a.order_id, amount=a.amount)
                for a in t.allocations
            ],
            matched_by=t.matched_by,
            payout_id=t.payout_id,
            note=t.note,
            reason=t.reason,
            decided_at=t.decided_at,
            suggestions=[SuggestionOut.of(s, s.invoice_number in hidden) for s in view.suggestions],
        )


class TransactionPage(PageOut[TransactionOut]):
    pass


@router.get(
    "/bank-transactions",
    responses=problem_responses(401, 403, 422),
    summary="Bookings of the imported statements, newest first; the waiting ones with suggestions",
)
async def list_transactions(
    ctx: Context,
    principal: Reader,
    status: Annotated[list[TransactionStatus] | None, Query(description="One or more")] = None,
    direction: Annotated[Direction | None, Query()] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> TransactionPage:
    found = await ctx.bank.transactions(
        statuses=tuple(status or ()), direction=direction, page=page, page_size=page_size
    )
    hidden = await _hidden(ctx, principal, list(found.items))
    return TransactionPage(
        items=[TransactionOut.of(v, hidden) for v in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/bank-transactions/{transaction_id}",
    responses=problem_responses(401, 403, 404, 422),
    summary="One booking",
)
async def read_transaction(
    ctx: Context, principal: Reader, transaction_id: TransactionId
) -> TransactionOut:
    view = await ctx.bank.transaction(transaction_id)
    if view is None:
        raise NotFound("bank transaction", transaction_id)
    return TransactionOut.of(view, await _hidden(ctx, principal, [view]))


async def _hidden(
    ctx: Context, principal: Principal, views: list[TransactionView]
) -> dict[str, str]:
    """The erased people among the bookings and their suggestions, for a caller without
    billing:tax: booking id or suggested invoice number -> subject id."""

    async def find() -> dict[str, str]:
        bookings = [
            (
                t.id,
                [a.invoice_number for a in t.allocations],
                t.payout_id,
                t.line.counterparty_iban,
                t.line.counterparty_name,
                t.imported_at,
            )
            for t in (v.transaction for v in views)
        ]
        found = await ctx.erased.restricted_bookings(bookings)
        suggested = [s.invoice_number for v in views for s in v.suggestions]
        return {**found, **await ctx.erased.restricted_numbers(suggested)}

    return await hidden(principal, find)


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_numbers: list[InvoiceNumber] = Field(min_length=1, max_length=50)
    amounts: dict[InvoiceNumber, MoneyAmount] | None = Field(
        default=None,
        description="Per invoice number the part it gets; without: one invoice takes the "
        "whole booking, several take their open amounts (which must add up to it)",
    )

    @model_validator(mode="after")
    def _amounts_name_the_invoices(self) -> MatchIn:
        stray = set(self.amounts or {}) - set(self.invoice_numbers)
        if stray:
            raise ValueError(f"amounts for invoices not in invoice_numbers: {sorted(stray)}")
        return self

    def allocations(self) -> list[ManualAllocation]:
        amounts = self.amounts or {}
        return [ManualAllocation(n, amounts.get(n)) for n in self.invoice_numbers]


@router.post(
    "/bank-transactions/{transaction_id}/match",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Match a waiting credit to invoices: books a payment per invoice",
    response_model=TransactionOut,
)
async def match(
    ctx: Context, principal: Admin, transaction_id: TransactionId, body: MatchIn
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: match_transaction(uow, transaction_id, body.allocations(), ctx.clock())
        ),
        present=lambda tx: _decided(ctx, principal, tx),
    )


async def _decided(ctx: Context, principal: Principal, tx: BankTransaction) -> TransactionOut:
    """A booking a person just decided, shown as the read routes show it: one of an
    erased person (by the invoices it now pays, or its payer) with placeholders."""
    view = TransactionView(tx, ())
    return TransactionOut.of(view, await _hidden(ctx, principal, [view]))


class IgnoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500, description="Why it is no customer payment")


@router.post(
    "/bank-transactions/{transaction_id}/ignore",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Mark a waiting booking as no customer payment, with a note",
    response_model=TransactionOut,
)
async def ignore(
    ctx: Context, principal: Admin, transaction_id: TransactionId, body: IgnoreIn
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: ignore_transaction(uow, transaction_id, body.note, ctx.clock())
        ),
        present=lambda tx: _decided(ctx, principal, tx),
    )
