"""HTTP routes of incoming (supplier) invoices: receive, read, complete, approve, reject."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile, status
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import Instant, MoneyAmount, Page, PageOut, QueryDate, SignedAmount
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.blobs import SERVED_HEADERS
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import PayloadTooLarge, problem_responses
from pydantic import BaseModel, ConfigDict, Field, Json, ValidationInfo, field_validator

from kontor_billing.api.erasure import any_of, forbid_unless_tax, hidden
from kontor_billing.api.invoices import PageSize, Reader
from kontor_billing.application.bank import compact_bank_code
from kontor_billing.application.incoming import (
    MAX_INVOICE_BYTES,
    IncomingFilter,
    approve_invoice,
    enter_fields,
    receive_invoice,
    reject_invoice,
)
from kontor_billing.context import Context, IncomingContext
from kontor_billing.domain.incoming import (
    STATUSES,
    Address,
    DueEntry,
    IncomingInvoice,
    InvoiceFields,
    Skonto,
    Status,
    Supplier,
    VatRow,
)

router = APIRouter(tags=["incoming invoices"])

InvoiceId = Annotated[str, Path(min_length=1, max_length=64, examples=["in_01JDZ3K8W2"])]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(min_length=1, max_length=64)]


def incoming(ctx: Context) -> IncomingContext:
    if ctx.incoming is None:
        raise RuntimeError("billing was built without incoming invoices (main.create_app)")
    return ctx.incoming


Incoming = Annotated[IncomingContext, Depends(incoming)]


# --- input ------------------------------------------------------------------------


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    street: Text | None = None
    postcode: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    city: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None


class SupplierIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Text = Field(examples=["Papier & Co. Großhandel GmbH"])
    vat_id: Annotated[str, Field(min_length=4, max_length=20)] | None = None
    tax_number: Annotated[str, Field(min_length=5, max_length=30)] | None = None
    address: AddressIn = Field(default_factory=AddressIn)
    iban: Annotated[str, Field(min_length=15, max_length=42)] | None = None
    bic: Annotated[str, Field(min_length=8, max_length=11)] | None = None

    @field_validator("iban", "bic")
    @classmethod
    def _bank(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind: Literal["iban", "bic"] = "iban" if info.field_name == "iban" else "bic"
        return None if value is None else compact_bank_code(kind, value)


class VatRowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_percent: MoneyAmount = Field(examples=["19.00"])
    basis: MoneyAmount
    vat: MoneyAmount
    category: Annotated[str, Field(pattern=r"^[A-Z]{1,2}$")] = "S"


class SkontoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent: MoneyAmount = Field(examples=["2.00"])
    days: int = Field(ge=0, le=365, strict=True, examples=[14])


class FieldsIn(BaseModel):
    """What a person reads off a plain PDF (a PDF without embedded XML)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    supplier: SupplierIn
    number: Short = Field(examples=["RG-2026-117"])
    issue_date: date = Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))
    due_date: date | None = Field(default=None, ge=date(2000, 1, 1), le=date(2099, 12, 31))
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    net_total: MoneyAmount | None = None
    vat_total: MoneyAmount | None = None
    gross_total: MoneyAmount
    amount_due: MoneyAmount | None = Field(default=None, description="Default: gross_total")
    vat_breakdown: list[VatRowIn] = Field(default_factory=list, max_length=20)
    payment_terms: Annotated[str, Field(max_length=1000)] | None = None
    skonto: SkontoIn | None = None
    buyer_reference: Short | None = None
    type_code: Literal["380", "381", "384"] = "380"

    def fields(self) -> InvoiceFields:
        s = self.supplier
        return InvoiceFields(
            type_code=self.type_code,
            number=self.number,
            issue_date=self.issue_date,
            due_date=self.due_date,
            currency=self.currency,
            supplier=Supplier(
                name=s.name,
                vat_id=s.vat_id.replace(" ", "").upper() if s.vat_id else None,
                tax_number=s.tax_number,
                address=Address(**s.address.model_dump()),
                iban=s.iban,
                bic=s.bic,
            ),
            buyer_reference=self.buyer_reference,
            net_total=self.net_total,
            vat_total=self.vat_total,
            gross_total=self.gross_total,
            amount_due=self.gross_total if self.amount_due is None else self.amount_due,
            vat_breakdown=tuple(
                VatRow(r.category, r.rate_percent, r.basis, r.vat) for r in self.vat_breakdown
            ),
            payment_terms=self.payment_terms,
            skonto=None
            if self.skonto is None
            else Skonto(
                percent=self.skonto.percent,
                days=self.skonto.days,
                until=self.issue_date + timedelta(days=self.skonto.days),
            ),
        )


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = Field(
        default=None,
        description="SKR03/SKR04 expense account; default: the supplier's from the settings, "
        "else the global one",
        examples=["3400"],
    )
    not_a_duplicate: bool = Field(
        default=False,
        strict=True,
        description="Required true to approve an invoice flagged duplicate_suspected",
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        examples=["Leistung nicht erbracht"]
    )


# --- output -----------------------------------------------------------------------


class AddressOut(BaseModel):
    street: str | None
    postcode: str | None
    city: str | None
    country: str | None


class SupplierOut(BaseModel):
    name: str | None
    vat_id: str | None
    tax_number: str | None
    address: AddressOut
    iban: str | None
    bic: str | None
    email: str | None


class VatRowOut(BaseModel):
    category: str | None
    rate_percent: SignedAmount | None = Field(description="EN 16931 BT-119, e.g. '19.00'")
    basis: SignedAmount | None
    vat: SignedAmount | None


class LineOut(BaseModel):
    line_id: str | None
    name: str | None
    quantity: SignedAmount | None
    unit_code: str | None
    unit_price: SignedAmount | None
    net: SignedAmount | None
    vat_category: str | None
    vat_rate_percent: SignedAmount | None
    seller_item_id: str | None


class SkontoOut(BaseModel):
    percent: SignedAmount
    days: int | None
    until: date | None
    basis: SignedAmount | None
    amount_after_discount: SignedAmount | None = Field(description="What to pay by `until`")


class FindingOut(BaseModel):
    rule: str
    rule_set: str
    text: str


class ValidationOut(BaseModel):
    outcome: Literal["accepted", "accepted_with_warnings", "refused", "not_checked"]
    rule_sets: list[str] = Field(description="What was checked: XSD, EN16931, XRechnung, ...")
    rule_ids: list[str] = Field(description="The failed rules (refused)")
    errors: list[FindingOut]
    warnings: list[FindingOut]
    not_checked: list[str] = Field(description="What could not be checked, and why")


class DuplicateOut(BaseModel):
    of: str
    reason: Literal["same_file", "same_supplier_and_number", "same_supplier_amount_and_date"]


class IncomingOut(BaseModel):
    id: str
    status: Status
    duplicate: bool = Field(description="True: this file was received before; this is that one")
    duplicate_suspected: bool
    duplicates: list[DuplicateOut]
    format: Literal["cii", "ubl", "facturx-pdf", "pdf"]
    filename: str
    media_type: str
    size: int
    sha256: str
    file_url: str
    received_at: Instant
    received_by: str | None
    supplier: SupplierOut
    type_code: str | None
    number: str | None
    issue_date: date | None
    due_date: date | None
    delivery_date: date | None
    currency: str | None
    buyer_name: str | None
    buyer_reference: str | None
    order_reference: str | None
    net_total: SignedAmount | None
    vat_total: SignedAmount | None
    gross_total: SignedAmount | None
    prepaid: SignedAmount | None
    amount_due: SignedAmount | None
    vat_breakdown: list[VatRowOut]
    payment_terms: str | None
    skonto: SkontoOut | None
    lines: list[LineOut]
    specification: str | None
    validation: ValidationOut
    approved_account: str | None
    approved_by: str | None
    approved_at: Instant | None
    rejected_reason: str | None
    rejected_by: str | None
    rejected_at: Instant | None
    paid_at: Instant | None = Field(
        default=None, description="When the bank statement settled the transfer paying it"
    )
    restricted: bool = Field(
        default=False,
        description="The supplier is a person (a sole trader) who was erased since: the "
        "invoice is kept (§147 AO, §14b UStG) and their name, VAT id, tax number, street, "
        "IBAN, BIC and e-mail are shown to the billing:tax scope only (here: placeholders); "
        "its file to that scope only",
    )

    def without_supplier(self) -> IncomingOut:
        """As shown to a caller who may not see an erased supplier."""
        address = self.supplier.address.model_copy(update={"street": None})
        supplier = SupplierOut(
            name=PLACEHOLDER_TEXT,
            vat_id=None,
            tax_number=None,
            address=address,
            iban=None,
            bic=None,
            email=None,
        )
        return self.model_copy(update={"supplier": supplier, "restricted": True})

    @classmethod
    def of(cls, invoice: IncomingInvoice, *, duplicate: bool = False) -> IncomingOut:
        f = invoice.fields
        r = invoice.report
        s = f.skonto
        return cls(
            id=invoice.id,
            status=invoice.status,
            duplicate=duplicate,
            duplicate_suspected=invoice.duplicate_suspected,
            duplicates=[DuplicateOut(of=h.of, reason=h.reason) for h in invoice.duplicates],
            format=invoice.format,
            filename=invoice.filename,
            media_type=invoice.media_type,
            size=invoice.size,
            sha256=invoice.sha256,
            file_url=f"/incoming-invoices/{invoice.id}/file",
            received_at=invoice.received_at,
            received_by=invoice.received_by,
            supplier=SupplierOut(
                name=f.supplier.name,
                vat_id=f.supplier.vat_id,
                tax_number=f.supplier.tax_number,
                address=AddressOut(**vars(f.supplier.address)),
                iban=f.supplier.iban,
                bic=f.supplier.bic,
                email=f.supplier.email,
            ),
            type_code=f.type_code,
            number=f.number,
            issue_date=f.issue_date,
            due_date=f.due_date,
            delivery_date=f.delivery_date,
            currency=f.currency,
            buyer_name=f.buyer_name,
            buyer_reference=f.buyer_reference,
            order_reference=f.order_reference,
            net_total=f.net_total,
            vat_total=f.vat_total,
            gross_total=f.gross_total,
            prepaid=f.prepaid,
            amount_due=f.amount_due,
            vat_breakdown=[
                VatRowOut(category=v.category, rate_percent=v.rate, basis=v.basis, vat=v.vat)
                for v in f.vat_breakdown
            ],
            payment_terms=f.payment_terms,
            skonto=None
            if s is None
            else SkontoOut(
                percent=s.percent,
                days=s.days,
                until=s.until,
                basis=s.basis,
                amount_after_discount=None
                if f.amount_due is None
                else f.amount_due - s.discount(f.amount_due),
            ),
            lines=[
                LineOut(
                    line_id=li.line_id,
                    name=li.name,
                    quantity=li.quantity,
                    unit_code=li.unit_code,
                    unit_price=li.unit_price,
                    net=li.net,
                    vat_category=li.vat_category,
                    vat_rate_percent=li.vat_rate,
                    seller_item_id=li.seller_item_id,
                )
                for li in f.lines
            ],
            specification=f.specification,
            validation=ValidationOut(
                outcome=r.outcome,
                rule_sets=list(r.rule_sets),
                rule_ids=r.rule_ids,
                errors=[
                    FindingOut(rule=e.rule, rule_set=e.rule_set, text=e.text) for e in r.errors
                ],
                warnings=[
                    FindingOut(rule=w.rule, rule_set=w.rule_set, text=w.text) for w in r.warnings
                ],
                not_checked=list(r.not_checked),
            ),
            approved_account=invoice.approved_account,
            approved_by=invoice.approved_by,
            approved_at=invoice.approved_at,
            rejected_reason=invoice.rejected_reason,
            rejected_by=invoice.rejected_by,
            rejected_at=invoice.rejected_at,
            paid_at=invoice.paid_at,
        )


class IncomingPage(PageOut[IncomingOut]):
    pass


class DueOut(BaseModel):
    id: str
    number: str | None
    supplier_name: str | None
    status: Status
    currency: str | None
    amount_due: SignedAmount | None
    due_date: date | None
    days_left: int | None = Field(description="Until the due date; negative: overdue")
    skonto_until: date | None = Field(description="Only while the Skonto deadline is ahead")
    skonto_days_left: int | None
    amount_after_skonto: SignedAmount | None
    next_deadline: date | None

    restricted: bool = Field(
        default=False, description="An erased supplier's: the name for billing:tax only"
    )

    @classmethod
    def of(cls, entry: DueEntry, restricted: bool = False) -> DueOut:
        invoice = entry.invoice
        return cls(
            restricted=restricted,
            id=invoice.id,
            number=invoice.fields.number,
            supplier_name=PLACEHOLDER_TEXT if restricted else invoice.fields.supplier.name,
            status=invoice.status,
            currency=invoice.fields.currency,
            amount_due=invoice.fields.amount_due,
            due_date=entry.due_date,
            days_left=entry.days_left,
            skonto_until=entry.skonto_until,
            skonto_days_left=entry.skonto_days_left,
            amount_after_skonto=entry.skonto_amount,
            next_deadline=entry.next_deadline,
        )


class DuePage(PageOut[DueOut]):
    pass


# --- routes -----------------------------------------------------------------------


def _new_id() -> str:
    from uuid import uuid4

    return f"in_{uuid4().hex[:20]}"


async def _read(file: UploadFile) -> bytes:
    data = await file.read(MAX_INVOICE_BYTES + 1)
    if len(data) > MAX_INVOICE_BYTES:
        raise PayloadTooLarge(detail=f"an invoice file may have at most {MAX_INVOICE_BYTES} bytes")
    return data


@router.post(
    "/incoming-invoices",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": IncomingOut, "description": "This file was received before (duplicate)"},
        **problem_responses(401, 403, 413, 422),
    },
    summary="Receive a supplier's invoice: XRechnung/ZUGFeRD/Factur-X CII or UBL 2.1 XML, "
    "a ZUGFeRD/Factur-X PDF, or a plain PDF (multipart field 'file', at most 10 MiB)",
    description="The kind is read from the content. E-invoices are parsed and validated by "
    "the EN 16931 rules (XRechnung BR-DE where it is one); a refused one is kept with status "
    "`refused` and its rule ids. The same bytes again answer 200 with the first record and "
    "`duplicate: true`; the same supplier and number (or amount and date) in another file "
    "is kept and flagged `duplicate_suspected`. A plain PDF takes its fields from the form "
    "field `fields` (JSON, as `PUT .../fields`) or later.",
)
async def post_incoming(
    ctx: Context,
    response: Response,
    principal: Annotated[Principal, Depends(require_scope("billing:write"))],
    file: Annotated[UploadFile, File(description="The invoice file as received")],
    fields: Annotated[
        Json[FieldsIn] | None,
        Form(description="For a plain PDF: its fields as JSON (see PUT .../fields)"),
    ] = None,
) -> IncomingOut:
    # not through ctx.answers (tests/shape OUTSIDE_A_UNIT_OF_WORK): the file goes to
    # GridFS outside any unit of work, between two blocks, and only the second tells 201
    # from 200; the same bytes again answer 200 with the first record, nothing twice
    received = await receive_invoice(
        ctx.transactor,
        incoming(ctx).files,
        data=await _read(file),
        filename=(file.filename or "invoice")[:200],
        fields=None if fields is None else fields.fields(),
        new_id=_new_id,
        clock=ctx.clock,
        by=principal.subject,
    )
    if received.duplicate:
        response.status_code = status.HTTP_200_OK
    # the same file again answers the first record: an erased supplier's is masked
    [shown] = await _shown(ctx, principal, [received.invoice], duplicate=received.duplicate)
    return shown


@router.get(
    "/incoming-invoices",
    responses=problem_responses(401, 403, 422),
    summary="Incoming invoices, newest received first; filters status, supplier, due_before",
)
async def list_incoming(
    ctx: Context,
    principal: Reader,
    box: Incoming,
    status_: Annotated[list[Status] | None, Query(alias="status", max_length=len(STATUSES))] = None,
    supplier: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Part of the name, or VAT id")
    ] = None,
    due_before: Annotated[QueryDate | None, Query(description="Due date before this day")] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> IncomingPage:
    items, total = await box.queries.page(
        IncomingFilter(tuple(status_ or ()), supplier, due_before), page=page, page_size=page_size
    )
    return IncomingPage(
        items=await _shown(ctx, principal, items), page=page, page_size=page_size, total=total
    )


async def _erased(ctx: Context, principal: Principal, ids: list[str]) -> dict[str, str]:
    return await hidden(principal, lambda: ctx.erased.restricted_incoming(ids))


async def _shown(
    ctx: Context, principal: Principal, invoices: list[IncomingInvoice], duplicate: bool = False
) -> list[IncomingOut]:
    erased = await _erased(ctx, principal, [i.id for i in invoices])
    shown = [IncomingOut.of(i, duplicate=duplicate) for i in invoices]
    return [o.without_supplier() if o.id in erased else o for o in shown]


async def _shown_one(ctx: Context, principal: Principal, invoice: IncomingInvoice) -> IncomingOut:
    """A record a write route changed, as the read routes show it (ADR 0113)."""
    [shown] = await _shown(ctx, principal, [invoice])
    return shown


@router.get(
    "/incoming-invoices/due",
    responses=problem_responses(401, 403, 422),
    summary="What is due: open (received, approved) invoices, the next deadline first",
    description="Per invoice the due date and, while it is ahead, the Skonto deadline with the "
    "amount to pay by then and the days left (Europe/Berlin calendar days).",
)
async def due_incoming(
    ctx: Context,
    principal: Reader,
    page: Page = 1,
    page_size: PageSize = 50,
) -> DuePage:
    entries = await incoming(ctx).queries.due(ctx.clock().astimezone(BERLIN).date())
    start = (page - 1) * page_size
    shown = entries[start : start + page_size]
    erased = await _erased(ctx, principal, [e.invoice.id for e in shown])
    return DuePage(
        items=[DueOut.of(e, e.invoice.id in erased) for e in shown],
        page=page,
        page_size=page_size,
        total=len(entries),
    )


@router.get(
    "/incoming-invoices/{invoice_id}",
    responses=problem_responses(401, 403, 404),
    summary="One incoming invoice with its fields and validation report",
)
async def get_incoming(
    ctx: Context, principal: Reader, box: Incoming, invoice_id: InvoiceId
) -> IncomingOut:
    invoice = await box.queries.get(invoice_id)
    if invoice is None:
        raise NotFound("incoming invoice", invoice_id)
    [shown] = await _shown(ctx, principal, [invoice])
    return shown


@router.get(
    "/incoming-invoices/{invoice_id}/file",
    responses={
        200: {"content": {"application/pdf": {}, "application/xml": {}}},
        **problem_responses(401, 403, 404),
    },
    response_class=Response,
    summary="The file exactly as received (GoBD); its sha256 in the X-Content-SHA256 header",
)
async def incoming_file(
    ctx: Context, principal: Reader, box: Incoming, invoice_id: InvoiceId
) -> Response:
    found = await box.queries.file(invoice_id)
    if found is None:
        raise NotFound("incoming invoice", invoice_id)
    await forbid_unless_tax(
        principal,
        lambda: any_of(ctx.erased.restricted_incoming([invoice_id])),
        f"The incoming invoice {invoice_id}",
    )
    invoice, blob = found
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in invoice.filename)
    return Response(
        content=blob.data,
        media_type=invoice.media_type,
        headers={
            **SERVED_HEADERS,
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Content-SHA256": invoice.sha256,
        },
    )


@router.put(
    "/incoming-invoices/{invoice_id}/fields",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Enter the fields of a plain PDF (not of an e-invoice, not after approval)",
    response_model=IncomingOut,
)
async def put_fields(
    ctx: Context,
    principal: Annotated[Principal, Depends(require_scope("billing:write"))],
    invoice_id: InvoiceId,
    body: FieldsIn,
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: enter_fields(transactor, invoice_id, body.fields()),
        present=lambda invoice: _shown_one(ctx, principal, invoice),
    )


@router.post(
    "/incoming-invoices/{invoice_id}/approve",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Approve for payment and book to an expense account (SKR03/SKR04)",
    response_model=IncomingOut,
)
async def approve(
    ctx: Context,
    invoice_id: InvoiceId,
    principal: Annotated[Principal, Depends(require_scope("billing:admin"))],
    body: ApproveIn | None = None,
) -> Response:
    wanted = body or ApproveIn()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: approve_invoice(
            transactor,
            invoice_id,
            account=wanted.account,
            not_a_duplicate=wanted.not_a_duplicate,
            policy=incoming(ctx).policy,
            by=principal.subject,
            clock=ctx.clock,
        ),
        present=lambda invoice: _shown_one(ctx, principal, invoice),
    )


@router.post(
    "/incoming-invoices/{invoice_id}/reject",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Reject with a reason (the record and its file stay, GoBD)",
    response_model=IncomingOut,
)
async def reject(
    ctx: Context,
    invoice_id: InvoiceId,
    body: RejectIn,
    principal: Annotated[Principal, Depends(require_scope("billing:admin"))],
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: reject_invoice(
            transactor, invoice_id, reason=body.reason, by=principal.subject, clock=ctx.clock
        ),
        present=lambda invoice: _shown_one(ctx, principal, invoice),
    )
