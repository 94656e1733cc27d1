"""``GET /kpis/...``: the key figures of a period, with the previous period or the same
period last year, as JSON or CSV (``Accept: text/csv`` or ``format=csv``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from kontor_contracts.money import quantize
from kontor_servicekit.apitypes import Instant, QueryInt, QueryMoment
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_analytics.context import Context
from kontor_analytics.domain import customers as cu
from kontor_analytics.domain import figures as f
from kontor_analytics.domain import marketing as m

router = APIRouter(tags=["kpis"], dependencies=[Depends(require_scope("analytics:read"))])

T = TypeVar("T")
Compare = Literal["previous", "last_year", "none"]
Format = Literal["json", "csv"]
CURRENCY = "EUR"

PERIOD = (
    "`from`/`to`: a moment with its offset, or a plain date meaning that whole day in "
    "Berlin (`to` inclusive). Default: the 30 days up to now. `compare`: the period of "
    "the same length before (`previous`, default), the same dates a year earlier "
    "(`last_year`), or `none`. Definitions: docs/analytics.md."
)


def money(amount: Decimal) -> str:
    return format(quantize(amount, CURRENCY), "f")


class PeriodOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: Instant = Field(alias="from", serialization_alias="from")
    to: Instant

    @classmethod
    def of(cls, period: f.Period) -> PeriodOut:
        return cls(from_=period.start, to=period.end)


class PeriodQuery:
    def __init__(
        self,
        from_: Annotated[
            QueryMoment | None, Query(alias="from", description="start (a date: its Berlin day)")
        ] = None,
        to: Annotated[
            QueryMoment | None, Query(description="end, exclusive (a date: through that day)")
        ] = None,
        compare: Annotated[Compare, Query()] = "previous",
        format: Annotated[Format | None, Query(description="csv: the rows as CSV")] = None,
    ) -> None:
        self.from_, self.to, self.compare, self.format = from_, to, compare, format

    def period(self, ctx: Any) -> f.Period:
        return f.period_of(self.from_, self.to, ctx.clock())

    def other(self, period: f.Period) -> f.Period | None:
        if self.compare == "none":
            return None
        return period.previous() if self.compare == "previous" else period.last_year()

    def wants_csv(self, request: Request) -> bool:
        if self.format is not None:
            return self.format == "csv"
        return "text/csv" in request.headers.get("accept", "")


Wanted = Annotated[PeriodQuery, Depends()]


class FilterQuery:
    """The dashboard's filters (ADR 0097), on the figures they narrow."""

    def __init__(
        self,
        category: Annotated[
            str | None,
            Query(max_length=200, description="Only this product category (its lines)"),
        ] = None,
        channel: Annotated[
            str | None,
            Query(max_length=100, description="Only this sales channel (sessions: webshop)"),
        ] = None,
    ) -> None:
        self.filter = f.Filter(category=category or None, channel=channel or None)


Narrowed = Annotated[FilterQuery, Depends()]


async def both(
    wanted: PeriodQuery, ctx: Any, compute: Callable[[f.Period], Awaitable[T]]
) -> tuple[f.Period, T, f.Period | None, T | None]:
    period = wanted.period(ctx)
    other = wanted.other(period)
    return period, await compute(period), other, None if other is None else await compute(other)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def dimensions_csv(
    name: str, figures: Any, dimensions: Sequence[str], columns: Sequence[str]
) -> Response:
    """One row per key of each dimension (``figures.overall`` first, as ``overall``):
    ``dimension,key,<columns>``."""
    groups = [("overall", [figures.overall])] + [(d, getattr(figures, d)) for d in dimensions]
    rows = [
        (group, row.key, *(getattr(row, column) for column in columns))
        for group, found in groups
        for row in found
    ]
    return csv_response(("dimension", "key", *columns), rows, name)


# ------------------------------------------------------------------ funnel


class StepOut(BaseModel):
    step: str
    sessions: int
    drop_off_rate: float | None = Field(description="Share not reaching the next step")

    @classmethod
    def of(cls, step: f.Step) -> StepOut:
        return cls(step=step.step, sessions=step.sessions, drop_off_rate=step.drop_off_rate)


class ErrorCostOut(BaseModel):
    reason: str
    sessions: int
    sessions_lost: int = Field(description="Sessions with this error and no purchase")
    value_lost: str


class FunnelFigures(BaseModel):
    steps: list[StepOut]
    cart_sessions: int
    abandoned_sessions: int
    abandonment_rate: float | None
    abandoned_value: str
    checkout_errors: list[ErrorCostOut]

    @classmethod
    def of(cls, funnel: f.Funnel) -> FunnelFigures:
        return cls(
            steps=[StepOut.of(s) for s in funnel.steps],
            cart_sessions=funnel.cart_sessions,
            abandoned_sessions=funnel.abandoned_sessions,
            abandonment_rate=funnel.abandonment_rate,
            abandoned_value=money(funnel.abandoned_value),
            checkout_errors=[
                ErrorCostOut(
                    reason=e.reason,
                    sessions=e.sessions,
                    sessions_lost=e.sessions_lost,
                    value_lost=money(e.value_lost),
                )
                for e in funnel.checkout_errors
            ],
        )


class FunnelOut(FunnelFigures):
    period: PeriodOut
    compared_with: PeriodOut | None = None
    previous: FunnelFigures | None = None


@router.get(
    "/kpis/funnel",
    response_model=FunnelOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="The checkout funnel step by step, cart abandonment and checkout errors",
    description=PERIOD,
)
async def get_funnel(request: Request, ctx: Context, wanted: Wanted, only: Narrowed) -> Any:
    period, now, other, before = await both(
        wanted, ctx, lambda p: ctx.queries.funnel(p, only.filter)
    )
    if wanted.wants_csv(request):
        rows = [("current", s.step, s.sessions, s.drop_off_rate) for s in now.steps]
        if before is not None:
            rows += [("previous", s.step, s.sessions, s.drop_off_rate) for s in before.steps]
        return csv_response(("period", "step", "sessions", "drop_off_rate"), rows, "funnel")
    return FunnelOut(
        **FunnelFigures.of(now).model_dump(),
        period=PeriodOut.of(period),
        compared_with=None if other is None else PeriodOut.of(other),
        previous=None if before is None else FunnelFigures.of(before),
    )


# ------------------------------------------------------------------ conversion


class ConversionRowOut(BaseModel):
    key: str
    sessions: int
    sessions_with_purchase: int
    rate: float | None

    @classmethod
    def of(cls, row: f.ConversionRow) -> ConversionRowOut:
        return cls(
            key=row.key,
            sessions=row.sessions,
            sessions_with_purchase=row.sessions_with_purchase,
            rate=row.rate,
        )


class ConversionFigures(BaseModel):
    sessions: int
    sessions_with_purchase: int
    rate: float | None
    by_source: list[ConversionRowOut]
    by_campaign: list[ConversionRowOut]
    by_product: list[ConversionRowOut]
    by_category: list[ConversionRowOut]

    @classmethod
    def of(cls, c: f.Conversion) -> ConversionFigures:
        return cls(
            sessions=c.overall.sessions,
            sessions_with_purchase=c.overall.sessions_with_purchase,
            rate=c.overall.rate,
            by_source=[ConversionRowOut.of(r) for r in c.by_source],
            by_campaign=[ConversionRowOut.of(r) for r in c.by_campaign],
            by_product=[ConversionRowOut.of(r) for r in c.by_product],
            by_category=[ConversionRowOut.of(r) for r in c.by_category],
        )


class HeadlineOut(BaseModel):
    sessions: int
    sessions_with_purchase: int
    rate: float | None


class ConversionOut(ConversionFigures):
    period: PeriodOut
    compared_with: PeriodOut | None = None
    previous: HeadlineOut | None = None
    rate_change: float | None = Field(default=None, description="Relative to the comparison")


@router.get(
    "/kpis/conversion",
    response_model=ConversionOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Conversion rate: sessions with a purchase / sessions, overall and per "
    "source, campaign, product and category",
    description=PERIOD,
)
async def get_conversion(request: Request, ctx: Context, wanted: Wanted, only: Narrowed) -> Any:
    period, now, other, before = await both(
        wanted, ctx, lambda p: ctx.queries.conversion(p, only.filter)
    )
    if wanted.wants_csv(request):
        return dimensions_csv(
            "conversion",
            now,
            ("by_source", "by_campaign", "by_product", "by_category"),
            ("sessions", "sessions_with_purchase", "rate"),
        )
    return ConversionOut(
        **ConversionFigures.of(now).model_dump(),
        period=PeriodOut.of(period),
        compared_with=None if other is None else PeriodOut.of(other),
        previous=None
        if before is None
        else HeadlineOut(
            sessions=before.overall.sessions,
            sessions_with_purchase=before.overall.sessions_with_purchase,
            rate=before.overall.rate,
        ),
        rate_change=None if before is None else f.change(now.overall.rate, before.overall.rate),
    )


# ------------------------------------------------------------------ returns


class ReturnRowOut(BaseModel):
    key: str
    units_sold: int
    units_returned: int
    rate: float | None

    @classmethod
    def of(cls, row: f.ReturnRow) -> ReturnRowOut:
        return cls(
            key=row.key,
            units_sold=row.units_sold,
            units_returned=row.units_returned,
            rate=row.rate,
        )


class ReturnFigures(BaseModel):
    units_sold: int
    units_returned: int
    rate: float | None
    by_sku: list[ReturnRowOut]
    by_reason: list[ReturnRowOut]
    by_category: list[ReturnRowOut]
    by_attribute: list[ReturnRowOut] = Field(description="Per variant attribute, e.g. size=M")
    median_days_delivery_to_return: float | None

    @classmethod
    def of(cls, r: f.Returns) -> ReturnFigures:
        return cls(
            units_sold=r.overall.units_sold,
            units_returned=r.overall.units_returned,
            rate=r.overall.rate,
            by_sku=[ReturnRowOut.of(x) for x in r.by_sku],
            by_reason=[ReturnRowOut.of(x) for x in r.by_reason],
            by_category=[ReturnRowOut.of(x) for x in r.by_category],
            by_attribute=[ReturnRowOut.of(x) for x in r.by_attribute],
            median_days_delivery_to_return=r.median_days_delivery_to_return,
        )


class ReturnsHeadlineOut(BaseModel):
    units_sold: int
    units_returned: int
    rate: float | None


class ReturnsOut(ReturnFigures):
    period: PeriodOut
    compared_with: PeriodOut | None = None
    previous: ReturnsHeadlineOut | None = None
    rate_change: float | None = None


@router.get(
    "/kpis/returns",
    response_model=ReturnsOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Return rate overall and by SKU, reason, category and variant attribute",
    description=PERIOD,
)
async def get_returns(request: Request, ctx: Context, wanted: Wanted, only: Narrowed) -> Any:
    period, now, other, before = await both(
        wanted, ctx, lambda p: ctx.queries.returns(p, only.filter)
    )
    if wanted.wants_csv(request):
        return dimensions_csv(
            "returns",
            now,
            ("by_sku", "by_reason", "by_category", "by_attribute"),
            ("units_sold", "units_returned", "rate"),
        )
    return ReturnsOut(
        **ReturnFigures.of(now).model_dump(),
        period=PeriodOut.of(period),
        compared_with=None if other is None else PeriodOut.of(other),
        previous=None
        if before is None
        else ReturnsHeadlineOut(
            units_sold=before.overall.units_sold,
            units_returned=before.overall.units_returned,
            rate=before.overall.rate,
        ),
        rate_change=None if before is None else f.change(now.overall.rate, before.overall.rate),
    )


# ------------------------------------------------------------------ headline figures


class MetricOut(BaseModel):
    metric: str
    value: str | float | int | None
    previous: str | float | int | None = None
    change: float | None = None


class MetricsOut(BaseModel):
    period: PeriodOut
    compared_with: PeriodOut | None = None
    metrics: list[MetricOut]


Value = str | float | int | None


def sales_metrics(s: f.Sales) -> list[tuple[str, Value, float | int | Decimal | None]]:
    """(name, shown value, comparable number) of each sales figure."""
    aov = s.average_order_value
    net_after = s.revenue_after_cancellations_and_returns
    return [
        ("orders", s.orders, s.orders),
        ("revenue_gross", money(s.revenue_gross), s.revenue_gross),
        ("revenue_net", money(s.revenue_net), s.revenue_net),
        ("cancelled_gross", money(s.cancelled_gross), s.cancelled_gross),
        ("refunded_gross", money(s.refunded_gross), s.refunded_gross),
        ("revenue_after_cancellations_and_returns", money(net_after), net_after),
        ("average_order_value", None if aov is None else money(aov), aov),
        ("units", s.units, s.units),
        ("units_per_order", s.units_per_order, s.units_per_order),
        ("new_customers", s.new_customers, s.new_customers),
        ("returning_customers", s.returning_customers, s.returning_customers),
    ]


def fulfilment_metrics(x: f.Fulfilment) -> list[tuple[str, Value, float | int | None]]:
    return [
        ("orders", x.orders, x.orders),
        ("shipped", x.shipped, x.shipped),
        ("delivered", x.delivered, x.delivered),
        ("median_hours_to_ship", x.median_hours_to_ship, x.median_hours_to_ship),
        ("mean_hours_to_ship", x.mean_hours_to_ship, x.mean_hours_to_ship),
        ("median_hours_to_deliver", x.median_hours_to_deliver, x.median_hours_to_deliver),
        ("mean_hours_to_deliver", x.mean_hours_to_deliver, x.mean_hours_to_deliver),
        ("promised_hours", x.promised_hours, x.promised_hours),
        ("shipped_on_time_rate", x.on_time_rate, x.on_time_rate),
    ]


def payment_metrics(p: f.Payments) -> list[tuple[str, Value, float | int | None]]:
    return [
        ("invoices", p.invoices, p.invoices),
        ("paid", p.paid, p.paid),
        ("overdue", p.overdue, p.overdue),
        ("overdue_rate", p.overdue_rate, p.overdue_rate),
        ("mean_days_to_pay", p.mean_days_to_pay, p.mean_days_to_pay),
    ]


def metrics_answer(
    request: Request,
    wanted: PeriodQuery,
    name: str,
    period: f.Period,
    other: f.Period | None,
    now: Sequence[tuple[str, Value, Any]],
    before: Sequence[tuple[str, Value, Any]] | None,
) -> Any:
    earlier = {m: (shown, number) for m, shown, number in before or ()}
    rows = [
        MetricOut(
            metric=m,
            value=shown,
            previous=earlier[m][0] if m in earlier else None,
            change=f.change(number, earlier[m][1]) if m in earlier else None,
        )
        for m, shown, number in now
    ]
    if wanted.wants_csv(request):
        lines = [(r.metric, r.value, r.previous, r.change) for r in rows]
        return csv_response(("metric", "value", "previous", "change"), lines, name)
    return MetricsOut(
        period=PeriodOut.of(period),
        compared_with=None if other is None else PeriodOut.of(other),
        metrics=rows,
    )


@router.get(
    "/kpis/sales",
    response_model=MetricsOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Revenue gross and net, net of cancellations and returns, orders, average "
    "order value, units per order, new and returning customers",
    description=PERIOD,
)
async def get_sales(request: Request, ctx: Context, wanted: Wanted, only: Narrowed) -> Any:
    period, now, other, before = await both(
        wanted, ctx, lambda p: ctx.queries.sales(p, only.filter)
    )
    old = None if before is None else sales_metrics(before)
    return metrics_answer(request, wanted, "sales", period, other, sales_metrics(now), old)


@router.get(
    "/kpis/fulfilment",
    response_model=MetricsOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Hours from order to shipment and to delivery; share shipped in time",
    description=PERIOD,
)
async def get_fulfilment(request: Request, ctx: Context, wanted: Wanted) -> Any:
    period, now, other, before = await both(wanted, ctx, ctx.queries.fulfilment)
    old = None if before is None else fulfilment_metrics(before)
    return metrics_answer(
        request, wanted, "fulfilment", period, other, fulfilment_metrics(now), old
    )


@router.get(
    "/kpis/payments",
    response_model=MetricsOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Invoices issued: days to pay and the overdue share",
    description=PERIOD,
)
async def get_payments(request: Request, ctx: Context, wanted: Wanted) -> Any:
    period, now, other, before = await both(wanted, ctx, ctx.queries.payments)
    old = None if before is None else payment_metrics(before)
    return metrics_answer(request, wanted, "payments", period, other, payment_metrics(now), old)


class ProductRowOut(BaseModel):
    sku: str
    units_sold: int
    on_hand: int | None
    cover_days: float | None


class AssortmentOut(BaseModel):
    days: int
    top_sellers: list[ProductRowOut]
    slow_movers: list[ProductRowOut]


@router.get(
    "/kpis/assortment",
    response_model=AssortmentOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Top sellers, slow movers (stock on hand, no sale) and stock cover in days",
)
async def get_assortment(
    request: Request,
    ctx: Context,
    days: Annotated[QueryInt, Query(ge=1, le=365, description="The days looked back")] = 30,
    format: Annotated[Format | None, Query()] = None,
) -> Any:
    found = await ctx.queries.assortment(ctx.clock(), days)
    if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
        rows = [
            (kind, r.sku, r.units_sold, r.on_hand, r.cover_days)
            for kind, group in (
                ("top_seller", found.top_sellers),
                ("slow_mover", found.slow_movers),
            )
            for r in group
        ]
        return csv_response(
            ("kind", "sku", "units_sold", "on_hand", "cover_days"), rows, "assortment"
        )

    def out(r: f.ProductRow) -> ProductRowOut:
        return ProductRowOut(
            sku=r.sku, units_sold=r.units_sold, on_hand=r.on_hand, cover_days=r.cover_days
        )

    return AssortmentOut(
        days=days,
        top_sellers=[out(r) for r in found.top_sellers],
        slow_movers=[out(r) for r in found.slow_movers],
    )


# ------------------------------------------------------------------ marketing


class CampaignOut(BaseModel):
    campaign_id: str
    name: str
    channel: str | None
    sent_at: Instant | None = Field(description="When it went out (else scheduled for)")
    recipients: int | None
    coupon_code: str | None
    cost: str | None
    orders: int = Field(description="Orders attributed to it, whenever placed")
    orders_by_coupon: int
    orders_by_session: int = Field(description="Bought in a session with its utm_campaign")
    conversion_rate: float | None = Field(description="Attributed orders / recipients")
    revenue_gross: str
    cancelled_gross: str
    refunded_gross: str
    revenue_after_cancellations_and_returns: str
    discount_gross: str
    roi: float | None = Field(description="(revenue after cancellations and returns - cost) / cost")

    @classmethod
    def of(cls, r: m.CampaignResult) -> CampaignOut:
        c = r.campaign
        return cls(
            campaign_id=c.campaign_id,
            name=c.name,
            channel=c.channel,
            sent_at=c.went_out,
            recipients=c.recipients,
            coupon_code=c.coupon_code,
            cost=None if c.cost is None else money(c.cost),
            orders=r.orders,
            orders_by_coupon=r.by_coupon,
            orders_by_session=r.by_session,
            conversion_rate=r.conversion_rate,
            revenue_gross=money(r.revenue_gross),
            cancelled_gross=money(r.cancelled_gross),
            refunded_gross=money(r.refunded_gross),
            revenue_after_cancellations_and_returns=money(
                r.revenue_after_cancellations_and_returns
            ),
            discount_gross=money(r.discount_gross),
            roi=r.roi,
        )


class CouponOut(BaseModel):
    code: str
    campaign_id: str | None
    orders: int
    discount_gross: str
    revenue_gross: str
    revenue_after_cancellations_and_returns: str

    @classmethod
    def of(cls, r: m.CouponRow) -> CouponOut:
        return cls(
            code=r.code,
            campaign_id=r.campaign_id,
            orders=r.orders,
            discount_gross=money(r.discount_gross),
            revenue_gross=money(r.revenue_gross),
            revenue_after_cancellations_and_returns=money(
                r.revenue_after_cancellations_and_returns
            ),
        )


class MarketingOut(MetricsOut):
    campaigns: list[CampaignOut]
    coupons: list[CouponOut]


def marketing_metrics(x: m.Marketing) -> list[tuple[str, Value, float | int | Decimal | None]]:
    net_after = x.revenue_after_cancellations_and_returns
    return [
        ("campaigns", len(x.campaigns), len(x.campaigns)),
        ("campaign_cost", money(x.cost), x.cost),
        ("campaign_revenue_after_cancellations_and_returns", money(net_after), net_after),
        ("campaign_roi", x.roi, x.roi),
        ("orders", x.coupons.orders, x.coupons.orders),
        ("orders_with_coupon", x.coupons.orders_with_coupon, x.coupons.orders_with_coupon),
        ("coupon_rate", x.coupons.rate, x.coupons.rate),
        ("coupon_discount_gross", money(x.coupons.discount_gross), x.coupons.discount_gross),
    ]


@router.get(
    "/kpis/marketing",
    response_model=MarketingOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="Campaign ROI net of cancellations and returns, and coupon use",
    description=PERIOD + " Campaigns: those sent in the period, with every order "
    "attributed to them (coupon, else a session with their utm_campaign). Coupons: the "
    "orders placed in the period.",
)
async def get_marketing(request: Request, ctx: Context, wanted: Wanted) -> Any:
    period, now, other, before = await both(wanted, ctx, ctx.queries.marketing)
    campaigns = [CampaignOut.of(r) for r in now.campaigns]
    coupons = [CouponOut.of(r) for r in now.coupons.by_code]
    if wanted.wants_csv(request):
        header = (
            "kind",
            "key",
            "campaign_id",
            "orders",
            "discount_gross",
            "revenue_gross",
            "revenue_after_cancellations_and_returns",
            "cost",
            "roi",
        )
        keyed: list[tuple[str, str, BaseModel]] = [
            *(("campaign", c.name, c) for c in campaigns),
            *(("coupon", c.code, c) for c in coupons),
        ]
        rows = [
            (kind, key, *(getattr(x, col, None) for col in header[2:])) for kind, key, x in keyed
        ]
        return csv_response(header, rows, "marketing")
    old = None if before is None else marketing_metrics(before)
    headline = metrics_answer(
        request, wanted, "marketing", period, other, marketing_metrics(now), old
    )
    return MarketingOut(**headline.model_dump(by_alias=True), campaigns=campaigns, coupons=coupons)


# ------------------------------------------------------------------ customers


class CohortValueOut(BaseModel):
    cohort: str = Field(description="Berlin month of the first order")
    customers: int
    repeat_customers: int
    repeat_rate: float | None
    orders: int
    revenue_after_cancellations_and_returns: str
    lifetime_value: str | None = Field(description="Per customer, to date")
    value_by_month: list[str | None] = Field(
        description="Cumulative value per customer by month since the first order (0 = "
        "that month); null for months still to come"
    )

    @classmethod
    def of(cls, x: cu.CohortValue) -> CohortValueOut:
        clv = x.lifetime_value
        return cls(
            cohort=x.cohort,
            customers=x.customers,
            repeat_customers=x.repeat_customers,
            repeat_rate=x.repeat_rate,
            orders=x.orders,
            revenue_after_cancellations_and_returns=money(x.revenue),
            lifetime_value=None if clv is None else money(clv),
            value_by_month=[None if v is None else money(v) for v in x.value_by_month],
        )


class TopCustomerOut(BaseModel):
    customer: str = Field(description="The pseudonymous subject id (ADR 0034), not a name")
    customer_id: str | None = Field(description="The shop's customer id, if they had one")
    orders: int
    revenue_gross: str
    revenue_after_cancellations_and_returns: str

    @classmethod
    def of(cls, x: cu.CustomerRow) -> TopCustomerOut:
        return cls(
            customer=x.customer,
            customer_id=x.customer_id,
            orders=x.orders,
            revenue_gross=money(x.revenue_gross),
            revenue_after_cancellations_and_returns=money(
                x.revenue_after_cancellations_and_returns
            ),
        )


class CustomersOut(MetricsOut):
    cohorts: list[CohortValueOut]
    top_customers: list[TopCustomerOut]


def customer_metrics(x: cu.Customers) -> list[tuple[str, Value, float | int | Decimal | None]]:
    per = x.revenue_per_customer
    return [
        ("customers", x.customers, x.customers),
        ("new_customers", x.new_customers, x.new_customers),
        ("returning_customers", x.returning_customers, x.returning_customers),
        ("repeat_customers", x.repeat_customers, x.repeat_customers),
        ("repeat_rate", x.repeat_rate, x.repeat_rate),
        ("revenue_after_cancellations_and_returns", money(x.revenue), x.revenue),
        ("revenue_per_customer", None if per is None else money(per), per),
    ]


@router.get(
    "/kpis/customers",
    response_model=CustomersOut,
    responses={**problem_responses(401, 403, 422), **CSV},
    summary="New and returning customers, repeat rate, lifetime value by first-order "
    "cohort, top customers net of returns",
    description=PERIOD + " Cohorts: the customers whose first order is in the period, by "
    "its month. Top customers: by the period's orders net of cancellations and returns, "
    "shown by pseudonymous id.",
)
async def get_customers(
    request: Request,
    ctx: Context,
    wanted: Wanted,
    top: Annotated[QueryInt, Query(ge=1, le=100, description="How many top customers")] = 10,
    months: Annotated[
        QueryInt, Query(ge=1, le=36, description="Months of each cohort's value curve")
    ] = 12,
) -> Any:
    now_at = ctx.clock()

    async def compute(period: f.Period) -> cu.Customers:
        return await ctx.queries.customers(period, now_at, top=top, months=months)

    period, now, other, before = await both(wanted, ctx, compute)
    cohorts = [CohortValueOut.of(x) for x in now.cohorts]
    tops = [TopCustomerOut.of(x) for x in now.top]
    if wanted.wants_csv(request):
        header = (
            "kind",
            "key",
            "customer_id",
            "customers",
            "orders",
            "repeat_rate",
            "value",
            *(f"month_{k}" for k in range(months)),
        )
        rows: list[tuple[Any, ...]] = [
            (
                "cohort",
                x.cohort,
                None,
                x.customers,
                x.orders,
                x.repeat_rate,
                x.lifetime_value,
                *x.value_by_month,
            )
            for x in cohorts
        ]
        rows += [
            (
                "customer",
                x.customer,
                x.customer_id,
                None,
                x.orders,
                None,
                x.revenue_after_cancellations_and_returns,
            )
            for x in tops
        ]
        return csv_response(header, rows, "customers")
    old = None if before is None else customer_metrics(before)
    headline = metrics_answer(
        request, wanted, "customers", period, other, customer_metrics(now), old
    )
    return CustomersOut(**headline.model_dump(by_alias=True), cohorts=cohorts, top_customers=tops)
