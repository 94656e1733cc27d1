"""Alert rules (admin) and the breaches they found."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import Instant
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from kontor_analytics.application.alerts import add_rule, delete_rule
from kontor_analytics.context import Context
from kontor_analytics.domain.alerts import Kind, Rule

router = APIRouter(tags=["alerts"])
ADMIN = [Depends(require_scope("analytics:admin"))]

RULES = """\
- `return_rate_sku`: a SKU's return rate (pieces returned / sold, orders placed in the
  last `window_hours`) above `threshold`, judged from `min_count` orders with it;
- `checkout_error_rate`: sessions with a checkout error / sessions that began a checkout
  in the window above `threshold`, from `min_count` checkouts;
- `conversion_drop`: today's conversion so far fell by more than `threshold` (relative,
  0.3 = 30 %) against the same span of the same weekday last week, each from
  `min_count` sessions;
- `top_seller_out_of_stock`: one of the `top` sellers of the window has none on hand.

Each breach raises `KpiThresholdBreached` once; it ends when the figure recovers."""


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    threshold: Decimal = Field(default=Decimal("0"), ge=0, le=1000, max_digits=10)
    min_count: StrictInt = Field(default=1, ge=1, le=1_000_000)
    window_hours: StrictInt = Field(default=24 * 30, ge=1, le=24 * 400)
    top: StrictInt = Field(default=10, ge=1, le=1000)
    severity: Literal["info", "warning", "critical"] = "warning"


class RuleOut(BaseModel):
    rule_id: str
    kind: str
    threshold: str
    min_count: int
    window_hours: int
    top: int
    severity: str

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        return cls(
            rule_id=rule.rule_id,
            kind=rule.kind,
            threshold=format(rule.threshold, "f"),
            min_count=rule.min_count,
            window_hours=rule.window_hours,
            top=rule.top,
            severity=rule.severity,
        )


class BreachOut(BaseModel):
    rule_id: str
    kpi: str
    subject: str | None
    breached: bool = Field(description="Still past the threshold")
    breach_id: str | None
    since: Instant | None
    value: str | None


@router.post(
    "/alerts/rules",
    status_code=status.HTTP_201_CREATED,
    dependencies=ADMIN,
    response_model=RuleOut,
    responses=problem_responses(401, 403, 422),
    summary="Add an alert rule",
    description=RULES,
)
async def post_rule(ctx: Context, body: RuleIn) -> Response:
    rule = Rule(
        rule_id=str(uuid.uuid4()),
        kind=body.kind,
        threshold=body.threshold,
        min_count=body.min_count,
        window_hours=body.window_hours,
        top=body.top,
        severity=body.severity,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda t: add_rule(t, rule, now=ctx.clock()),
        present=RuleOut.of,
        status_code=201,
        location=lambda out: f"/alerts/rules/{out.rule_id}",
    )


@router.get(
    "/alerts/rules",
    dependencies=ADMIN,
    response_model=list[RuleOut],
    responses=problem_responses(401, 403),
    summary="The alert rules",
)
async def get_rules(ctx: Context) -> Any:
    return [RuleOut.of(rule) for rule in await ctx.queries.alert_rules()]


@router.delete(
    "/alerts/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=ADMIN,
    responses=problem_responses(401, 403, 404),
    summary="Delete an alert rule (and the state of its breaches)",
)
async def delete_alert_rule(
    ctx: Context, rule_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> Response:
    await delete_rule(ctx.transactor, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/alerts",
    dependencies=[Depends(require_scope("analytics:read"))],
    response_model=list[BreachOut],
    responses=problem_responses(401, 403),
    summary="What the rules found: current breaches and recovered ones, newest first",
)
async def get_alerts(ctx: Context) -> Any:
    return [
        BreachOut(
            rule_id=s["rule_id"],
            kpi=s["kpi"],
            subject=s.get("subject"),
            breached=s["breached"],
            breach_id=s.get("breach_id"),
            since=s.get("since"),
            value=None if s.get("value") is None else format(s["value"], "f"),
        )
        for s in await ctx.queries.alert_states()
    ]
