"""HTTP routes of invoices, cancellations (Storno) and corrections (credit notes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, Page, QueryDate, QueryInt, SignedAmount
from kontor_servicekit.auth import BILLING_TAX_SCOPE as TAX_SCOPE
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_billing.api.erasure import erased_since, pseudonymous_email
from kontor_billing.api.seller import SellerOut
from kontor_billing.application.invoicing import cancel_invoice
from kontor_billing.application.views import DocumentStatus, InvoiceFilter, InvoiceView, Status
from kontor_billing.context import Context
from kontor_billing.domain.invoice import Invoice

router = APIRouter(tags=["invoices"])
Number = Annotated[str, Path(min_length=1, max_length=32)]
#: ``billing:read``; a holder of ``billing:tax`` also sees the buyer of a restricted one
Reader = Annotated[Principal, Depends(require_scope("billing:read"))]
#: ``billing:admin``; its answers show an erased person as the read routes do (ADR 0113)
Admin = Annotated[Principal, Depends(require_scope("billing:admin"))]


class InvoiceLineOut(BaseModel):
    line_no: int
    sku: str | None
    description: str
    quantity: int
    unit_price_net: SignedAmount
    vat_rate: Decimal
    vat_category: str
    net: SignedAmount
    vat: SignedAmount
    gross: SignedAmount


class VatRowOut(BaseModel):
    vat_rate: Decimal
    category: str = Field(description="EN 16931 VAT category: S, Z, E (§19 UStG), K (intra-EU)")
    net: SignedAmount
    vat: SignedAmount
    gross: SignedAmount


class BuyerOut(BaseModel):
    name: str
    company: str | None
    email: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None
    buyer_reference: str | None = Field(description="Leitweg-ID (XRechnung BT-10)")


class ReferenceOut(BaseModel):
    number: str
    kind: str
    issue_date: date


class InvoiceOut(BaseModel):
    id: str
    number: str
    kind: Literal["invoice", "cancellation", "correction"]
    status: Status = Field(
        description="issued; cancelled (a cancellation refers to it); corrected (a "
        "correction does). Cancellations and corrections are always issued."
    )
    order_id: str
    order_number: str | None
    seller: SellerOut | None
    buyer: BuyerOut
    buyer_vat_id: str | None
    currency: str
    issued_at: Instant
    issue_date: date
    due_date: date
    supply_date: date | None = Field(
        description="Date of supply (Leistungsdatum); null: the issue date (see notes)"
    )
    lines: list[InvoiceLineOut]
    vat_breakdown: list[VatRowOut]
    net_total: SignedAmount
    vat_total: SignedAmount
    gross_total: SignedAmount
    notes: list[str]
    sample: bool = Field(description="Issued with the example seller: not a valid invoice")
    original_number: str | None = Field(
        description="The invoice a cancellation/correction refers to"
    )
    reason: str | None
    references: list[ReferenceOut] = Field(description="Its cancellation and corrections")
    vat_country: str | None = Field(
        default=None,
        description="A distance sale taxed in the destination member state (One-Stop-Shop, "
        "§3c UStG): the state whose rates the lines carry; null: German VAT",
    )
    document_status: DocumentStatus = Field(
        default="pending",
        description="Its PDF and XML: pending (checked when issued, made on the first "
        "request), rendered (stored), failed (refused by the e-invoice rules in rule_ids)",
    )
    rule_ids: list[str] = Field(
        default_factory=list, description="For document_status failed: the broken rules"
    )
    restricted: bool = Field(
        default=False,
        description="The buyer was erased (Art. 17 DSGVO) after this was issued: it is "
        "kept as a tax record (§147 AO) and its buyer's name, e-mail, street, company and "
        "VAT id are shown to the billing:tax scope only (here: placeholders)",
    )

    @classmethod
    def of(cls, view: InvoiceView, erased_subject: str | None = None) -> InvoiceOut:
        """``erased_subject``: the buyer's subject id when the caller may not see them."""
        i: Invoice = view.invoice
        buyer = BuyerOut.model_validate(vars(i.buyer))
        if erased_subject is not None:
            buyer = buyer.model_copy(
                update={
                    "name": PLACEHOLDER_TEXT,
                    "company": None,
                    "email": pseudonymous_email(erased_subject),
                    "street": PLACEHOLDER_TEXT,
                    "vat_id": None,
                }
            )
        return cls(
            id=i.id,
            number=i.number,
            kind=i.kind,
            status=view.status,
            order_id=i.order_id,
            order_number=i.order_number,
            seller=SellerOut.of(i.seller) if i.seller else None,
            buyer=buyer,
            buyer_vat_id=None if erased_subject is not None else i.buyer_vat_id,
            currency=i.currency,
            issued_at=i.issued_at,
            issue_date=i.issue_date,
            due_date=i.due_date,
            supply_date=i.supply_date,
            lines=[InvoiceLineOut.model_validate({**vars(x), "gross": x.gross}) for x in i.lines],
            vat_breakdown=[
                VatRowOut.model_validate({**vars(r), "gross": r.gross}) for r in i.vat_breakdown
            ],
            net_total=i.net_total,
            vat_total=i.vat_total,
            gross_total=i.gross_total,
            notes=i.notes,
            sample=i.sample,
            original_number=i.original_number,
            reason=i.reason,
            references=[ReferenceOut.model_validate(vars(r)) for r in view.references],
            vat_country=i.vat_country,
            document_status=view.document_status,
            rule_ids=list(view.rule_ids),
            restricted=erased_subject is not None,
        )


async def restricted_for(
    ctx: Context, principal: Principal, invoices: list[Invoice]
) -> dict[str, str]:
    """invoice id -> the erased buyer's subject id, for the invoices ``principal`` may see
    only without their buyer (none for a holder of ``billing:tax``)."""
    if principal.has_scope(TAX_SCOPE):
        return {}
    restricted = await ctx.erased.restricted(invoices)
    return {i.id: ctx.erased.subject_of(i) or "" for i in invoices if i.id in restricted}


async def shown(ctx: Context, principal: Principal, views: list[InvoiceView]) -> list[InvoiceOut]:
    hidden = await restricted_for(ctx, principal, [v.invoice for v in views])
    return [InvoiceOut.of(v, hidden.get(v.invoice.id)) for v in views]


async def shown_issued(ctx: Context, principal: Principal, document: Invoice) -> InvoiceOut:
    """A document a write route just issued (a cancellation, a reissued invoice), shown
    as the read routes show it: an erased buyer's with placeholders (ADR 0113)."""
    [out] = await shown(ctx, principal, [InvoiceView(document, "issued", [])])
    return out


class InvoicePageOut(BaseModel):
    items: list[InvoiceOut]
    page: int
    page_size: int
    total: int


PageSize = Annotated[QueryInt, Query(ge=1, le=200)]


@router.get(
    "/invoices",
    responses=problem_responses(401, 403, 422),
    summary="Invoices (or cancellations), newest number first, filtered",
)
async def list_invoices(
    ctx: Context,
    principal: Reader,
    order_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="The order's id")
    ] = None,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    from_: Annotated[
        QueryDate | None, Query(alias="from", description="issued on or after")
    ] = None,
    to: Annotated[QueryDate | None, Query(description="issued on or before")] = None,
    customer_email: Annotated[
        str | None, Query(min_length=3, max_length=254, description="case-insensitive")
    ] = None,
    kind: Annotated[Literal["invoice", "cancellation"], Query()] = "invoice",
    page: Page = 1,
    page_size: PageSize = 50,
) -> InvoicePageOut:
    wanted = InvoiceFilter(
        kind=kind,
        statuses=tuple(status or ()),
        issued_from=from_,
        issued_to=to,
        customer_email=customer_email,
        order_id=order_id,
        issued_after=await erased_since(ctx, principal, customer_email),
    )
    found = await ctx.invoices.page(wanted, page=page, page_size=page_size)
    return InvoicePageOut(
        items=await shown(ctx, principal, list(found.items)),
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/invoices/{number}",
    responses=problem_responses(401, 403, 404),
    summary="One invoice, cancellation or correction by its number",
)
async def read_invoice(ctx: Context, principal: Reader, number: Number) -> InvoiceOut:
    view = await ctx.invoices.by_number(number)
    if view is None:
        raise NotFound("invoice", number)
    [out] = await shown(ctx, principal, [view])
    return out


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, min_length=1, max_length=500)


@router.post(
    "/invoices/{number}/cancel",
    status_code=201,
    response_model=InvoiceOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Cancel an invoice: its cancellation document (Storno) with its own number",
)
async def cancel(
    ctx: Context,
    principal: Admin,
    number: Number,
    body: Annotated[CancelIn | None, Body()] = None,
) -> Response:
    reason = body.reason if body else None
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: cancel_invoice(uow, number, reason, clock=ctx.clock, policy=ctx.policy)
        ),
        present=lambda cancellation: shown_issued(ctx, principal, cancellation),
        status_code=201,
    )


@router.get(
    "/credit-notes",
    responses=problem_responses(401, 403, 422),
    summary="The corrections (Rechnungskorrekturen) of an order",
)
async def list_credit_notes(
    ctx: Context,
    principal: Reader,
    order_id: Annotated[str, Query(min_length=1, max_length=64, description="The order's id")],
) -> list[InvoiceOut]:
    return await shown(ctx, principal, list(await ctx.invoices.credit_notes(order_id)))


@router.get(
    "/credit-notes/{number}",
    responses=problem_responses(401, 403, 404),
    summary="One correction by its number",
)
async def read_credit_note(ctx: Context, principal: Reader, number: Number) -> InvoiceOut:
    view = await ctx.invoices.by_number(number, kind="correction")
    if view is None:
        raise NotFound("credit note", number)
    [out] = await shown(ctx, principal, [view])
    return out
