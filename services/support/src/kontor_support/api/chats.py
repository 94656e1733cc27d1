"""Chat routes: a customer opens a chat (public) and talks over its WebSocket; agents
see the chat's live state and say they are typing or have read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
    WebSocket,
    status,
)
from fastapi.security import HTTPAuthorizationCredentials
from kontor_servicekit.apitypes import Instant
from kontor_servicekit.auth import Principal, bearer_scheme, require_scope
from kontor_servicekit.blobs import read_file_upload
from kontor_servicekit.context import context_of
from kontor_servicekit.domain_errors import NotFound, RateLimited
from kontor_servicekit.errors import Forbidden, problem_responses
from kontor_servicekit.languages import preferred_language
from pydantic import BaseModel, ConfigDict, Field

from kontor_support.api.tickets import FILE_RESPONSES, BlobId, ticket_file
from kontor_support.application.chats import (
    MAX_CHAT_MESSAGE,
    agent_chat_attachment,
    chat_message,
    chat_seen,
    chat_typing,
    open_chat,
)
from kontor_support.application.inbound import InboundAttachment
from kontor_support.channels.chat import attachment_url, serve_chat
from kontor_support.channels.signing import chat_token, chat_token_admits
from kontor_support.context import Context, SupportContext
from kontor_support.domain.chat import Chat, Side
from kontor_support.domain.message import Attachment

router = APIRouter(tags=["chats"])

ChatId = Annotated[str, Path(min_length=1, max_length=64)]
Reader = Annotated[Principal, Depends(require_scope("support:read"))]
Writer = Annotated[Principal, Depends(require_scope("support:write"))]


async def rate_limited(request: Request, ctx: Context) -> None:
    """Opening chats is public: so many per client address and minute."""
    client = request.client.host if request.client else "unknown"
    wait = ctx.chat_limiter.retry_after(client)
    if wait is not None:
        raise RateLimited(f"Too many chats opened; try again in {wait} s.", retry_after_s=wait)


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200, description="The customer's name")
    email: str | None = Field(
        default=None,
        min_length=3,
        max_length=254,
        description="Where to answer should the chat end unanswered",
    )
    language: Literal["de", "en"] | None = Field(
        default=None,
        description="The customer's language (the shop page's); unset: the browser's "
        "Accept-Language, if it names German or English",
    )


class ChatOpenedOut(BaseModel):
    id: str
    token: str = Field(description="Admits to this chat's WebSocket until expires_at")
    expires_at: Instant
    websocket: str = Field(description="The path of the chat's WebSocket, with the token")


class ChatOut(BaseModel):
    id: str
    ticket_id: str | None = Field(description="Opened by the customer's first message")
    customer_email: str | None
    customer_name: str | None
    created_at: Instant
    customer_typing: bool
    agent_typing: bool
    customer_read_at: Instant | None
    agent_read_at: Instant | None
    connected: bool = Field(description="The customer's socket is open on this replica")

    @classmethod
    def of(cls, chat: Chat, ctx: SupportContext) -> ChatOut:
        now = ctx.clock()
        return cls(
            id=chat.id,
            ticket_id=chat.ticket_id,
            customer_email=chat.customer_email,
            customer_name=chat.customer_name,
            created_at=chat.created_at,
            customer_typing=chat.is_typing("customer", now),
            agent_typing=chat.is_typing("agent", now),
            customer_read_at=chat.customer_read_at,
            agent_read_at=chat.agent_read_at,
            connected=chat.id in ctx.chat.hub.connections,
        )


@router.post(
    "/chats",
    status_code=status.HTTP_201_CREATED,
    response_model=ChatOpenedOut,
    dependencies=[Depends(rate_limited)],
    responses=problem_responses(422, 429),
    summary="Open a chat (public): its id and the customer's token for the WebSocket",
    description="Then connect to `/chats/{id}/ws?token=...` and send "
    '`{"type": "message", "body": "..."}`; the first message opens a ticket.',
)
async def post_chat(ctx: Context, request: Request, body: ChatIn) -> Response:
    language = body.language or preferred_language(request.headers.get("accept-language"))

    def present(chat: Chat) -> ChatOpenedOut:
        expires_at = chat.created_at + timedelta(seconds=ctx.chat_token_ttl_s)
        token = chat_token(ctx.chat.secret, chat.id, expires_at=expires_at)
        return ChatOpenedOut(
            id=chat.id,
            token=token,
            expires_at=expires_at,
            websocket=f"/chats/{chat.id}/ws?token={token}",
        )

    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: open_chat(
            transactor, name=body.name, email=body.email, clock=ctx.clock, language=language
        ),
        present=present,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/chats/{chat_id}",
    response_model=ChatOut,
    responses=problem_responses(401, 403, 404),
    summary="A chat's live state: who is typing, who has read up to when",
)
async def get_chat(ctx: Context, _: Reader, chat_id: ChatId) -> ChatOut:
    chat = await ctx.queries.chat(chat_id)
    if chat is None:
        raise NotFound("chat", chat_id)
    return ChatOut.of(chat, ctx)


ChatToken = Annotated[
    str | None,
    Query(
        max_length=500,
        description="The customer's chat token (from POST /chats); agents send their "
        "bearer token instead",
    ),
]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


@dataclass(frozen=True)
class Participant:
    """Who calls a chat's file route: its customer, or the agent named."""

    side: Side
    agent: str | None = None


def chat_participant(scope: str) -> Callable[..., Awaitable[Participant]]:
    """A dependency that admits the chat's customer (its token) or an agent (``scope``)."""
    agent = require_scope(scope)

    async def dependency(
        request: Request,
        ctx: Context,
        chat_id: ChatId,
        credentials: Bearer,
        token: ChatToken = None,
    ) -> Participant:
        if token is None:
            principal = await agent(request, credentials)
            return Participant("agent", principal.subject)
        if not chat_token_admits(ctx.chat.secret, token, chat_id, now=ctx.clock()):
            raise Forbidden(
                "The chat token does not admit to this chat (forged, another's, expired)."
            )
        return Participant("customer")

    return dependency


Uploader = Annotated[Participant, Depends(chat_participant("support:write"))]
Downloader = Annotated[Participant, Depends(chat_participant("support:read"))]


class ChatAttachmentOut(BaseModel):
    message_id: str = Field(description="The ticket message that carries the file")
    ticket_id: str
    attachment_id: str
    filename: str
    content_type: str = Field(description="Judged by the file's content, not its name")
    size: int = Field(description="Bytes")
    url: str = Field(description="Where it is downloaded (the customer adds ?token=...)")

    @classmethod
    def of(
        cls, chat_id: str, ticket_id: str, message_id: str, attachments: tuple[Attachment, ...]
    ) -> ChatAttachmentOut:
        [file] = attachments
        return cls(
            message_id=message_id,
            ticket_id=ticket_id,
            attachment_id=file.blob_id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            url=attachment_url(chat_id, file.blob_id),
        )


@router.post(
    "/chats/{chat_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=ChatAttachmentOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    summary="Send a file into the chat: the customer (?token=) or an agent (support:write)",
    description="Multipart field `file`: a JPEG, PNG or WebP image that decodes, or a PDF, "
    "judged by its content; at most `chat_attachment_max_bytes` (5 MiB). Optional field "
    "`body`: its caption. The customer's file lands on the chat's ticket (the first opens "
    "it); an agent's is a reply on it, pushed to the customer's socket as "
    '`{"type": "attachment", "from": "agent", "attachment": {...}}`.',
)
async def post_chat_attachment(
    ctx: Context,
    caller: Uploader,
    chat_id: ChatId,
    file: Annotated[UploadFile, File(description="An image or a PDF, at most 5 MiB")],
    body: Annotated[str, Form(max_length=MAX_CHAT_MESSAGE)] = "",
) -> Response:
    upload = await read_file_upload(
        file,
        what="a chat's file",
        default_name="file",
        max_bytes=ctx.chat_attachment_max_bytes,
    )
    sent = InboundAttachment(upload.filename, upload.content_type, upload.data)
    if caller.agent is not None:
        agent = caller.agent
        return await ctx.answers.answer(
            ctx.transactor,
            lambda transactor: agent_chat_attachment(
                transactor,
                chat_id,
                sent,
                agent=agent,
                caption=body,
                clock=ctx.clock,
                blobs=ctx.blobs,
                mail_domain=ctx.mail_domain,
            ),
            present=lambda m: ChatAttachmentOut.of(chat_id, m.ticket_id, m.id, m.attachments),
            status_code=status.HTTP_201_CREATED,
        )
    chat = await ctx.queries.chat(chat_id)
    if chat is None:
        raise NotFound("chat", chat_id)
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: chat_message(
            transactor, chat, body, clock=ctx.clock, blobs=ctx.blobs, attachments=(sent,)
        ),
        present=lambda r: ChatAttachmentOut.of(chat_id, r.ticket_id, r.message_id, r.attachments),
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/chats/{chat_id}/attachments/{blob_id}",
    responses=FILE_RESPONSES,
    response_class=Response,
    summary="A file of the chat: the customer (?token=) or an agent (support:read)",
)
async def read_chat_attachment(
    ctx: Context, caller: Downloader, chat_id: ChatId, blob_id: BlobId
) -> Response:
    chat = await ctx.queries.chat(chat_id)
    ticket_id = chat.ticket_id if chat is not None else None
    # the customer gets no internal note's file, nor another chat's
    return await ticket_file(ctx, ticket_id, blob_id, public=caller.side == "customer")


# after /chats/{chat_id}/attachments, which its path would match too
@router.post(
    "/chats/{chat_id}/{signal}",
    response_model=ChatOut,
    responses=problem_responses(401, 403, 404),
    summary="The agent is typing (shown for a few seconds) or has read the chat up to now",
)
async def post_signal(
    ctx: Context, _: Writer, chat_id: ChatId, signal: Literal["typing", "read"]
) -> Response:
    change = chat_typing if signal == "typing" else chat_seen
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: change(transactor, chat_id, "agent", at=ctx.clock()),
        present=lambda chat: ChatOut.of(chat, ctx),
    )


@router.websocket("/chats/{chat_id}/ws")
async def chat_socket(
    websocket: WebSocket,
    chat_id: ChatId,
    token: Annotated[str, Query(max_length=500)] = "",
) -> None:
    """The customer's side of the chat (see ``channels/chat.py`` for the messages)."""
    ctx = context_of(websocket.app, SupportContext)
    await serve_chat(websocket, chat_id, token, ctx.chat)
