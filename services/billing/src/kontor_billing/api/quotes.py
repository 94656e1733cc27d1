"""HTTP routes of quotes (Angebote): make, list, read, PDF, accept, decline.

Scope ``billing:write`` for every change (sales staff make quotes and record the
buyer's answer; ``billing:admin`` implies it), ``billing:read`` to read.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from kontor_contracts.personal import PLACEHOLDER_TEXT
from kontor_servicekit.apitypes import (
    Instant,
    MoneyAmount,
    Page,
    PageOut,
    Quantity,
    QueryDate,
    QueryInt,
)
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.vat_ids import vat_id_check_problem
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from kontor_billing.api.erasure import (
    any_of,
    erased_since,
    forbid_unless_tax,
    hidden,
    pseudonymous_email,
)
from kontor_billing.api.invoices import Reader
from kontor_billing.application.quotes import MakeQuote, accept_quote, decline_quote, make_quote
from kontor_billing.context import Context
from kontor_billing.domain.quotes import Quote, QuoteAddress, QuoteBuyer, QuoteLine, UnknownQuote

router = APIRouter(tags=["quotes"])
#: ``billing:write``; its answers show an erased buyer as the read routes do (ADR 0113)
Writer = Annotated[Principal, Depends(require_scope("billing:write"))]

QuoteNumber = Annotated[str, Path(min_length=1, max_length=32, examples=["AN-2026-000001"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Postcode = Annotated[str, Field(min_length=2, max_length=12)]
State = Literal["open", "accepted", "declined", "expired"]
Percent = Annotated[
    str,
    Field(
        pattern=r"^(0|[1-9][0-9]?)(\.[0-9]{1,2})?$",
        description="Discount in percent on every line, 0 to 99.99 (a JSON string)",
        examples=["10"],
    ),
]


class BuyerIn(BaseModel):
    """Who the quote is for (the shape of an order's customer)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: Name
    customer_id: str | None = Field(default=None, min_length=1, max_length=128)


class QuoteAddressIn(BaseModel):
    """A postal address (the shape of an order's billing or shipping address)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    company: Name | None = None
    street: Name
    country: Country
    postcode: Postcode
    city: Annotated[str, Field(min_length=1, max_length=100)]

    @field_validator("postcode")
    @classmethod
    def _german_postcode(cls, postcode: str, info: ValidationInfo) -> str:
        if info.data.get("country") == "DE" and re.fullmatch(r"[0-9]{5}", postcode) is None:
            raise ValueError("a German postcode has five digits")
        return postcode

    def address(self) -> QuoteAddress:
        return QuoteAddress(**self.model_dump())


class QuoteLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class QuoteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer": {"email": "einkauf@example.de", "name": "Erika Einkauf"},
                    "billing_address": {
                        "name": "Erika Einkauf",
                        "company": "Beispiel GmbH",
                        "street": "Hauptstr. 1",
                        "postcode": "10115",
                        "city": "Berlin",
                        "country": "DE",
                    },
                    "lines": [{"sku": "TEE-RED-M", "quantity": 40}],
                    "discount_percent": "10",
                    "notes": "Lieferung binnen 10 Werktagen nach Auftrag.",
                }
            ]
        },
    )
    customer: BuyerIn
    billing_address: QuoteAddressIn
    shipping_address: QuoteAddressIn | None = Field(
        default=None, description="Where the order goes; left out: the billing address"
    )
    buyer_vat_id: str | None = Field(default=None, min_length=4, max_length=20)
    buyer_reference: str | None = Field(
        default=None, min_length=1, max_length=46, description="Leitweg-ID (XRechnung BT-10)"
    )
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)
    discount_percent: Percent = "0"
    notes: str | None = Field(default=None, max_length=2000)
    valid_until: QueryDate | None = Field(
        default=None,
        description="Valid through this day (Berlin, YYYY-MM-DD); default: the setting",
    )
    language: Literal["de", "en"] = "de"

    @field_validator("buyer_vat_id")
    @classmethod
    def _vat_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = value.replace(" ", "").upper()
        problem = vat_id_check_problem(compact)
        if problem:
            raise ValueError(problem)
        return compact

    def command(self) -> MakeQuote:
        a = self.billing_address
        return MakeQuote(
            buyer=QuoteBuyer(
                email=self.customer.email,
                name=self.customer.name,
                customer_id=self.customer.customer_id,
                company=a.company,
                street=a.street,
                postcode=a.postcode,
                city=a.city,
                country=a.country,
                vat_id=self.buyer_vat_id,
                buyer_reference=self.buyer_reference,
            ),
            lines=[(line.sku, line.quantity) for line in self.lines],
            valid_until=self.valid_until,
            discount_percent=Decimal(self.discount_percent),
            notes=self.notes,
            shipping_address=None
            if self.shipping_address is None
            else self.shipping_address.address(),
            language=self.language,
        )


class QuoteLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    list_price_net: MoneyAmount = Field(description="The catalog's net when quoted")
    unit_price_net: MoneyAmount = Field(description="Quoted net per piece, after the discount")
    unit_price_gross: MoneyAmount
    vat_rate: str
    line_net: MoneyAmount
    line_gross: MoneyAmount

    @classmethod
    def of(cls, line: QuoteLine) -> QuoteLineOut:
        return cls(
            line_no=line.line_no,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            list_price_net=line.list_price_net,
            unit_price_net=line.unit_price_net,
            unit_price_gross=line.unit_price_gross,
            vat_rate=str(line.vat_rate),
            line_net=line.line_net,
            line_gross=line.line_gross,
        )


class QuoteBuyerOut(BaseModel):
    email: str
    name: str
    customer_id: str | None
    company: str | None
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None
    buyer_reference: str | None


class QuoteOut(BaseModel):
    number: str
    state: State
    buyer: QuoteBuyerOut
    shipping_address: QuoteAddressIn | None
    currency: str
    lines: list[QuoteLineOut]
    discount_percent: str
    net_total: MoneyAmount
    gross_total: MoneyAmount
    notes: str | None
    language: Literal["de", "en"]
    created_at: Instant
    valid_until: date = Field(description="Valid through this day (Berlin)")
    expires_at: Instant = Field(description="The moment it expires (midnight after valid_until)")
    decided_at: Instant | None = Field(description="When accepted, declined or expired")
    restricted: bool = Field(
        default=False,
        description="The buyer was erased since: the quote is kept as a business letter "
        "(§147 AO) and their e-mail, name, company, street, VAT id and the notes are shown "
        "to the billing:tax scope only (here: placeholders); its PDF to that scope only",
    )

    def without_buyer(self, subject_id: str) -> QuoteOut:
        """As shown to a caller who may not see the erased buyer ``subject_id``."""
        person = {"name": PLACEHOLDER_TEXT, "company": None, "street": PLACEHOLDER_TEXT}
        buyer = self.buyer.model_copy(
            update={**person, "email": pseudonymous_email(subject_id), "vat_id": None}
        )
        ship = self.shipping_address
        return self.model_copy(
            update={
                "buyer": buyer,
                "shipping_address": None if ship is None else ship.model_copy(update=person),
                "notes": None,
                "restricted": True,
            }
        )

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        ship = quote.shipping_address
        return cls(
            number=quote.number,
            state=quote.state,
            buyer=QuoteBuyerOut(**vars(quote.buyer)),
            shipping_address=None if ship is None else QuoteAddressIn(**vars(ship)),
            currency=quote.currency,
            lines=[QuoteLineOut.of(line) for line in quote.lines],
            discount_percent=str(quote.discount_percent),
            net_total=quote.net_total,
            gross_total=quote.gross_total,
            notes=quote.notes,
            language=quote.language,
            created_at=quote.created_at,
            valid_until=quote.valid_until,
            expires_at=quote.expires_at,
            decided_at=quote.decided_at,
        )


class QuotePage(PageOut[QuoteOut]):
    """A page of quotes, newest first."""


@router.post(
    "/quotes",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteOut,
    responses=problem_responses(401, 403, 413, 422),
    summary="Make a quote (Angebot): priced from the catalog now, frozen until valid_until",
)
async def post_quote(ctx: Context, principal: Writer, body: QuoteIn) -> Response:
    command = body.command()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: make_quote(
            transactor, command, clock=ctx.clock, policy=ctx.quote_policy
        ),
        present=lambda quote: _shown_one(ctx, principal, quote),
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/quotes",
    responses=problem_responses(401, 403, 422),
    summary="Quotes, newest first, by state and buyer",
)
async def list_quotes(
    ctx: Context,
    principal: Reader,
    state: Annotated[State | None, Query()] = None,
    customer_email: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> QuotePage:
    quotes, total = await ctx.quotes.page(
        state=state,
        customer_email=customer_email,
        page=page,
        page_size=page_size,
        created_after=await erased_since(ctx, principal, customer_email),
    )
    return QuotePage(
        items=await _shown(ctx, principal, quotes), page=page, page_size=page_size, total=total
    )


async def _erased(ctx: Context, principal: Principal, quotes: list[Quote]) -> dict[str, str]:
    """quote number -> subject id of the erased buyers ``principal`` may not see."""
    people = [(q.number, q.buyer.email, q.created_at) for q in quotes]
    return await hidden(principal, lambda: ctx.erased.erased_people(people))


async def _shown(ctx: Context, principal: Principal, quotes: list[Quote]) -> list[QuoteOut]:
    erased = await _erased(ctx, principal, quotes)
    shown = [QuoteOut.of(q) for q in quotes]
    return [o.without_buyer(erased[o.number]) if o.number in erased else o for o in shown]


async def _shown_one(ctx: Context, principal: Principal, quote: Quote) -> QuoteOut:
    """A quote a write route made or decided, as the read routes show it (ADR 0113)."""
    [shown] = await _shown(ctx, principal, [quote])
    return shown


@router.get(
    "/quotes/{number}",
    responses=problem_responses(401, 403, 404),
    summary="One quote",
)
async def read_quote(ctx: Context, principal: Reader, number: QuoteNumber) -> QuoteOut:
    quote = await ctx.quotes.one(number)
    if quote is None:
        raise UnknownQuote(number)
    [shown] = await _shown(ctx, principal, [quote])
    return shown


@router.get(
    "/quotes/{number}/pdf",
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404, 409)},
    response_class=Response,
    summary="The quote as a PDF: the seller's letterhead and footer, 'Angebot'",
)
async def quote_pdf(ctx: Context, principal: Reader, number: QuoteNumber) -> Response:
    quote = await ctx.quotes.one(number)
    if quote is None:
        raise UnknownQuote(number)
    await forbid_unless_tax(
        principal, lambda: any_of(_erased(ctx, principal, [quote])), f"The quote {number}"
    )
    rendered = await ctx.quote_documents.pdf(number)
    return Response(
        content=rendered,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="Angebot-{number}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/quotes/{number}/accept",
    response_model=QuoteOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Record the buyer's acceptance (emits QuoteAccepted: orders places the order)",
    description="409 when the quote expired (valid_until passed), was declined or accepted.",
)
async def post_accept(ctx: Context, principal: Writer, number: QuoteNumber) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: accept_quote(transactor, number, clock=ctx.clock),
        present=lambda quote: _shown_one(ctx, principal, quote),
    )


@router.post(
    "/quotes/{number}/decline",
    response_model=QuoteOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Record that the buyer declined",
)
async def post_decline(ctx: Context, principal: Writer, number: QuoteNumber) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: decline_quote(transactor, number, clock=ctx.clock),
        present=lambda quote: _shown_one(ctx, principal, quote),
    )
