"""HTTP routes of the seller's master data (§14 Abs. 4 Nr. 1 and 2 UStG)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.vat_ids import vat_id_check_problem
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from kontor_billing.application.bank import compact_bank_code
from kontor_billing.application.invoicing import update_seller
from kontor_billing.context import Context
from kontor_billing.domain.seller import EXAMPLE_SELLER, Seller, seller_missing_reason

router = APIRouter(tags=["seller"])

Text = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class SellerIn(BaseModel):
    """The merchant's data as printed on every document issued from now on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(examples=["Musterhandel GmbH"])
    legal_form: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    street: Text
    postcode: Annotated[str, Field(min_length=1, max_length=16)]
    city: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    vat_id: Annotated[str, Field(min_length=4, max_length=20)] | None = None
    tax_number: Annotated[str, Field(min_length=5, max_length=30)] | None = None
    iban: Annotated[str, Field(min_length=15, max_length=42)] | None = None
    bic: Annotated[str, Field(min_length=8, max_length=11)] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = (
        None
    )
    phone: Annotated[str, Field(min_length=3, max_length=40)] | None = None
    registry: Annotated[str, Field(min_length=3, max_length=200)] | None = None
    managing_directors: list[Text] = Field(default_factory=list, max_length=20)
    logo: Annotated[str, Field(max_length=200_000)] | None = Field(
        default=None, description="A data: URL (PNG or SVG) for the letterhead"
    )

    @field_validator("iban", "bic")
    @classmethod
    def _bank(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind: Literal["iban", "bic"] = "iban" if info.field_name == "iban" else "bic"
        return None if value is None else compact_bank_code(kind, value)

    @field_validator("vat_id")
    @classmethod
    def _vat_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = value.replace(" ", "").upper()
        problem = vat_id_check_problem(compact)
        if problem:
            raise ValueError(problem)
        return compact

    @model_validator(mode="after")
    def _tax_id(self) -> SellerIn:
        if not self.vat_id and not self.tax_number:
            raise ValueError("a seller needs a vat_id or a tax_number (§14 Abs. 4 Nr. 2 UStG)")
        return self

    def seller(self) -> Seller:
        return Seller(
            **{**self.model_dump(), "managing_directors": tuple(self.managing_directors)},
            sample=False,
        )


class SellerOut(BaseModel):
    name: str
    legal_form: str | None
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None
    tax_number: str | None
    iban: str | None
    bic: str | None
    email: str | None
    phone: str | None
    registry: str | None
    managing_directors: list[str]
    logo: str | None
    sample: bool = Field(description="The example seller: documents are marked as samples")

    @classmethod
    def of(cls, seller: Seller) -> SellerOut:
        return cls.model_validate(
            {**vars(seller), "managing_directors": list(seller.managing_directors)}
        )


class SellerStateOut(BaseModel):
    seller: SellerOut | None
    ready: bool = Field(description="Documents can be issued")
    reason: str | None = Field(description="Why no document is issued, when not ready")
    issued_now: int = Field(default=0, description="PUT: invoices that waited and are issued now")


@router.get(
    "/seller",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403),
    summary="The seller's master data on the documents (the example until PUT)",
)
async def read_seller(ctx: Context) -> SellerStateOut:
    stored = await ctx.sellers.current()
    seller = stored or (EXAMPLE_SELLER if ctx.policy.example_seller else None)
    reason = seller_missing_reason(seller)
    return SellerStateOut(
        seller=SellerOut.of(seller) if seller else None, ready=reason is None, reason=reason
    )


@router.put(
    "/seller",
    response_model=SellerStateOut,
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403, 422),
    summary="Set the seller's master data for every document issued from now on",
)
async def put_seller(ctx: Context, body: SellerIn) -> Response:
    seller = body.seller()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: update_seller(uow, seller, clock=ctx.clock, policy=ctx.policy)
        ),
        present=lambda issued: SellerStateOut(
            seller=SellerOut.of(seller), ready=True, reason=None, issued_now=len(issued)
        ),
    )
