"""``POST /collect``: the GA4 Measurement Protocol body, unchanged; and the page snippet."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Forbidden, problem_responses
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from kontor_analytics.application.collect import EventInput, collect, rebuild_sessions
from kontor_analytics.context import Context

router = APIRouter(tags=["collect"])

MAX_MICROS = 4_102_444_800_000_000  # 2100-01-01: anything later is no timestamp

Micros = Annotated[StrictInt, Field(ge=0, le=MAX_MICROS)]
Granted = Literal["GRANTED", "DENIED"]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40, description="e.g. view_item, purchase")
    params: dict[str, Any] = Field(default_factory=dict, max_length=25)
    timestamp_micros: Micros | None = Field(
        default=None, description="When it happened (GA4: up to 72 hours back)"
    )


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ad_user_data: Granted | None = None
    ad_personalization: Granted | None = None
    analytics_storage: Granted | None = Field(
        default=None,
        description="Consent Mode's analytics consent; required GRANTED when the shop "
        "says consent is required (collect_consent_required)",
    )


class CollectIn(BaseModel):
    """The Measurement Protocol body as Google documents it. Fields Kontor does not use
    (``user_properties``, ``user_data``, ``device``, ...) are accepted and ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "client_id": "123456.7654321",
                    "events": [
                        {
                            "name": "purchase",
                            "params": {
                                "currency": "EUR",
                                "value": 30.03,
                                "transaction_id": "T_12345",
                                "items": [{"item_id": "TEE-RED-M", "price": 15.01, "quantity": 2}],
                            },
                        }
                    ],
                }
            ]
        },
    )
    client_id: str = Field(min_length=1, max_length=256, description="The browser's id")
    user_id: str | None = Field(default=None, min_length=1, max_length=256)
    timestamp_micros: Micros | None = None
    non_personalized_ads: bool | None = None
    consent: ConsentIn | None = None
    user_properties: dict[str, Any] | None = None
    ip_override: str | None = Field(
        default=None, max_length=64, description="The browser's address, from a server"
    )
    events: list[EventIn] = Field(min_length=1, max_length=25)


@router.post(
    "/collect",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 403, 422),
    summary="Storefront events in GA4 Measurement Protocol form (public)",
    description="The body a GA4 `mp/collect` call takes, unchanged: `client_id`, optional "
    "`user_id`, 1 to 25 `events`, each a `name` and its `params`. No token: the "
    "`measurement_id` (and `api_secret`, when the shop set one) in the query admit. 204: "
    "every event was accepted (bot traffic too, kept raw and left out of the figures); "
    "422: none was, with the reason of each refused one. Kontor sets no cookie.",
)
async def post_collect(
    request: Request,
    ctx: Context,
    body: CollectIn,
    measurement_id: Annotated[str, Query(min_length=1, max_length=64)],
    api_secret: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response:
    if not ctx.collector.secret_ok(api_secret):
        raise Forbidden("The api_secret does not match this shop's.")
    now = ctx.clock()
    command = ctx.collector.command(
        measurement_id=measurement_id,
        api_secret=api_secret,
        client_id=body.client_id,
        user_id=body.user_id,
        events=[EventInput(e.name, e.params, e.timestamp_micros) for e in body.events],
        request_micros=body.timestamp_micros,
        analytics_consent=None if body.consent is None else body.consent.analytics_storage,
        ip=body.ip_override or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"),
        now=now,
    )
    await collect(
        ctx.transactor,
        command,
        now=now,
        timeout=timedelta(minutes=ctx.session_timeout_min),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


SNIPPET = resources.files("kontor_analytics.api").joinpath("kontor-analytics.js").read_text()


@router.get(
    "/collect/snippet.js",
    summary="The page snippet: sends GA4-shaped events to POST /collect (public)",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}}},
)
async def get_snippet() -> Response:
    return Response(
        SNIPPET,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.post(
    "/sessions/rebuild",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_scope("analytics:admin"))],
    responses=problem_responses(401, 403),
    summary="Make every session again from the stored raw events",
    description="After a change of the session rules or a restore: each client's sessions "
    "are deleted and counted again from its raw events (bots left out), a hundred clients "
    "per transaction. Events past `raw_events_ttl_days` are gone and cannot come back.",
)
async def post_sessions_rebuild(ctx: Context) -> Response:
    clients = await ctx.queries.collected_clients()
    timeout = timedelta(minutes=ctx.session_timeout_min)
    await rebuild_sessions(ctx.transactor, clients, timeout=timeout)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
