"""Chat routes: a customer opens a chat (public) and talks over its WebSocket; agents
see the chat's live state and say they are typing or have read it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, WebSocket, status
from kontor_servicekit.apitypes import Instant
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.context import context_of
from kontor_servicekit.domain_errors import NotFound, RateLimited
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.languages import preferred_language
from pydantic import BaseModel, ConfigDict, Field

from kontor_support.application.chats import chat_seen, chat_typing, open_chat
from kontor_support.channels.chat import serve_chat
from kontor_support.channels.signing import chat_token
from kontor_support.context import Context, SupportContext
from kontor_support.domain.chat import Chat

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
