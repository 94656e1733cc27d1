"""``GET /dashboard``: the headline figures with their change and the pictures, as one
HTML page drawn on the server (inline SVG, no script, nothing loaded from elsewhere).

Login: a bearer token in the header, or once as ``?token=...``, which is exchanged for
an HttpOnly session cookie and a redirect to the same address without the token (so it
stays neither in the address bar nor in the history or the logs).
"""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from kontor_servicekit.apitypes import QueryMoment
from kontor_servicekit.auth import Authenticator, Principal
from kontor_servicekit.browser import html_page
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.errors import Forbidden, Unauthorized, problem_responses

from kontor_analytics.api.kpis import Narrowed
from kontor_analytics.application.dashboard import digest, open_dashboard_session
from kontor_analytics.context import AnalyticsContext, Context
from kontor_analytics.domain import charts
from kontor_analytics.domain import figures as f

router = APIRouter(tags=["dashboard"])

COOKIE = "kontor_dashboard"
DASH = "\u2013"
SCOPE = "analytics:read"


def _verified(request: Request, token: str) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.verify(token)  # AuthError: a 401 problem
    if not principal.has_scope(SCOPE):
        raise Forbidden(f"The token does not grant the scope {SCOPE!r}.")
    return principal


async def _admitted(request: Request, ctx: AnalyticsContext) -> None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        _verified(request, header[7:].strip())
        return
    cookie = request.cookies.get(COOKIE)
    scopes = (
        None if not cookie else await ctx.queries.dashboard_session(digest(cookie), ctx.clock())
    )
    if scopes is None:
        raise Unauthorized(
            "Log in with a bearer token, or open /dashboard?token=... once.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if SCOPE not in scopes and "analytics:admin" not in scopes:
        raise Forbidden(f"The session does not grant the scope {SCOPE!r}.")


@router.get(
    "/dashboard",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {}}},
        303: {"description": "The token was exchanged for a session cookie"},
        **problem_responses(401, 403, 422),
    },
    summary="The dashboard: headline figures with their change, funnel, revenue, returns, "
    "abandonment and cohorts (HTML)",
)
async def get_dashboard(
    request: Request,
    ctx: Context,
    only: Narrowed,
    token: Annotated[
        str | None,
        Query(min_length=1, max_length=8192, description="Once: exchanged for a cookie"),
    ] = None,
    from_: Annotated[QueryMoment | None, Query(alias="from")] = None,
    to: Annotated[QueryMoment | None, Query()] = None,
) -> Response:
    if token is not None:
        principal = _verified(request, token)
        lasts = timedelta(hours=ctx.dashboard_session_hours)
        cookie = await open_dashboard_session(
            ctx.transactor,
            subject=principal.subject,
            scopes=sorted(principal.scopes),
            now=ctx.clock(),
            lasts=lasts,
        )
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = "/dashboard" + (f"?{urlencode(rest)}" if rest else "")
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(
            COOKIE,
            cookie,
            max_age=int(lasts.total_seconds()),
            path="/dashboard",
            httponly=True,
            secure=ctx.dashboard_cookie_secure,
            samesite="strict",
        )
        answer.headers["Cache-Control"] = "no-store"
        return answer
    await _admitted(request, ctx)
    period = f.period_of(from_, to, ctx.clock())
    page = html_page(await render(ctx, period, only.filter))
    page.headers["Cache-Control"] = "no-store"
    return page


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value:.1%}"


def _change(now: Any, before: Any) -> str:
    moved = f.change(now, before)
    if moved is None:
        return '<span class="flat">no comparison</span>'
    kind = "up" if moved > 0 else "down" if moved < 0 else "flat"
    return f'<span class="{kind}">{moved:+.1%} vs. previous period</span>'


def _tile(name: str, shown: str, now: Any, before: Any) -> str:
    return (
        f'<div class="tile"><h3>{escape(name)}</h3><p class="value">{escape(shown)}</p>'
        f"<p>{_change(now, before)}</p></div>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
header { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; }
.tiles { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.tile { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem 1rem; min-width: 11rem; }
.tile h3 { font-size: .9rem; margin: .2rem 0; color: #57606a; }
.value { font-size: 1.6rem; margin: .2rem 0; }
.up { color: #1a7f37; } .down { color: #cf222e; } .flat { color: #57606a; }
section { margin: 1.5rem 0; }
form label { margin-right: .5rem; }
"""


def _choice(name: str, label: str, options: list[str], chosen: str | None) -> str:
    """A select of the filter ``name``: every option known, plus the chosen one."""
    known = sorted({*options, *([chosen] if chosen else [])})
    items = [f'<option value=""{" selected" if chosen is None else ""}>all</option>'] + [
        f'<option value="{escape(o)}"{" selected" if o == chosen else ""}>{escape(o)}</option>'
        for o in known
    ]
    return f'<label>{label} <select name="{name}">{"".join(items)}</select></label>'


def _filtered(only: f.Filter) -> str:
    shown = [
        f"{name} {escape(value)}"
        for name, value in (("category", only.category), ("channel", only.channel))
        if value
    ]
    return "" if not shown else f" Only {', '.join(shown)}."


async def render(ctx: AnalyticsContext, period: f.Period, only: f.Filter = f.NO_FILTER) -> str:
    before = period.previous()
    q = ctx.queries
    sales, old_sales = await q.sales(period, only), await q.sales(before, only)
    conversion = await q.conversion(period, only)
    old_conversion = await q.conversion(before, only)
    returns, old_returns = await q.returns(period, only), await q.returns(before, only)
    funnel, old_funnel = await q.funnel(period, only), await q.funnel(before, only)
    days = await q.days(period, only)
    cohorts = await q.cohorts(ctx.clock(), only)
    # campaigns and customer value are the shop's as a whole: the filters do not narrow them
    marketing, old_marketing = await q.marketing(period), await q.marketing(before)
    customers = await q.customers(period, ctx.clock(), months=1)
    whole = " (the whole shop: not narrowed by the filters)" if only.active else ""
    shop_wide = " (whole shop)" if only.active else ""
    choices = _choice("category", "category", await q.categories(), only.category) + _choice(
        "channel", "channel", await q.channels(), only.channel
    )
    aov, old_aov = sales.average_order_value, old_sales.average_order_value
    tiles = "".join(
        [
            _tile(
                "Revenue (gross)",
                f"{sales.revenue_gross:.2f} €",
                sales.revenue_gross,
                old_sales.revenue_gross,
            ),
            _tile(
                "Net of cancellations and returns",
                f"{sales.revenue_after_cancellations_and_returns:.2f} €",
                sales.revenue_after_cancellations_and_returns,
                old_sales.revenue_after_cancellations_and_returns,
            ),
            _tile("Orders", str(sales.orders), sales.orders, old_sales.orders),
            _tile(
                "Average order value", "&#8211;" if aov is None else f"{aov:.2f} €", aov, old_aov
            ),
            _tile(
                "Conversion rate",
                _pct(conversion.overall.rate),
                conversion.overall.rate,
                old_conversion.overall.rate,
            ),
            _tile(
                "Return rate",
                _pct(returns.overall.rate),
                returns.overall.rate,
                old_returns.overall.rate,
            ),
            _tile(
                "Cart abandonment",
                _pct(funnel.abandonment_rate),
                funnel.abandonment_rate,
                old_funnel.abandonment_rate,
            ),
            _tile(
                "Campaign ROI" + shop_wide, _pct(marketing.roi), marketing.roi, old_marketing.roi
            ),
            _tile(
                "Orders with a coupon" + shop_wide,
                _pct(marketing.coupons.rate),
                marketing.coupons.rate,
                old_marketing.coupons.rate,
            ),
        ]
    )
    sizes = [r for r in returns.by_attribute if r.key.startswith("size=")]
    shown_from = period.start.astimezone(BERLIN).date()
    shown_to = (period.end - timedelta(microseconds=1)).astimezone(BERLIN).date()
    sections = [
        (
            "Checkout funnel",
            charts.bar_chart(
                "Sessions per funnel step", [(s.step, float(s.sessions)) for s in funnel.steps]
            ),
        ),
        (
            "Revenue over time",
            charts.column_chart(
                "Gross revenue per day (EUR)",
                [(d.day.strftime("%d.%m."), float(d.revenue_gross)) for d in days],
            ),
        ),
        (
            "Return rate by reason",
            charts.bar_chart(
                "Share of pieces sold returned, by reason",
                [(r.key, round(100 * (r.rate or 0), 1)) for r in returns.by_reason],
                unit=" %",
            ),
        ),
        (
            "Return rate by size",
            charts.bar_chart(
                "Share of pieces returned, by size",
                [(r.key.removeprefix("size="), round(100 * (r.rate or 0), 1)) for r in sizes],
                unit=" %",
            ),
        ),
        (
            "Cart abandonment over time",
            charts.column_chart(
                "Abandoned carts per day (%)",
                [
                    (d.day.strftime("%d.%m."), round(100 * (d.abandonment_rate or 0), 1))
                    for d in days
                ],
                unit=" %",
            ),
        ),
        (
            "Campaign ROI",
            charts.bar_chart(
                "Return on each campaign sent in the period, net of cancellations and returns"
                + whole,
                [
                    (r.campaign.name, round(100 * r.roi, 1))
                    for r in marketing.campaigns
                    if r.roi is not None
                ],
                unit=" %",
            ),
        ),
        (
            "Lifetime value by first-order month",
            charts.bar_chart(
                "Value to date per customer of those who first ordered in the period (EUR)" + whole,
                [
                    (f"{c.cohort} ({c.customers})", round(float(c.lifetime_value or 0), 2))
                    for c in customers.cohorts
                ],
            ),
        ),
        (
            "Customer cohorts",
            charts.heat_map(
                "Share of each first-order week's customers ordering in the weeks after",
                [(f"{c.week} ({c.customers})", c.shares) for c in cohorts],
                [f"W+{k}" for k in range(6)],
            ),
        ),
    ]
    body = "".join(f"<section><h2>{escape(t)}</h2>{svg}</section>" for t, svg in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kontor analytics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head>
<body><header><h1>Key figures</h1>
<form method="get" action="/dashboard">
<label>from <input type="date" name="from" value="{shown_from}"></label>
<label>to <input type="date" name="to" value="{shown_to}"></label>
{choices}
<button type="submit">Show</button></form></header>
<p id="scope">{shown_from:%d.%m.%Y} &#8211; {shown_to:%d.%m.%Y} (Berlin), compared with the
{(before.end - before.start).days} days before.{_filtered(only)} Definitions:
docs/analytics.md.</p>
<div class="tiles">{tiles}</div>
{body}
</body></html>"""
