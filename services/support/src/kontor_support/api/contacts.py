"""Phone and social contacts: logged by an agent, or by the tool itself (signed webhook)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response, status
from kontor_servicekit.apitypes import validated
from kontor_servicekit.domain_errors import FieldProblem, Invalid
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.errors.problems import ProblemError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_support.api.chats import Writer
from kontor_support.application.contacts import (
    Contact,
    log_contact,
    webhook_body,
    webhook_refusal,
)
from kontor_support.application.inbound import Received
from kontor_support.context import Context

router = APIRouter(tags=["contacts"])

Id = Annotated[str, Field(min_length=1, max_length=200)]


class ContactCustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, min_length=3, max_length=254)
    phone: str | None = Field(default=None, min_length=3, max_length=40)
    name: str | None = Field(default=None, max_length=200)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["phone", "social"]
    direction: Literal["in", "out"] = Field(description="in: the customer called or wrote")
    at: AwareDatetime = Field(description="When the call started or the message was sent")
    duration_s: int | None = Field(default=None, ge=0, le=86_400, strict=True)
    summary: str = Field(min_length=1, max_length=20_000, description="What was said")
    external_id: Id | None = Field(
        default=None, description="The tool's id of this call or message (logged once)"
    )
    conversation_id: Id | None = Field(
        default=None, description="The tool's conversation or thread: threads the contacts"
    )
    network: str | None = Field(default=None, max_length=40, description="social: e.g. instagram")
    subject: str | None = Field(default=None, max_length=300)
    customer: ContactCustomerIn = Field(default_factory=ContactCustomerIn)

    def contact(self) -> Contact:
        return Contact(
            channel=self.channel,
            direction=self.direction,
            at=self.at,
            summary=self.summary,
            duration_s=self.duration_s,
            external_id=self.external_id,
            conversation_id=self.conversation_id,
            email=self.customer.email,
            phone=self.customer.phone,
            name=self.customer.name,
            subject=self.subject,
            network=self.network,
        )


class ContactOut(BaseModel):
    ticket_id: str
    message_id: str
    created_ticket: bool
    duplicate: bool = Field(description="This external_id was logged before; nothing changed")

    @classmethod
    def of(cls, received: Received) -> ContactOut:
        return cls(
            ticket_id=received.ticket_id,
            message_id=received.message_id,
            created_ticket=received.created_ticket,
            duplicate=received.duplicate,
        )


class WebhookRefused(ProblemError):
    """A forged, stale or unsigned webhook (400, nothing stored)."""

    status = 400
    title = "Webhook refused"


@router.post(
    "/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactOut,
    responses=problem_responses(401, 403, 422),
    summary="Log a phone call or social-media message onto its ticket",
)
async def post_contact(ctx: Context, _: Writer, body: ContactIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: log_contact(transactor, body.contact(), clock=ctx.clock),
        present=ContactOut.of,
        status_code=status.HTTP_201_CREATED,
    )


def _parse(data: Any) -> Contact:
    body, errors = validated(ContactIn, data)
    if body is None:
        problems = [FieldProblem(tuple(e["loc"]), str(e["msg"]), str(e["type"])) for e in errors]
        raise Invalid("the contact is not valid", problems=problems)
    return body.contact()


@router.post(
    "/webhooks/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactOut,
    responses=problem_responses(400, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A contact as for POST /contacts, signed (verified raw)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ContactIn"}}},
        }
    },
    summary="A telephony or social tool reports a contact (HMAC-signed, public)",
    description='`X-Kontor-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">` '
    "with the setting `contact_webhook_secret`; a forged or stale signature (or no "
    "secret configured) answers 400. A contact whose `external_id` was logged before "
    "answers `duplicate: true`.",
)
async def contact_webhook(
    ctx: Context,
    request: Request,
    signature: Annotated[str | None, Header(alias="X-Kontor-Signature", max_length=600)] = None,
) -> Response:
    raw = await request.body()
    refused = webhook_refusal(ctx.contact_webhook_secret, raw, signature, now=ctx.clock())
    if refused is not None:
        raise WebhookRefused(refused)
    contact = _parse(webhook_body(raw))
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: log_contact(transactor, contact, clock=ctx.clock),
        present=ContactOut.of,
        status_code=status.HTTP_201_CREATED,
    )
