"""HTTP routes of tickets: the list, one ticket with messages and customer context,
replies and notes, an agent's own ticket, changes, merge, timeline, queue, customers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryInt
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.blobs import blob_response
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_support.application.tickets import (
    ChangeTicket,
    OpenTicket,
    Reply,
    change_ticket,
    merge_tickets,
    open_ticket,
    reply_to_ticket,
)
from kontor_support.application.views import CustomerView, TicketFilter, TicketView
from kontor_support.context import Context, SupportContext
from kontor_support.domain.message import TicketMessage
from kontor_support.domain.rating import Rating
from kontor_support.domain.ticket import Ticket, TimelineEntry

router = APIRouter(tags=["tickets"])

TicketId = Annotated[str, Path(min_length=1, max_length=32)]
PageSize = Annotated[QueryInt, Query(ge=1, le=200)]
Reader = Annotated[Principal, Depends(require_scope("support:read"))]
Writer = Annotated[Principal, Depends(require_scope("support:write"))]
StateName = Literal["new", "open", "pending", "pending_close", "solved", "closed", "merged"]
PriorityName = Literal["low", "normal", "high", "urgent"]
Text = Annotated[str, Field(min_length=1, max_length=100_000)]
Short = Annotated[str, Field(min_length=1, max_length=100)]


class TicketOut(BaseModel):
    id: str
    subject: str
    channel: str
    status: str = Field(description="new, open, pending, pending_close, solved, closed, merged")
    priority: str
    assignee: str | None
    group: str | None
    tags: list[str]
    customer_email: str | None
    customer_name: str | None
    customer_phone: str | None
    order_numbers: list[str]
    invoice_numbers: list[str]
    return_ids: list[str]
    category: str | None
    merged_into: str | None
    follow_up_of: str | None
    pending_until: Instant | None
    created_at: Instant
    updated_at: Instant | None
    first_response_at: Instant | None
    waiting_since: Instant | None
    solved_at: Instant | None
    closed_at: Instant | None
    sla_target: str | None
    sla_due_at: Instant | None
    language: str | None = Field(
        description="The customer's language, de or en (null: not known, German is used)"
    )
    language_source: str | None = Field(description="Who said so: agent, customer or order")

    @classmethod
    def of(cls, t: Ticket) -> TicketOut:
        return cls(
            **{
                name: getattr(t, name)
                for name in cls.model_fields
                if name not in ("tags", "order_numbers", "invoice_numbers", "return_ids")
            },
            tags=list(t.tags),
            order_numbers=list(t.order_numbers),
            invoice_numbers=list(t.invoice_numbers),
            return_ids=list(t.return_ids),
        )


class AttachmentOut(BaseModel):
    blob_id: str
    filename: str
    content_type: str
    size: int


class MessageOut(BaseModel):
    id: str
    direction: str
    channel: str
    body: str
    body_html: str | None
    at: Instant
    internal: bool
    author: str | None
    subject: str | None
    automated: bool
    attachments: list[AttachmentOut]
    delivery_id: str | None
    duration_s: int | None = Field(default=None, description="phone: the call's length")
    external_id: str | None = Field(default=None, description="The channel's id of it")

    @classmethod
    def of(cls, m: TicketMessage) -> MessageOut:
        return cls(
            id=m.id,
            direction=m.direction,
            channel=m.channel,
            body=m.body_text,
            body_html=m.body_html,
            at=m.at,
            internal=m.internal,
            author=m.author,
            subject=m.subject,
            automated=m.automated,
            attachments=[AttachmentOut(**a.__dict__) for a in m.attachments],
            delivery_id=m.delivery_id,
            duration_s=m.duration_s,
            external_id=m.external_id,
        )


class OrderContextOut(BaseModel):
    """What support knows of one order from the orders' and billing's events."""

    model_config = ConfigDict(extra="allow")
    order_id: str
    order_number: str | None = None
    status: str | None = None
    placed_at: Instant | None = None
    shipments: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    complaints: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    credit_notes: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    dunning: list[dict[str, Any]] = []

    @classmethod
    def of(cls, doc: dict[str, Any]) -> OrderContextOut:
        values = {k: v for k, v in doc.items() if k != "_id"}
        values["order_id"] = doc["_id"]
        return cls(**_jsonable(values))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value
    if hasattr(value, "to_decimal"):
        return str(value.to_decimal())
    return value


class CustomerOut(BaseModel):
    email: str
    name: str | None
    phones: list[str]
    orders: list[OrderContextOut]


class TicketRatingOut(BaseModel):
    """The customer's satisfaction rating, once they were asked (ADR 0044)."""

    agent: str
    score: int | None = Field(description="1 (worst) to 5 (best); null: not rated (yet)")
    comment: str | None
    requested_at: Instant
    rated_at: Instant | None
    expires_at: Instant


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    customer: CustomerOut | None
    rating: TicketRatingOut | None = None


def _customer(
    email: str | None, doc: dict[str, Any] | None, orders: list[dict[str, Any]]
) -> CustomerOut | None:
    if email is None and not orders:
        return None
    return CustomerOut(
        email=email or "",
        name=(doc or {}).get("name"),
        phones=list((doc or {}).get("phones") or []),
        orders=[OrderContextOut.of(o) for o in orders],
    )


def _detail(view: TicketView) -> TicketDetailOut:
    return TicketDetailOut(
        **TicketOut.of(view.ticket).model_dump(),
        messages=[MessageOut.of(m) for m in view.messages],
        customer=_customer(view.ticket.customer_email, view.customer, view.orders),
        rating=None if view.rating is None else TicketRatingOut(**_rating_fields(view.rating)),
    )


def _rating_fields(rating: Rating) -> dict[str, Any]:
    names = ("agent", "score", "comment", "requested_at", "rated_at", "expires_at")
    return {name: getattr(rating, name) for name in names}


class TicketPage(PageOut[TicketOut]):
    """A page of tickets (the kit's one list shape)."""


@router.get(
    "/tickets",
    responses=problem_responses(401, 403, 422),
    summary="Tickets, newest first, filtered by customer e-mail, status, channel, order",
)
async def list_tickets(
    ctx: Context,
    _: Reader,
    customer: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    status_: Annotated[StateName | None, Query(alias="status")] = None,
    channel: Annotated[Literal["email", "chat", "phone", "social", "web"] | None, Query()] = None,
    order_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> TicketPage:
    wanted = TicketFilter(customer, status_, channel, order_number)
    found = await ctx.tickets.page(wanted, page=page, page_size=page_size)
    return TicketPage(
        items=[TicketOut.of(t) for t in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/tickets/{ticket_id}",
    responses=problem_responses(401, 403, 404),
    summary="One ticket with its messages and the customer's orders, invoices and returns",
)
async def read_ticket(ctx: Context, _: Reader, ticket_id: TicketId) -> TicketDetailOut:
    view = await ctx.tickets.view(ticket_id)
    if view is None:
        raise NotFound("ticket", ticket_id)
    return _detail(view)


class TicketIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Anruf: Rücksendung B-2026-000042",
                    "body": "Kundin fragt nach dem Retourenlabel.",
                    "channel": "phone",
                    "customer_email": "anna@example.de",
                }
            ]
        },
    )
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    body: Text
    channel: Literal["email", "chat", "phone", "social", "web"] = "phone"
    customer_email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)] = (
        None
    )
    customer_name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    priority: PriorityName = "normal"
    group: Short | None = None
    tags: list[Short] = Field(default_factory=list, max_length=30)


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="An agent opens a ticket (emits TicketOpened when it has a customer)",
)
async def post_ticket(
    ctx: Context,
    request: Request,
    agent: Writer,
    body: TicketIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = OpenTicket(
        subject=body.subject,
        body=body.body,
        agent=agent.subject,
        channel=body.channel,
        customer_email=body.customer_email,
        customer_name=body.customer_name,
        priority=body.priority,
        group=body.group,
        tags=tuple(body.tags),
    )
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: open_ticket(transactor, command, ctx.clock),
        present=TicketOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/tickets/{out.id}",
    )


class ChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "pending", "pending_until": "2026-12-09T08:00:00Z"},
                {"priority": "high", "assignee": "berta", "tags": ["lieferung"]},
            ]
        },
    )
    status: Literal["open", "pending", "pending_close", "solved", "closed"] | None = None
    priority: PriorityName | None = None
    assignee: Short | None = None
    unassign: bool = False
    group: Short | None = None
    tags: list[Short] | None = Field(default=None, max_length=30)
    pending_until: AwareDatetime | None = None
    resolution: Annotated[str | None, Field(min_length=1, max_length=2000)] = None
    language: Literal["de", "en"] | None = Field(
        default=None,
        description="The customer's language (the rating mail's): outweighs what their mail, "
        "browser or order said",
    )


@router.patch(
    "/tickets/{ticket_id}",
    response_model=TicketOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change state, priority, assignee, group, tags, the pending date or the language",
)
async def patch_ticket(
    ctx: Context, agent: Writer, ticket_id: TicketId, body: ChangeIn
) -> Response:
    command = ChangeTicket(
        agent=agent.subject,
        status=body.status,
        priority=body.priority,
        assignee=body.assignee,
        unassign=body.unassign,
        group=body.group,
        tags=None if body.tags is None else tuple(body.tags),
        pending_until=body.pending_until,
        resolution=body.resolution,
        language=body.language,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: change_ticket(
            transactor,
            ticket_id,
            command,
            ctx.clock,
            ratings=ctx.rating_links if ctx.rating_mail else None,
        ),
        present=TicketOut.of,
    )


class MergeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"into": "T-2026-000001"}]}
    )
    into: Annotated[str, Field(min_length=1, max_length=32)]


@router.post(
    "/tickets/{ticket_id}/merge",
    response_model=TicketOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Merge this ticket into another; answers the ticket merged into",
)
async def post_merge(ctx: Context, agent: Writer, ticket_id: TicketId, body: MergeIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: merge_tickets(
            transactor, ticket_id, body.into, agent.subject, ctx.clock
        ),
        present=TicketOut.of,
    )


class ReplyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Ihr Paket ist unterwegs.", "internal": False}]},
    )
    body: Text
    internal: bool = False


@router.post(
    "/tickets/{ticket_id}/replies",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="A public reply (sent on the ticket's channel) or an internal note",
    description="A placeholder left in the body (`{{order_number}}`) is refused with 422 "
    "naming it. With an `Idempotency-Key` a retry answers the first reply again.",
)
async def post_reply(
    ctx: Context,
    request: Request,
    agent: Writer,
    ticket_id: TicketId,
    body: ReplyIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = Reply(body=body.body, agent=agent.subject, internal=body.internal)
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: reply_to_ticket(
            transactor, ticket_id, command, ctx.clock, mail_domain=ctx.mail_domain
        ),
        present=MessageOut.of,
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
    )


BlobId = Annotated[str, Path(min_length=1, max_length=64)]

#: The OpenAPI ``responses`` of a route that serves one of a ticket's files.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"*/*": {}}, "description": "The file, as a download"},
    **problem_responses(401, 403, 404),
}


async def ticket_file(
    ctx: SupportContext, ticket_id: str | None, blob_id: str, *, public: bool = False
) -> Response:
    """The file ``blob_id`` of a message of ``ticket_id`` as a sandboxed download
    (``public``: not an internal note's); 404 for another ticket's or one erased since."""
    attachment = (
        await ctx.tickets.attachment(ticket_id, blob_id, public=public) if ticket_id else None
    )
    blob = None if attachment is None else await ctx.blobs.get(blob_id)
    if attachment is None or blob is None:
        raise NotFound("attachment", blob_id)
    return blob_response(blob, download_as=attachment.filename)


@router.get(
    "/tickets/{ticket_id}/attachments/{blob_id}",
    responses=FILE_RESPONSES,
    response_class=Response,
    summary="A file attached to one of the ticket's messages (saved, never shown inline)",
)
async def read_attachment(
    ctx: Context, _: Reader, ticket_id: TicketId, blob_id: BlobId
) -> Response:
    return await ticket_file(ctx, ticket_id, blob_id)


class TimelineOut(BaseModel):
    at: Instant
    actor: str
    kind: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineOut:
        return cls(at=e.at, actor=e.actor, kind=e.kind, detail=_jsonable(e.detail))


@router.get(
    "/tickets/{ticket_id}/timeline",
    responses=problem_responses(401, 403, 404),
    summary="Every change of the ticket, oldest first",
)
async def read_timeline(ctx: Context, _: Reader, ticket_id: TicketId) -> list[TimelineOut]:
    ticket = await ctx.tickets.ticket(ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return [TimelineOut.of(e) for e in ticket.timeline]


@router.get(
    "/queue",
    responses=problem_responses(401, 403, 422),
    summary="Tickets waiting for us, the one that breaches its SLA first on top",
)
async def read_queue(
    ctx: Context, _: Reader, page: Page = 1, page_size: PageSize = 50
) -> TicketPage:
    found = await ctx.tickets.queue(page=page, page_size=page_size)
    return TicketPage(
        items=[TicketOut.of(t) for t in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


class CustomerViewOut(CustomerOut):
    tickets: list[TicketOut]

    @classmethod
    def of(cls, view: CustomerView) -> CustomerViewOut:
        doc = view.customer or {}
        return cls(
            email=view.email,
            name=doc.get("name"),
            phones=list(doc.get("phones") or []),
            orders=[OrderContextOut.of(o) for o in view.orders],
            tickets=[TicketOut.of(t) for t in view.tickets],
        )


@router.get(
    "/customers/{email}",
    responses=problem_responses(401, 403, 404, 422),
    summary="A customer's orders, shipments, returns, complaints, invoices, payments, tickets",
)
async def read_customer(
    ctx: Context,
    _: Reader,
    email: Annotated[str, Path(pattern=r"^[^@\s/]+@[^@\s/]+$", max_length=254)],
) -> CustomerViewOut:
    view = await ctx.tickets.customer(email)
    if view.customer is None and not view.orders and not view.tickets:
        raise NotFound("customer", email, message="no customer with this e-mail address")
    return CustomerViewOut.of(view)
