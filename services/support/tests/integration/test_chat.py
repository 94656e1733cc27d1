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

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


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


async def test_a_chat_the_customer_left_is_answered_by_mail(
    start_service: Any, mail_sink: Any
) -> None:
    from kontor_servicekit.context import context_of
    from kontor_support.application.chats import chat_message
    from kontor_support.context import SupportContext

    settings = {
        **mail_sink.smtp_settings(),
        "mail_send_interval_s": 0.05,
        "chat_email_after_s": 0.2,
    }
    async with start_service("support", **settings) as support:
        opened = await support.client.post(
            "/chats", json={"name": "Anna Muster", "email": "anna@example.de"}
        )
        chat_id = opened.json()["id"]
        ctx = context_of(support.app, SupportContext)
        chat = await ctx.queries.chat(chat_id)
        assert chat is not None
        # the customer wrote, then closed the page: no socket holds the chat
        received = await chat_message(
            ctx.transactor, chat, "Ist B-2026-000003 unterwegs?", clock=ctx.clock
        )
        file = await support.client.post(  # ADR 0123: an agent's file goes by mail too
            f"/chats/{chat_id}/attachments",
            files={"file": ("etikett.pdf", PDF)},
            data={"body": "Ihr Rücksendeetikett"},
        )
        assert file.status_code == 201, file.text
        reply = await support.client.post(
            f"/tickets/{received.ticket_id}/replies",
            json={"body": "Ja, seit gestern.", "internal": False},
        )
        assert reply.status_code == 201, reply.text
        mails = await mail_sink.arrived(2)
        [mail] = [m for m in mails if not list(m.iter_attachments())]
        assert mail["To"] == "Anna Muster <anna@example.de>"
        assert mail["Subject"].endswith(f"[#{received.ticket_id}]")
        assert "Ja, seit gestern." in mail.get_body(("plain",)).get_content()
        [with_file] = [m for m in mails if list(m.iter_attachments())]
        assert "Ihr Rücksendeetikett" in with_file.get_body(("plain",)).get_content()
        [attached] = list(with_file.iter_attachments())
        assert (attached.get_filename(), attached.get_content_type()) == (
            "etikett.pdf",
            "application/pdf",
        )
        assert attached.get_content() == PDF
        ticket = (await support.client.get(f"/tickets/{received.ticket_id}")).json()
        assert ticket["channel"] == "email"  # the rest of it continues by mail


async def test_files_both_ways_in_a_chat(infra: Any, namespace: str, auth_keys: Keys) -> None:
    """ADR 0123 over a real socket and database: the customer sends a PNG with the chat's
    token, the agent sees it on the ticket and downloads the same bytes; the agent's PDF
    is pushed to the customer's socket as an attachment frame and downloaded with the
    token; oversized, wrong-type and unauthorised uploads are refused with problem+json."""
    from kontor_servicekit.testing import sample_image

    png = sample_image("image/png", (32, 32), comment="taken in the kitchen")
    settings = settings_on(
        infra,
        namespace,
        auth_keys,
        "support",
        http_port=free_port(),
        chat_push_interval_s=0.05,
        chat_attachment_max_bytes=20_000,
    )
    async with serve_on_socket("support", settings) as served:
        base = served.url
        agent = {"Authorization": f"Bearer {auth_keys.token()}"}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            opened = await http.post(
                "/chats", json={"name": "Jane Doe"}, headers={"Accept-Language": "en-GB,en"}
            )
            chat = opened.json()
            uploads = f"/chats/{chat['id']}/attachments"
            token = {"token": chat["token"]}
            async with connect(base.replace("http://", "ws://") + chat["websocket"]) as socket:
                await next_of(socket, "history")
                sent = await http.post(
                    uploads,
                    params=token,
                    files={"file": ("seam.png", png, "application/octet-stream")},
                    data={"body": "The seam"},
                )
                assert sent.status_code == 201, sent.text
                shown = sent.json()
                assert (shown["filename"], shown["content_type"]) == ("seam.png", "image/png")
                assert shown["size"] == len(png)

                ticket = (await http.get(f"/tickets/{shown['ticket_id']}", headers=agent)).json()
                assert (ticket["channel"], ticket["language"]) == ("chat", "en")
                [message] = ticket["messages"]
                assert (message["direction"], message["body"]) == ("in", "The seam")
                [file] = message["attachments"]
                assert file["blob_id"] == shown["attachment_id"]
                via_ticket = await http.get(
                    f"/tickets/{ticket['id']}/attachments/{file['blob_id']}", headers=agent
                )
                assert via_ticket.content == png  # the same bytes, as sent
                via_chat = await http.get(shown["url"], headers=agent)
                assert via_chat.content == png
                assert via_chat.headers["content-disposition"].startswith("attachment;")

                label = await http.post(
                    uploads, headers=agent, files={"file": ("label.pdf", PDF, "image/png")}
                )
                assert label.status_code == 201, label.text
                assert label.json()["content_type"] == "application/pdf"  # by its content
                pushed = await next_of(socket, "attachment")
                assert pushed["from"] == "agent" and pushed["id"] == label.json()["message_id"]
                assert pushed["attachment"]["filename"] == "label.pdf"
                got = await http.get(pushed["attachment"]["url"], params=token)
                assert got.status_code == 200 and got.content == PDF

                # a plain message still travels as the contract's message frame
                await http.post(
                    f"/tickets/{ticket['id']}/replies", json={"body": "Done."}, headers=agent
                )
                assert (await next_of(socket, "message"))["body"] == "Done."

            async with connect(base.replace("http://", "ws://") + chat["websocket"]) as again:
                history = (await next_of(again, "history"))["messages"]
                assert [len(m.get("attachments", [])) for m in history] == [1, 1, 0]

            too_big = await http.post(
                uploads, params=token, files={"file": ("big.pdf", PDF + bytes(20_000))}
            )
            assert too_big.status_code == 413
            assert too_big.headers["content-type"].startswith("application/problem+json")
            html = b"<html><script>alert(document.cookie)</script></html>"
            wrong = await http.post(uploads, params=token, files={"file": ("x.png", html)})
            assert wrong.status_code == 422
            assert wrong.headers["content-type"].startswith("application/problem+json")
            assert wrong.json()["errors"][0]["loc"] == ["body", "file"]
            nobody = await http.post(uploads, files={"file": ("x.pdf", PDF)})
            assert nobody.status_code == 401
            other = (await http.post("/chats", json={})).json()
            foreign = await http.post(
                uploads, params={"token": other["token"]}, files={"file": ("x.pdf", PDF)}
            )
            assert foreign.status_code == 403
            assert foreign.headers["content-type"].startswith("application/problem+json")
            stolen = await http.get(shown["url"], params={"token": other["token"]})
            assert stolen.status_code == 403
            elsewhere = await http.get(
                f"/chats/{other['id']}/attachments/{shown['attachment_id']}",
                params={"token": other["token"]},
            )
            assert elsewhere.status_code == 404  # a file of another chat
