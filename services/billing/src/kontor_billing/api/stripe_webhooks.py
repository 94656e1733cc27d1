"""``POST /webhooks/stripe``: Stripe's signed events (public: the signature is the proof)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.errors.problems import ProblemError
from pydantic import BaseModel, Field

from kontor_billing.application.stripe_webhooks import WebhookResult, handle_stripe_webhook
from kontor_billing.context import Context

router = APIRouter(tags=["webhooks"])


class WebhookRefused(ProblemError):
    """A forged, stale or unreadable webhook: not from Stripe (400, nothing stored)."""

    status = 400
    title = "Webhook refused"


class WebhookOut(BaseModel):
    received: bool = True
    event_id: str | None
    event_type: str | None
    outcome: Literal["booked", "held", "replayed", "ignored"] = Field(
        description="booked: the payment or refund it reports; held: a payment for an "
        "order billing has not seen placed yet, stored and booked when OrderPlaced "
        "arrives (ADR 0148); replayed: the event was handled before (nothing changed); "
        "ignored: a type billing does not handle"
    )
    payment_ids: list[str] = Field(description="The payments or refunds it booked")


@router.post(
    "/webhooks/stripe",
    responses=problem_responses(400, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The Stripe event exactly as Stripe sent it (verified raw)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    summary="Stripe webhook (payment_intent.succeeded, charge.refunded), signature verified",
    description="The raw body is verified with the `Stripe-Signature` header and the "
    "endpoint secret (`stripe.Webhook.construct_event`, tolerance from settings). "
    "A forged or too old signature (or no secret configured) answers 400; an event "
    "id handled before answers 200 with `outcome: replayed` and changes nothing.",
    response_model=WebhookOut,
)
async def stripe_webhook(
    ctx: Context,
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Response:
    raw = await request.body()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: handle_stripe_webhook(
            transactor, raw, stripe_signature, settings=ctx.stripe, clock=ctx.clock
        ),
        present=_answer,
    )


def _answer(result: WebhookResult) -> WebhookOut:
    """The webhook's answer; a refused event (bad signature) never reached a unit of work,
    so refusing it here rolls nothing back."""
    if result.outcome == "refused":
        raise WebhookRefused(result.reason)
    return WebhookOut(
        event_id=result.event_id,
        event_type=result.event_type,
        outcome=result.outcome,
        payment_ids=[b.payment.payment_id for b in result.booked],
    )
