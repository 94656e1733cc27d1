"""HTTP routes of returns: the public withdrawal function and merchant returns."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import (
    Flag,
    Instant,
    LineNo,
    MoneyAmount,
    Page,
    PageOut,
    Quantity,
    QueryInt,
)
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import RateLimited
from kontor_servicekit.errors import Forbidden, problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.api.withdrawal_pages import confirmation_message
from kontor_orders.application.returns import (
    RequestReturn,
    close_return,
    confirm_withdrawal,
    receive_return,
    request_return,
    start_withdrawal,
)
from kontor_orders.context import Context
from kontor_orders.domain.returns import Return, ReturnLine, UnknownReturn

router = APIRouter(tags=["returns"])

ReturnId = Annotated[str, Path(min_length=1, max_length=64)]

WITHDRAW_TAG = "Vertrag widerrufen (withdrawal)"


async def rate_limited(request: Request, ctx: Context) -> None:
    """The public withdrawal function admits so many requests per client address."""
    client = request.client.host if request.client else "unknown"
    wait = ctx.withdrawal_limiter.retry_after(client)
    if wait is not None:
        raise RateLimited(
            f"Too many withdrawal requests from this address; try again in {wait} s.",
            retry_after_s=wait,
        )


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: LineNo = Field(description="Order line")
    quantity: Quantity
    reason: str | None = Field(default=None, max_length=200, description="e.g. too_small")


class ReturnLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    reason: str | None

    @classmethod
    def of(cls, line: ReturnLine) -> ReturnLineOut:
        return cls(line_no=line.line_no, sku=line.sku, quantity=line.quantity, reason=line.reason)


# ------------------------------------------------------------------ public withdrawal

WITHDRAWAL_DESCRIPTION = """\
**Vertrag widerrufen**: the electronic withdrawal function (Art. 11a of Directive
2011/83/EU as amended by Directive (EU) 2023/2673, applicable from 19 June 2026).
No login or token: identify the order by its number and the e-mail address used when
ordering. Step 1 (this call) chooses the lines and answers a pending withdrawal; nothing
is declared yet. Step 2, `POST /withdrawals/{id}/confirmation`, declares the withdrawal
and answers at once with the date and time it was received. Limited to 10 requests per
minute and client address (429).

An order not shipped yet can be withdrawn from as well (§355 BGB): the withdrawal is of
the whole order (`cancels_order: true`; name no lines, or every line with all its
pieces, else 422), and its declaration cancels the order and refunds what was paid."""


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"order_number": "B-2026-000042", "email": "anna@example.de"},
                {
                    "order_number": "B-2026-000042",
                    "email": "anna@example.de",
                    "lines": [{"line_no": 1, "quantity": 1, "reason": "too_small"}],
                },
            ]
        },
    )
    order_number: str = Field(min_length=1, max_length=32)
    email: str = Field(min_length=3, max_length=254)
    lines: list[ReturnLineIn] | None = Field(
        default=None, min_length=1, max_length=200, description="None: everything shipped"
    )


class PendingWithdrawalOut(BaseModel):
    id: str
    status: Literal["pending"] = "pending"
    order_number: str
    lines: list[ReturnLineOut]
    deadline: Instant | None = Field(description="End of the withdrawal period, if it started")
    confirm_with: str = Field(description="POST here to declare the withdrawal")
    cancels_order: bool = Field(
        default=False, description="Nothing is shipped yet: the declaration cancels the order"
    )


class WithdrawalConfirmationOut(BaseModel):
    withdrawal_id: str
    return_id: str
    status: Literal["confirmed"] = "confirmed"
    order_number: str
    lines: list[ReturnLineOut]
    received_at: Instant = Field(description="When the declaration was received")
    message: str
    order_cancelled: bool = Field(
        default=False, description="The order was not shipped yet and is cancelled"
    )
    refund: RefundOut | None = Field(
        default=None, description="Decided at once when the order is cancelled (what was paid)"
    )


@router.post(
    "/withdrawals",
    status_code=status.HTTP_201_CREATED,
    response_model=PendingWithdrawalOut,
    dependencies=[Depends(rate_limited)],
    tags=[WITHDRAW_TAG],
    responses=problem_responses(404, 409, 422, 429),
    summary="Vertrag widerrufen, step 1: identify the order and choose the lines",
    description=WITHDRAWAL_DESCRIPTION,
)
async def post_withdrawal(ctx: Context, body: WithdrawalIn) -> Response:
    lines = None if body.lines is None else [(x.line_no, x.quantity, x.reason) for x in body.lines]
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: start_withdrawal(
            transactor,
            order_number=body.order_number,
            email=body.email,
            lines=lines,
            clock=ctx.clock,
        ),
        present=lambda pending: PendingWithdrawalOut(
            id=pending.id,
            order_number=pending.order_number,
            lines=[ReturnLineOut.of(x) for x in pending.lines],
            deadline=pending.deadline,
            confirm_with=f"/withdrawals/{pending.id}/confirmation",
            cancels_order=pending.cancels_order,
        ),
        status_code=status.HTTP_201_CREATED,
    )


@router.post(
    "/withdrawals/{withdrawal_id}/confirmation",
    status_code=status.HTTP_201_CREATED,
    response_model=WithdrawalConfirmationOut,
    dependencies=[Depends(rate_limited)],
    tags=[WITHDRAW_TAG],
    responses=problem_responses(404, 409, 429),
    summary="Vertrag widerrufen, step 2: declare the withdrawal (emits ReturnRequested)",
    description="Answers at once with the date and time the declaration was received.",
)
async def post_withdrawal_confirmation(ctx: Context, withdrawal_id: ReturnId) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: confirm_withdrawal(transactor, withdrawal_id, ctx.clock),
        present=lambda r: WithdrawalConfirmationOut(
            withdrawal_id=withdrawal_id,
            return_id=r.id,
            order_number=r.order_number,
            lines=[ReturnLineOut.of(x) for x in r.lines],
            received_at=r.requested_at,
            message=confirmation_message(r.order_number, r.requested_at),
            order_cancelled=r.cancelled_order,
            refund=RefundOut.of(r) if r.cancelled_order else None,
        ),
        status_code=status.HTTP_201_CREATED,
    )


# ------------------------------------------------------------------ merchant returns


class ReturnIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "0b6f1c1e-4c1a-4f7e-9d0a-2f3c1e2d4b5a",
                    "lines": [{"line_no": 1, "quantity": 1, "reason": "defect"}],
                    "kind": "goodwill",
                },
                {
                    "order_id": "0b6f1c1e-4c1a-4f7e-9d0a-2f3c1e2d4b5a",
                    "lines": [{"line_no": 1, "quantity": 1}],
                    "kind": "withdrawal",
                    "override_deadline": True,
                    "note": "Widerruf per Brief am 14. Tag eingegangen, heute erfasst",
                },
            ]
        },
    )
    order_id: str = Field(min_length=1, max_length=64)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    kind: Literal["withdrawal", "goodwill", "complaint"] = "goodwill"
    note: str | None = Field(default=None, max_length=2000)
    override_deadline: Flag = Field(
        default=False, description="Accept a withdrawal after the period (orders:admin, note)"
    )


class InspectedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: LineNo
    quantity: Quantity
    condition: str = Field(min_length=1, max_length=40, description="as_new, opened, damaged")
    disposition: Literal["restock", "write_off"]


class ReceiptIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lines": [
                        {
                            "line_no": 1,
                            "quantity": 1,
                            "condition": "as_new",
                            "disposition": "restock",
                        }
                    ]
                }
            ]
        },
    )
    lines: list[InspectedLineIn] = Field(min_length=1, max_length=200)


class InspectedLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    condition: str
    disposition: str


class RefundOut(BaseModel):
    amount: MoneyAmount
    includes_shipping: bool

    @classmethod
    def of(cls, r: Return) -> RefundOut | None:
        if r.refund is None:
            return None
        return cls(amount=r.refund.amount, includes_shipping=r.refund.includes_shipping)


class OutstandingLineOut(BaseModel):
    line_no: int
    quantity: int


class ReturnOut(BaseModel):
    id: str
    order_id: str
    order_number: str
    status: str = Field(description="requested, partially_received, received or completed")
    withdrawal: bool
    kind: str
    note: str | None
    lines: list[ReturnLineOut]
    deadline: Instant | None
    requested_at: Instant
    inspected: list[InspectedLineOut]
    received_at: Instant | None
    refund: RefundOut | None
    completed_at: Instant | None
    outstanding: list[OutstandingLineOut] = Field(
        description="Pieces announced and not received yet"
    )
    closed_reason: str | None = Field(
        description="Why the merchant closed the return before every piece arrived"
    )
    cancelled_order: bool = Field(
        description="A withdrawal before shipment: the order was cancelled, no goods travel"
    )

    @classmethod
    def of(cls, r: Return) -> ReturnOut:
        return cls(
            id=r.id,
            order_id=r.order_id,
            order_number=r.order_number,
            status=r.status,
            withdrawal=r.withdrawal,
            kind=r.kind,
            note=r.note,
            lines=[ReturnLineOut.of(x) for x in r.lines],
            deadline=r.deadline,
            requested_at=r.requested_at,
            inspected=[
                InspectedLineOut(
                    line_no=x.line_no,
                    sku=x.sku,
                    quantity=x.quantity,
                    condition=x.condition,
                    disposition=x.disposition,
                )
                for x in r.inspected
            ],
            received_at=r.received_at,
            refund=RefundOut.of(r),
            completed_at=r.completed_at,
            outstanding=[
                OutstandingLineOut(line_no=n, quantity=q) for n, q in r.outstanding.items()
            ]
            if r.status != "completed"
            else [],
            closed_reason=r.closed_reason,
            cancelled_order=r.cancelled_order,
        )


@router.post(
    "/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record a return: withdrawal, complaint or goodwill (emits ReturnRequested)",
    description="A withdrawal after the 14-day period is refused (409 with `deadline`) "
    "unless `override_deadline` is set with a `note`, which needs `orders:admin`. "
    "With an `Idempotency-Key` a retry answers the first return again.",
)
async def post_return(
    ctx: Context,
    request: Request,
    body: ReturnIn,
    principal: Annotated[Principal, Depends(require_scope("orders:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if body.override_deadline and not principal.has_scope("orders:admin"):
        raise Forbidden("Overriding the withdrawal deadline needs the scope orders:admin.")
    command = RequestReturn(
        order_id=body.order_id,
        lines=[(x.line_no, x.quantity, x.reason) for x in body.lines],
        kind=body.kind,
        note=body.note,
        override_deadline=body.override_deadline,
    )
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: request_return(transactor, command, ctx.clock),
        present=ReturnOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/returns/{out.id}",
    )


class ReturnPage(PageOut[ReturnOut]):
    """A page of returns (the kit's one list shape)."""


@router.get(
    "/returns",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Returns, newest first; status=open for those not yet settled",
)
async def list_returns(
    ctx: Context,
    status_: Annotated[
        Literal["open", "requested", "partially_received", "received", "completed"] | None,
        Query(alias="status"),
    ] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> ReturnPage:
    found = await ctx.returns.page(status_, page=page, page_size=page_size)
    items = [ReturnOut.of(r) for r in found.items]
    return ReturnPage(items=items, page=page, page_size=page_size, total=found.total)


@router.get(
    "/returns/{return_id}",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One return",
)
async def read_return(ctx: Context, return_id: ReturnId) -> ReturnOut:
    r = await ctx.returns.get(return_id)
    if r is None:
        raise UnknownReturn(return_id)
    return ReturnOut.of(r)


@router.post(
    "/returns/{return_id}/receipt",
    response_model=ReturnOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record arrival and inspection per line (emits ReturnReceived, ReturnCompleted)",
    description="Restocked lines go back into the catalog's stock. A line may appear "
    "several times (2 restocked + 1 written off); a receipt may be partial: the return "
    "stays open (`partially_received`, `outstanding`) until every announced piece came "
    "or the merchant closes it. Then the refund is decided: the goods' gross amounts, "
    "plus the standard shipping when a withdrawal takes back the whole order, each "
    "capped by what is still refundable on the line and the order.",
)
async def post_receipt(ctx: Context, return_id: ReturnId, body: ReceiptIn) -> Response:
    inspected = [(x.line_no, x.quantity, x.condition, x.disposition) for x in body.lines]
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: receive_return(transactor, return_id, inspected, ctx.clock),
        present=ReturnOut.of,
    )


class CloseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "third piece never arrived"}]},
    )
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/returns/{return_id}/close",
    response_model=ReturnOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Close a return before every piece arrived (emits ReturnCompleted)",
    description="The pieces not received are no longer expected (they may be returned "
    "again later); the refund for what arrived is decided.",
)
async def post_close(ctx: Context, return_id: ReturnId, body: CloseIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: close_return(transactor, return_id, body.reason, ctx.clock),
        present=ReturnOut.of,
    )
