"""The chat channel: the customer's WebSocket and the pusher of agents' replies.

``/chats/{id}/ws?token=...`` admits the holder of that chat's token
(``channels/signing.py``). The socket carries JSON objects both ways:

- in: ``{"type": "message", "body": "..."}`` (optional ``"id"``: the client's id of the
  message, so a resent one is stored once), ``{"type": "typing"}``, ``{"type": "read"}``;
- out: ``{"type": "history", "messages": [...]}`` at the start (the transcript so far;
  a message with files has ``attachments``), ``{"type": "ack", "id": ..., "at": ...}``
  for each stored message, the agents'
  ``{"type": "message", "from": "agent", "body": ..., "id": ..., "at": ...}``, an agent's
  file ``{"type": "attachment", "from": "agent", "attachment": {"id", "filename",
  "content_type", "size", "url"}, "body": <caption>, "id": ..., "at": ...}`` (ADR 0123;
  the customer downloads ``url?token=...``),
  ``{"type": "typing", "from": "agent"}``, ``{"type": "read", "from": "agent", "at": ...}``
  and ``{"type": "error", "detail": ...}`` for what was refused (the socket stays open).

Agents answer with the ticket's replies; each is queued as a delivery of channel
``chat``. The :class:`ChatHub` of each replica knows the sockets connected to it; a
sweeper round (:meth:`ChatHub.push`) takes the queued replies of those chats (one
query), pushes them and marks them sent, and pushes the agents' typing and read
state when it changed (one more query). A reply whose customer is connected to no
replica stays queued until the customer comes back, and is pushed then.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import DomainError
from kontor_servicekit.uow import Transactor
from starlette.websockets import WebSocket, WebSocketState

from kontor_support.application.chats import chat_message, chat_seen, chat_typing
from kontor_support.application.deliveries import claim_delivery, mark_delivery
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.channels.signing import BadSignature, verify_chat_token
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.store.queries import SupportQueries

__all__ = ["ChatHub", "attachment_url", "reply_frame", "serve_chat"]

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
MAX_FRAME_CHARS = 40_000
CLAIM_LEASE = timedelta(seconds=30)


class _Socket(Protocol):
    async def send_text(self, data: str) -> None: ...


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def _send(socket: _Socket, payload: dict[str, Any]) -> bool:
    try:
        await socket.send_text(json.dumps(payload, ensure_ascii=False))
    except Exception:  # a socket that went away: the hub forgets it when it leaves
        return False
    return True


@dataclass(eq=False)
class _Connection:
    chat_id: str
    socket: _Socket
    agent_typing: bool = False
    agent_read_at: datetime | None = None


@dataclass
class ChatHub:
    """The chat sockets connected to this replica, and the pusher of their news."""

    transactor: Transactor[SupportUnitOfWork]
    queries: SupportQueries
    clock: Clock
    connections: dict[str, list[_Connection]] = field(default_factory=dict)

    def join(self, chat_id: str, socket: _Socket) -> _Connection:
        connection = _Connection(chat_id, socket)
        self.connections.setdefault(chat_id, []).append(connection)
        return connection

    def leave(self, connection: _Connection) -> None:
        others = [c for c in self.connections.get(connection.chat_id, []) if c is not connection]
        if others:
            self.connections[connection.chat_id] = others
        else:
            self.connections.pop(connection.chat_id, None)

    async def push(self) -> int:
        """One round: queued agent replies and the agents' typing/read state to the
        connected customers. Answers how many replies were pushed."""
        chat_ids = list(self.connections)
        if not chat_ids:
            return 0
        pushed = 0
        now = self.clock()
        due = await self.queries.queued_deliveries(
            200, now=now, channel="chat", conversations=chat_ids
        )
        for queued in due:
            delivery = await claim_delivery(self.transactor, queued.id, at=now, lease=CLAIM_LEASE)
            if delivery is None or delivery.external_conversation_id is None:
                continue
            payload = reply_frame(delivery, delivery.external_conversation_id)
            sockets = self.connections.get(delivery.external_conversation_id, [])
            reached = [await _send(c.socket, payload) for c in sockets]
            if any(reached):
                await mark_delivery(self.transactor, delivery.id, "sent", at=self.clock())
                pushed += 1
        for chat in await self.queries.chats(chat_ids):
            typing = chat.is_typing("agent", now)
            for connection in self.connections.get(chat.id, []):
                if typing and not connection.agent_typing:
                    await _send(connection.socket, {"type": "typing", "from": "agent"})
                connection.agent_typing = typing
                read_at = chat.agent_read_at
                if read_at is not None and read_at != connection.agent_read_at:
                    connection.agent_read_at = read_at
                    await _send(
                        connection.socket, {"type": "read", "from": "agent", "at": _iso(read_at)}
                    )
        return pushed


def attachment_url(chat_id: str, blob_id: str) -> str:
    """Where a chat's file is downloaded (the customer adds ``?token=...``)."""
    return f"/chats/{chat_id}/attachments/{blob_id}"


def _attachment(chat_id: str, attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.blob_id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment_url(chat_id, attachment.blob_id),
    }


def reply_frame(delivery: Delivery, chat_id: str) -> dict[str, Any]:
    """An agent's reply as its frame: ``message``, or ``attachment`` (ADR 0123) with the
    file's metadata and the reply's text as its caption."""
    payload: dict[str, Any] = {
        "type": "attachment" if delivery.attachments else "message",
        "from": "agent",
        "id": delivery.ticket_message_id,
        "body": delivery.body_text,
        "at": _iso(delivery.created_at),
    }
    if delivery.attachments:
        payload["attachment"] = _attachment(chat_id, delivery.attachments[0])
    return payload


def _shown(message: TicketMessage, chat_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": message.id,
        "from": "customer" if message.direction == "in" else "agent",
        "body": message.body_text,
        "at": _iso(message.at),
    }
    if message.attachments:
        shown["attachments"] = [_attachment(chat_id, a) for a in message.attachments]
    return shown


@dataclass
class ChatChannel:
    """What a chat socket needs (built in ``main.py``)."""

    hub: ChatHub
    secret: bytes
    blobs: BlobWriter | None = None


async def serve_chat(websocket: WebSocket, chat_id: str, token: str, channel: ChatChannel) -> None:
    """Serve one customer's socket until it closes."""
    hub = channel.hub
    try:
        verify_chat_token(channel.secret, token, chat_id, now=hub.clock())
    except BadSignature as exc:
        log.info("chat %s refused: %s", chat_id[:40], exc)
        await websocket.close(code=POLICY_VIOLATION)
        return
    chat = await hub.queries.chat(chat_id)
    if chat is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    history = await hub.queries.transcript(chat.ticket_id) if chat.ticket_id else []
    await _send(websocket, {"type": "history", "messages": [_shown(m, chat.id) for m in history]})
    connection = hub.join(chat.id, websocket)
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                await _send(websocket, {"type": "error", "detail": "send JSON text frames"})
                continue
            if len(text) > MAX_FRAME_CHARS:
                await websocket.close(code=MESSAGE_TOO_BIG)
                break
            await _handle(websocket, text, chat_id, channel)
    finally:
        hub.leave(connection)
        if websocket.client_state == WebSocketState.CONNECTED:
            await websocket.close()


async def _handle(websocket: WebSocket, text: str, chat_id: str, channel: ChatChannel) -> None:
    hub = channel.hub
    try:
        payload = json.loads(text)
    except ValueError:
        await _send(websocket, {"type": "error", "detail": "not JSON"})
        return
    kind = payload.get("type") if isinstance(payload, dict) else None
    try:
        if kind == "message":
            body, client_id = payload.get("body"), payload.get("id")
            if not isinstance(body, str):
                raise _Refused("body: a string is required")
            if client_id is not None and not (isinstance(client_id, str) and len(client_id) <= 100):
                raise _Refused("id: a string of at most 100 characters")
            chat = await hub.queries.chat(chat_id)
            if chat is None:
                raise _Refused("the chat is gone")
            received = await chat_message(
                hub.transactor,
                chat,
                body,
                clock=hub.clock,
                external_id=f"{chat_id}:{client_id}" if client_id else None,
                blobs=channel.blobs,
            )
            await _send(
                websocket, {"type": "ack", "id": received.message_id, "at": _iso(hub.clock())}
            )
        elif kind == "typing":
            await chat_typing(hub.transactor, chat_id, "customer", at=hub.clock())
        elif kind == "read":
            await chat_seen(hub.transactor, chat_id, "customer", at=hub.clock())
        else:
            raise _Refused("type: one of message, typing, read")
    except _Refused as exc:
        await _send(websocket, {"type": "error", "detail": str(exc)})
    except DomainError as exc:
        await _send(websocket, {"type": "error", "detail": str(exc)})


class _Refused(Exception):
    """A frame the socket answers with an error (and stays open)."""
