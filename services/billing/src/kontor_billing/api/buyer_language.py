"""HTTP routes of a buyer's document language (German unless English is chosen) and of
the days to pay agreed with them (14 unless chosen)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_billing.application.buyer_language import (
    Language,
    set_buyer_language,
    set_buyer_terms,
)
from kontor_billing.context import Context
from kontor_billing.domain.invoice import PAYMENT_TERM_DAYS

router = APIRouter(tags=["documents"])

Email = Annotated[
    str,
    Path(pattern=r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$", max_length=254, examples=["anna@example.de"]),
]


class LanguageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language = Field(description="de or en: the wording of the buyer's PDFs")


class LanguageOut(BaseModel):
    email: str
    language: Language | None = Field(
        description="The merchant's choice; null: none (the order's locale, else German)"
    )


@router.get(
    "/buyers/{email}/language",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The document language chosen for a buyer (orders without a locale)",
)
async def buyer_language(ctx: Context, email: Email) -> LanguageOut:
    language = await ctx.languages.of(email)
    return LanguageOut(
        email=email.lower(), language="en" if language == "en" else language and "de"
    )


@router.put(
    "/buyers/{email}/language",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403, 422),
    summary="Choose German or English for a buyer's documents issued from now on",
    response_model=LanguageOut,
)
async def choose_buyer_language(ctx: Context, email: Email, body: LanguageIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(
            lambda uow: set_buyer_language(uow, email, body.language)
        ),
        present=lambda _: LanguageOut(email=email.lower(), language=body.language),
    )


class TermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(
        ge=0,
        le=120,
        description="Days to pay after the invoice date; 0: due at once. Between "
        "businesses more than 60 days only if expressly agreed (§271a BGB)",
    )


class TermsOut(BaseModel):
    email: str
    days: int | None = Field(description="The days chosen; null: none (the default, 14)")
    default_days: int = PAYMENT_TERM_DAYS


@router.get(
    "/buyers/{email}/payment-terms",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The days to pay agreed with a buyer (invoices issued from then on)",
)
async def buyer_terms(ctx: Context, email: Email) -> TermsOut:
    return TermsOut(email=email.lower(), days=await ctx.terms.of(email))


@router.put(
    "/buyers/{email}/payment-terms",
    dependencies=[Depends(require_scope("billing:admin"))],
    responses=problem_responses(401, 403, 422),
    summary="Agree the days to pay with a buyer: invoices issued from now on are due then",
    response_model=TermsOut,
)
async def choose_buyer_terms(ctx: Context, email: Email, body: TermsIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: transactor.run(lambda uow: set_buyer_terms(uow, email, body.days)),
        present=lambda _: TermsOut(email=email.lower(), days=body.days),
    )
