"""HTTP routes of returns: the public withdrawal function and merchant returns."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from kontor_servicekit.apitypes import Instant, MoneyAmount, PageOut
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import RateLimited
from kontor_servicekit.errors import Forbidden, problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.api.withdrawal_pages import confirmation_message
from kontor_orders.application.returns import (
    RequestReturn,
    confirm_withdrawal,
    receive_return,
    request_return,
    start_withdrawal,
)
from kontor_orders.context import Context
from kontor_orders.domain.order import MAX_QUANTITY
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
    line_no: int = Field(ge=1, le=200, description="Order line")
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
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
minute and client address (429)."""


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


class WithdrawalConfirmationOut(BaseModel):
    withdrawal_id: str
    return_id: str
    status: Literal["confirmed"] = "confirmed"
    order_number: str
    lines: list[ReturnLineOut]
    received_at: Instant = Field(description="When the declaration was received")
    message: str


@router.post(
    "/withdrawals",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limited)],
    tags=[WITHDRAW_TAG],
    responses=problem_responses(404, 409, 422, 429),
    summary="Vertrag widerrufen, step 1: identify the order and choose the lines",
    description=WITHDRAWAL_DESCRIPTION,
)
async def post_withdrawal(ctx: Context, body: WithdrawalIn) -> PendingWithdrawalOut:
    pending = await start_withdrawal(
        ctx.transactor,
        order_number=body.order_number,
        email=body.email,
        lines=None
        if body.lines is None
        else [(x.line_no, x.quantity, x.reason) for x in body.lines],
        clock=ctx.clock,
    )
    return PendingWithdrawalOut(
        id=pending.id,
        order_number=pending.order_number,
        lines=[ReturnLineOut.of(x) for x in pending.lines],
        deadline=pending.deadline,
        confirm_with=f"/withdrawals/{pending.id}/confirmation",
    )


@router.post(
    "/withdrawals/{withdrawal_id}/confirmation",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limited)],
    tags=[WITHDRAW_TAG],
    responses=problem_responses(404, 409, 429),
    summary="Vertrag widerrufen, step 2: declare the withdrawal (emits ReturnRequested)",
    description="Answers at once with the date and time the declaration was received.",
)
async def post_withdrawal_confirmation(
    ctx: Context, withdrawal_id: ReturnId
) -> WithdrawalConfirmationOut:
    r = await confirm_withdrawal(ctx.transactor, withdrawal_id, ctx.clock)
    return WithdrawalConfirmationOut(
        withdrawal_id=withdrawal_id,
        return_id=r.id,
        order_number=r.order_number,
        lines=[ReturnLineOut.of(x) for x in r.lines],
        received_at=r.requested_at,
        message=confirmation_message(r.order_number, r.requested_at),
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
    override_deadline: bool = Field(
        default=False, description="Accept a withdrawal after the period (orders:admin, note)"
    )


class InspectedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1, le=200)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
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


class ReturnOut(BaseModel):
    id: str
    order_id: str
    order_number: str
    status: str = Field(description="requested, received or completed")
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
            refund=None
            if r.refund is None
            else RefundOut(amount=r.refund.amount, includes_shipping=r.refund.includes_shipping),
            completed_at=r.completed_at,
        )


@router.post(
    "/returns",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record a return: withdrawal, complaint or goodwill (emits ReturnRequested)",
    description="A withdrawal after the 14-day period is refused (409 with `deadline`) "
    "unless `override_deadline` is set with a `note`, which needs `orders:admin`.",
)
async def post_return(
    ctx: Context,
    body: ReturnIn,
    principal: Annotated[Principal, Depends(require_scope("orders:write"))],
) -> ReturnOut:
    if body.override_deadline and not principal.has_scope("orders:admin"):
        raise Forbidden("Overriding the withdrawal deadline needs the scope orders:admin.")
    command = RequestReturn(
        order_id=body.order_id,
        lines=[(x.line_no, x.quantity, x.reason) for x in body.lines],
        kind=body.kind,
        note=body.note,
        override_deadline=body.override_deadline,
    )
    r = await request_return(ctx.transactor, command, ctx.clock)
    return ReturnOut.of(r)


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
        Literal["open", "requested", "received", "completed"] | None, Query(alias="status")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
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
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record arrival and inspection per line (emits ReturnReceived, ReturnCompleted)",
    description="Restocked lines go back into the catalog's stock. The refund is the "
    "goods' gross amounts, plus the standard shipping when a withdrawal takes back the "
    "whole order.",
)
async def post_receipt(ctx: Context, return_id: ReturnId, body: ReceiptIn) -> ReturnOut:
    inspected = [(x.line_no, x.quantity, x.condition, x.disposition) for x in body.lines]
    r = await receive_return(ctx.transactor, return_id, inspected, ctx.clock)
    return ReturnOut.of(r)
