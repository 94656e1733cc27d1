"""A chat end to end over a real socket (uvicorn) with a real WebSocket client: the
customer opens a chat, writes, sees the agent typing, gets the agent's reply pushed,
both sides' read state is shown, the transcript is on the ticket, and a reconnect
starts with the history. A wrong token is refused before the socket opens."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from kontor_local.runtime import free_port
from kontor_servicekit.testing import Keys, eventually, serve_on_socket, settings_on
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

pytestmark = pytest.mark.integration


async def next_of(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of ``kind`` (others, e.g. a read receipt, are skipped)."""
    while True:
        frame: dict[str, Any] = json.loads(await socket.recv(decode=True))
        if frame["type"] == kind:
            return frame


async def test_a_chat_from_the_first_message_to_the_agents_pushed_reply(
    infra: Any, namespace: str, auth_keys: Keys
) -> None:
    settings = settings_on(
        infra, namespace, auth_keys, "support", http_port=free_port(), chat_push_interval_s=0.05
    )
    async with serve_on_socket("support", settings) as served:
        base = served.url
        ws_base = base.replace("http://", "ws://")
        agent = {"Authorization": f"Bearer {auth_keys.token()}"}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            opened = await http.post(
                "/chats", json={"name": "Anna Muster", "email": "Anna@Example.de"}
            )
            assert opened.status_code == 201, opened.text
            chat = opened.json()
            assert chat["websocket"] == f"/chats/{chat['id']}/ws?token={chat['token']}"

            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{ws_base}/chats/{chat['id']}/ws?token=forged.1.x").__aenter__()
            assert refused.value.response.status_code == 403

            async with connect(ws_base + chat["websocket"]) as socket:
                assert (await next_of(socket, "history"))["messages"] == []
                await socket.send(json.dumps({"type": "messag"}))
                assert "type" in (await next_of(socket, "error"))["detail"]
                await socket.send(
                    json.dumps({"type": "message", "body": "Gibt es das T-Shirt in blau, M?"})
                )
                ack = await next_of(socket, "ack")

                tickets = await http.get("/tickets", params={"channel": "chat"}, headers=agent)
                [ticket] = tickets.json()["items"]
                assert ticket["customer_email"] == "anna@example.de"
                shown = (await http.get(f"/chats/{chat['id']}", headers=agent)).json()
                assert (shown["ticket_id"], shown["connected"]) == (ticket["id"], True)

                await socket.send(json.dumps({"type": "typing"}))
                typing = await http.post(f"/chats/{chat['id']}/typing", headers=agent)
                assert typing.status_code == 200, typing.text
                assert (await next_of(socket, "typing"))["from"] == "agent"

                async def customer_typing() -> bool:
                    view = (await http.get(f"/chats/{chat['id']}", headers=agent)).json()
                    return bool(view["customer_typing"])

                await eventually(customer_typing, timeout=5)

                reply = await http.post(
                    f"/tickets/{ticket['id']}/replies",
                    json={"body": "Ja, in Blau und M sind 3 Stück da.", "internal": False},
                    headers=agent,
                )
                assert reply.status_code == 201, reply.text
                pushed = await next_of(socket, "message")
                assert pushed["from"] == "agent"
                assert pushed["body"] == "Ja, in Blau und M sind 3 Stück da."

                await socket.send(json.dumps({"type": "read"}))
                await http.post(f"/chats/{chat['id']}/read", headers=agent)
                assert (await next_of(socket, "read"))["from"] == "agent"

                async def customer_read() -> Any:
                    view = (await http.get(f"/chats/{chat['id']}", headers=agent)).json()
                    return view["customer_read_at"]

                await eventually(customer_read, timeout=5)

            detail = (await http.get(f"/tickets/{ticket['id']}", headers=agent)).json()
            assert [(m["direction"], m["channel"]) for m in detail["messages"]] == [
                ("in", "chat"),
                ("out", "chat"),
            ]
            assert detail["messages"][0]["id"] == ack["id"]

            async with connect(ws_base + chat["websocket"]) as again:
                history = (await next_of(again, "history"))["messages"]
                assert [(m["from"], m["body"]) for m in history] == [
                    ("customer", "Gibt es das T-Shirt in blau, M?"),
                    ("agent", "Ja, in Blau und M sind 3 Stück da."),
                ]
