"""Back in stock (public, no token, rate-limited like the newsletter routes).

- ``POST /back-in-stock/requests`` ``{"email","sku","locale"}`` -> 202: the person is told
  when the article is available again, once they confirmed the ``back_in_stock`` topic
  (the confirmation mail goes out with this request when they have not yet).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_marketing.api.newsletter import SubscriptionAccepted, client_ip, rate_limited
from kontor_marketing.application.stock_alerts import ask_for_stock_alert
from kontor_marketing.context import Context

router = APIRouter(tags=["newsletter"])


class StockAlertIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "anna@example.de", "sku": "TEE-RED-M", "locale": "de"}]
        },
    )
    email: str = Field(min_length=3, max_length=254)
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    locale: Literal["de", "en"] = "de"


@router.post(
    "/back-in-stock/requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubscriptionAccepted,
    dependencies=[Depends(rate_limited)],
    responses=problem_responses(422, 429, 503),
    summary="Hear when an article is available again (double opt-in to back_in_stock)",
)
async def post_stock_alert(request: Request, ctx: Context, body: StockAlertIn) -> Response:
    links = ctx.consent_links()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: ask_for_stock_alert(
            transactor,
            body.email,
            body.sku,
            locale=body.locale,
            ip=client_ip(request),
            links=links,
            imprint=ctx.imprint,
            clock=ctx.clock,
        ),
        present=lambda _: SubscriptionAccepted(
            message="We will write when the article is back, once you confirmed the address."
        ),
        status_code=status.HTTP_202_ACCEPTED,
    )
