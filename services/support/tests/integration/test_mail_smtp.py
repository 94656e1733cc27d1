"""E-mail over real SMTP (issue 14): a customer's mail to support's receiver opens a
ticket, the agent's reply goes out through the mail sink with the threading headers,
the customer's answer threads onto the same ticket, an auto-reply is kept and never
answered, and a relay that is away leaves the reply queued for its retry."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from kontor_servicekit.context import context_of
from kontor_servicekit.mail.sink import ThreadedSink
from kontor_servicekit.testing import eventually
from kontor_support.context import SupportContext

pytestmark = pytest.mark.integration


def customer_mail(**headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Anna Muster <Anna@Example.de>"
    mail["To"] = "support@kontor.local"
    mail["Subject"] = headers.pop("Subject", "Wo bleibt B-2026-000007?")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("Guten Tag,\nmeine Bestellung ist noch nicht da.\nAnna")
    return mail


async def send_to(support: Any, mail: EmailMessage) -> None:
    receiver = support.app.state.smtp_receiver
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=receiver.port, start_tls=False)


async def annas_tickets(support: Any) -> list[dict[str, Any]]:
    """Anna's tickets, once there is one (the receiver stores the mail before it answers
    250, so this waits for nothing but the first poll)."""

    async def opened() -> list[dict[str, Any]]:
        page = await support.client.get("/tickets", params={"customer": "anna@example.de"})
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    found: list[dict[str, Any]] = await eventually(opened, timeout=15)
    return found


async def messages_of(support: Any, ticket_id: str, count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        shown = (await support.client.get(f"/tickets/{ticket_id}")).json()
        return shown["messages"] if len(shown["messages"]) >= count else None

    found: list[dict[str, Any]] = await eventually(enough, timeout=15)
    return found


async def test_mail_in_reply_out_and_the_answer_on_the_same_ticket(
    start_service: Any, mail_sink: ThreadedSink
) -> None:
    settings = {**mail_sink.smtp_settings(), "mail_send_interval_s": 0.05}
    async with start_service("support", **settings) as support:
        await send_to(support, customer_mail(Message_ID="<m1@mail.example.de>"))

        [ticket] = await annas_tickets(support)
        assert ticket["channel"] == "email"
        ticket_id = ticket["id"]
        reply = await support.client.post(
            f"/tickets/{ticket_id}/replies",
            json={"body": "Ihre Sendung ist unterwegs.", "internal": False},
        )
        assert reply.status_code == 201, reply.text

        [sent] = await mail_sink.arrived(1)
        assert sent["To"] == "Anna Muster <anna@example.de>"
        assert sent["From"] == "Kontor Kundenservice <support@kontor.local>"
        assert sent["Subject"] == f"Re: Wo bleibt B-2026-000007? [#{ticket_id}]"
        assert sent["In-Reply-To"] == "<m1@mail.example.de>"
        assert "<m1@mail.example.de>" in str(sent["References"])
        assert str(sent["Message-ID"]).endswith("@support.kontor.local>")
        assert "Ihre Sendung ist unterwegs." in sent.get_body(("plain",)).get_content()
        ctx = context_of(support.app, SupportContext)

        async def recorded() -> bool:
            delivery = await ctx.queries.delivery(reply.json()["delivery_id"])
            return delivery is not None and delivery.status == "sent"

        await eventually(recorded, timeout=10)

        # the customer answers the reply (a subject without the reference): same ticket
        await send_to(
            support,
            customer_mail(
                Subject="AW: Lieferung",
                Message_ID="<m2@mail.example.de>",
                In_Reply_To=str(sent["Message-ID"]),
                References=f"<m1@mail.example.de> {sent['Message-ID']}",
            ),
        )
        messages = await messages_of(support, ticket_id, 3)
        assert [(m["direction"], m["channel"]) for m in messages] == [
            ("in", "email"),
            ("out", "email"),
            ("in", "email"),
        ]
        page = await support.client.get("/tickets", params={"customer": "anna@example.de"})
        assert page.json()["total"] == 1


async def test_an_auto_reply_is_kept_and_never_answered(
    start_service: Any, mail_sink: ThreadedSink
) -> None:
    settings = {**mail_sink.smtp_settings(), "mail_send_interval_s": 0.05}
    async with start_service("support", **settings) as support:
        out_of_office = customer_mail(
            Subject="Abwesenheitsnotiz: Ihre Anfrage",
            Message_ID="<ooo@mail.example.de>",
            Auto_Submitted="auto-replied",
        )
        await send_to(support, out_of_office)

        [ticket] = await annas_tickets(support)
        refused = await support.client.post(
            f"/tickets/{ticket['id']}/replies", json={"body": "Danke!", "internal": False}
        )
        assert refused.status_code == 409, refused.text
        note = await support.client.post(
            f"/tickets/{ticket['id']}/replies", json={"body": "Urlaub bis 3.1.", "internal": True}
        )
        assert note.status_code == 201
        ctx = context_of(support.app, SupportContext)
        assert await ctx.queries.queued_deliveries(10) == []
    assert mail_sink.messages == []  # nothing went out


async def test_a_relay_that_is_away_leaves_the_reply_queued_for_its_retry(
    start_service: Any, mail_sink: ThreadedSink
) -> None:
    port = mail_sink.port
    mail_sink.stop()  # nobody listens there now
    settings = {"smtp_port": port, "mail_send_interval_s": 0.05}
    async with start_service("support", **settings) as support:
        await send_to(support, customer_mail(Message_ID="<m1@mail.example.de>"))
        ctx = context_of(support.app, SupportContext)

        [ticket] = await annas_tickets(support)
        reply = await support.client.post(
            f"/tickets/{ticket['id']}/replies", json={"body": "Unterwegs.", "internal": False}
        )
        delivery_id = reply.json()["delivery_id"]

        async def tried() -> Any:
            delivery = await ctx.queries.delivery(delivery_id)
            return delivery if delivery is not None and delivery.attempts else None

        delivery = await eventually(tried, timeout=10)
        assert delivery.status == "queued"  # a temporary failure: tried again later
        assert delivery.not_before is not None and delivery.not_before > datetime.now(UTC)
        assert "could not reach the relay" in (delivery.last_error or "")
        assert delivery.claim is None


async def test_a_solved_ticket_s_rating_mail_one_click_and_the_figures(
    start_service: Any, mail_sink: ThreadedSink
) -> None:
    """Satisfaction (ADR 0044): solving mails a rating request over real SMTP; its link,
    opened without any login, records the score in one click, the form adds a comment,
    and the figures count it for the assignee and the channel."""
    settings = {**mail_sink.smtp_settings(), "mail_send_interval_s": 0.05}
    async with start_service("support", **settings) as support:
        await send_to(support, customer_mail(Message_ID="<r1@mail.example.de>"))
        [ticket] = await annas_tickets(support)
        ticket_id = ticket["id"]
        reply = await support.client.post(
            f"/tickets/{ticket_id}/replies", json={"body": "Ist unterwegs.", "internal": False}
        )
        assert reply.status_code == 201, reply.text
        solved = await support.client.patch(
            f"/tickets/{ticket_id}", json={"status": "solved", "assignee": "berta"}
        )
        assert solved.status_code == 200, solved.text

        [rating_mail] = await mail_sink.arrived(
            where=lambda m: str(m["Subject"]).startswith("Wie zufrieden"), timeout=15
        )
        assert rating_mail["Subject"] == f"Wie zufrieden waren Sie? [#{ticket_id}]"
        assert rating_mail["To"] == "Anna Muster <anna@example.de>"
        assert rating_mail["In-Reply-To"] is not None  # on the ticket's thread
        text = rating_mail.get_body(("plain",)).get_content()
        [link] = [w for w in text.split() if "/ratings/" in w and w.endswith("score=4")]
        path = "/" + link.split("/", 3)[3]  # the page of the support service itself

        anonymous = support.client.headers.pop("Authorization", None)  # no login
        try:
            page = await support.client.get(path)
            assert page.status_code == 200, page.text
            assert "zufrieden (4 von 5)" in page.text
            token = path.split("/")[2].split("?")[0]
            commented = await support.client.post(
                f"/ratings/{token}/comment", data={"comment": "Schnell und freundlich."}
            )
            assert commented.status_code == 200, commented.text
            forged = await support.client.get(f"/ratings/{token[:-3]}abc?score=1")
            assert forged.status_code == 403
            garbage = await support.client.get("/ratings/%00%ff<script>?score=1")
            assert garbage.status_code == 403 and "<script>" not in garbage.text
            off_scale = await support.client.get(f"/ratings/{token}?score=7")
            assert off_scale.status_code == 422  # problem+json naming query.score
            assert off_scale.json()["errors"][0]["loc"] == ["query", "score"]
        finally:
            if anonymous is not None:
                support.client.headers["Authorization"] = anonymous

        shown = (await support.client.get(f"/tickets/{ticket_id}")).json()
        assert shown["rating"]["score"] == 4
        assert shown["rating"]["comment"] == "Schnell und freundlich."
        assert shown["rating"]["agent"] == "berta"
        summary = (await support.client.get("/ratings/summary")).json()
        assert summary["overall"]["requested"] == 1 and summary["overall"]["rated"] == 1
        [berta] = summary["by_agent"]
        assert (berta["agent"], berta["average"], berta["satisfied_share"]) == ("berta", 4, 1)
        [email] = summary["by_channel"]
        assert (email["channel"], email["scores"]["4"]) == ("email", 1)
        listed = (await support.client.get("/ratings", params={"agent": "berta"})).json()
        assert [r["comment"] for r in listed["items"]] == ["Schnell und freundlich."]
        bad = await support.client.get(
            "/ratings/summary", params={"from": "2026-12-31", "to": "2026-12-01"}
        )
        assert bad.status_code == 422


async def test_an_english_customer_s_rating_mail_and_page_are_english(
    start_service: Any, mail_sink: ThreadedSink
) -> None:
    """ADR 0122: a customer whose mail says ``Content-Language: en-GB`` gets the rating
    request in English over real SMTP, and its link's page thanks them in English."""
    settings = {**mail_sink.smtp_settings(), "mail_send_interval_s": 0.05}
    async with start_service("support", **settings) as support:
        mail = EmailMessage()
        mail["From"] = "Jane Doe <jane@example.co.uk>"
        mail["To"] = "support@kontor.local"
        mail["Subject"] = "Where is my parcel?"
        mail["Message-ID"] = "<en1@mail.example.co.uk>"
        mail.set_content("Hello,\nmy parcel has not arrived yet.\nJane")
        mail["Content-Language"] = "en-GB"  # as Outlook sends it (after set_content)
        await send_to(support, mail)

        async def opened() -> list[dict[str, Any]]:
            page = await support.client.get("/tickets", params={"customer": "jane@example.co.uk"})
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        [ticket] = await eventually(opened, timeout=15)
        assert (ticket["language"], ticket["language_source"]) == ("en", "customer")
        reply = await support.client.post(
            f"/tickets/{ticket['id']}/replies",
            json={"body": "It is on its way.", "internal": False},
        )
        assert reply.status_code == 201, reply.text
        solved = await support.client.patch(f"/tickets/{ticket['id']}", json={"status": "solved"})
        assert solved.status_code == 200, solved.text

        [rating_mail] = await mail_sink.arrived(
            where=lambda m: (
                "jane@example.co.uk" in str(m["To"])
                and "[#" in str(m["Subject"])
                and "Re:" not in str(m["Subject"])
            ),
            timeout=15,
        )
        assert rating_mail["Subject"] == f"How satisfied were you? [#{ticket['id']}]"
        text = rating_mail.get_body(("plain",)).get_content()
        assert text.startswith("Hello Jane Doe,")
        assert "very satisfied" in text and "zufrieden" not in text
        html = rating_mail.get_body(("html",)).get_content()
        assert "How satisfied were you with our help?" in html
        [link] = [w for w in text.split() if "/ratings/" in w and w.endswith("score=4")]
        path = "/" + link.split("/", 3)[3]

        anonymous = support.client.headers.pop("Authorization", None)  # no login
        try:
            page = await support.client.get(path)
            assert page.status_code == 200, page.text
            assert '<html lang="en">' in page.text
            assert "Thank you! Your rating: satisfied (4 out of 5)." in page.text
            token = path.split("/")[2].split("?")[0]
            bare = await support.client.get(f"/ratings/{token}")
            assert "How satisfied were you with our help?" in bare.text
            commented = await support.client.post(
                f"/ratings/{token}/comment", data={"comment": "Quick and friendly."}
            )
            assert "Thank you for your words" in commented.text
            forged = await support.client.get(
                f"/ratings/{token[:-3]}abc?score=1", headers={"Accept-Language": "en-GB,en"}
            )
            assert forged.status_code == 403 and '<html lang="en">' in forged.text
        finally:
            if anonymous is not None:
                support.client.headers["Authorization"] = anonymous
