"""One-Stop-Shop routes (§3c, §18j UStG, ADR 0026): the figures of a quarter's return, as
JSON or CSV, and the threshold of distance sales with the regime it means."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from kontor_servicekit.apitypes import QueryInt, SignedAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_billing.context import Context
from kontor_billing.domain.oss import OssReturn, Threshold, YearTotal

router = APIRouter(tags=["oss"])

Year = Annotated[QueryInt, Query(ge=2021, le=2100, description="Calendar year")]


class RateOut(BaseModel):
    vat_rate: Decimal
    net: SignedAmount
    vat: SignedAmount


class CountryOut(BaseModel):
    country: str = Field(description="Member state of consumption (ISO 3166-1)")
    invoices: int
    corrections: int = Field(description="Cancellations and corrections issued in the quarter")
    documents: int
    net: SignedAmount
    vat: SignedAmount
    rates: list[RateOut]


class OssReturnOut(BaseModel):
    year: int
    quarter: int
    currency: str
    net: SignedAmount
    vat: SignedAmount
    countries: list[CountryOut]

    @classmethod
    def of(cls, figures: OssReturn) -> OssReturnOut:
        return cls(
            year=figures.year,
            quarter=figures.quarter,
            currency=figures.currency,
            net=figures.net,
            vat=figures.vat,
            countries=[
                CountryOut(
                    country=c.country,
                    invoices=c.invoices,
                    corrections=c.corrections,
                    documents=c.documents,
                    net=c.net,
                    vat=c.vat,
                    rates=[RateOut(vat_rate=r.vat_rate, net=r.net, vat=r.vat) for r in c.rates],
                )
                for c in figures.countries
            ],
        )


CSV_HEADER = ("year", "quarter", "country", "vat_rate", "net", "vat", "currency", "documents")


def _csv(figures: OssReturn) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for c in figures.countries:
        for r in c.rates:  # the country's documents on every row of it
            writer.writerow(
                (
                    figures.year,
                    figures.quarter,
                    c.country,
                    f"{r.vat_rate:f}",
                    f"{r.net:f}",
                    f"{r.vat:f}",
                    figures.currency,
                    c.documents,
                )
            )
    name = f"oss-{figures.year}-q{figures.quarter}.csv"
    return Response(
        content=out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/oss/returns",
    dependencies=[Depends(require_scope("billing:read"))],
    responses={
        200: {"content": {"text/csv": {}}},
        **problem_responses(401, 403, 422),
    },
    response_model=OssReturnOut,
    summary="One-Stop-Shop figures of a quarter per member state and rate (JSON or CSV)",
)
async def oss_returns(
    ctx: Context,
    request: Request,
    year: Year,
    quarter: Annotated[QueryInt, Query(ge=1, le=4)],
    format: Annotated[Literal["json", "csv"] | None, Query(description="or Accept")] = None,
) -> OssReturnOut | Response:
    figures = await ctx.oss.quarter(year, quarter)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    return _csv(figures) if wants_csv else OssReturnOut.of(figures)


class YearOut(BaseModel):
    year: int
    net: SignedAmount = Field(description="Distance sales to consumers abroad, net")
    documents: int
    exceeded: bool
    exceeded_by: str | None = Field(
        default=None, description="The document that took the total above the threshold"
    )

    @classmethod
    def of(cls, total: YearTotal) -> YearOut:
        return cls(
            year=total.year,
            net=total.net,
            documents=total.documents,
            exceeded=total.exceeded,
            exceeded_by=total.exceeded_by,
        )


class ThresholdOut(BaseModel):
    threshold: SignedAmount
    currency: str = "EUR"
    previous_year: YearOut
    current_year: YearOut
    opt_in: bool
    regime: Literal["home", "destination"] = Field(
        description="home: German VAT on distance sales; destination: the member state's"
    )
    reason: str

    @classmethod
    def of(cls, t: Threshold) -> ThresholdOut:
        return cls(
            threshold=t.threshold,
            previous_year=YearOut.of(t.previous),
            current_year=YearOut.of(t.current),
            opt_in=t.opt_in,
            regime="destination" if t.regime == "destination" else "home",
            reason=t.reason,
        )


@router.get(
    "/oss/threshold",
    dependencies=[Depends(require_scope("billing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Distance sales of a year and the one before against EUR 10,000, and the regime",
)
async def oss_threshold(ctx: Context, year: Year | None = None) -> ThresholdOut:
    today: date = ctx.clock().astimezone(BERLIN).date()
    return ThresholdOut.of(await ctx.oss.threshold(year or today.year))
