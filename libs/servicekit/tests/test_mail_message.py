"""Building outgoing mail: threading headers, one-click unsubscribe, no header injection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kontor_servicekit.mail import MailAttachment, OutgoingMail, build_message
from kontor_servicekit.mail.receiver import looks_like_mail

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
SHOP = "Kontor Support <support@shop.example>"


def test_a_reply_carries_date_message_id_and_the_thread_it_answers() -> None:
    mail = OutgoingMail(
        to=["Anna Muster <anna@example.de>"],
        subject="Re: Wo bleibt meine Bestellung? [#T-000042]",
        text="Guten Tag Frau Muster,\nIhre Sendung ist unterwegs.",
        in_reply_to="<c2@mail.example.de>",
        references=["<c1@mail.example.de>"],
    )
    message = build_message(mail, sender=SHOP, now=NOW)
    assert message["From"] == SHOP
    assert message["To"] == "Anna Muster <anna@example.de>"
    assert message["Date"] == "Wed, 02 Dec 2026 14:00:00 +0000"
    assert str(message["Message-ID"]).endswith("@shop.example>")
    assert message["In-Reply-To"] == "<c2@mail.example.de>"
    # the answered message is appended to References when the caller left it out
    assert message["References"] == "<c1@mail.example.de> <c2@mail.example.de>"
    assert message["List-Unsubscribe"] is None
    assert message["Precedence"] is None
    assert "Ihre Sendung ist unterwegs." in message.get_body(("plain",)).get_content()
    assert looks_like_mail(message.as_bytes())


def test_a_given_message_id_is_kept_and_an_html_alternative_and_attachment_added() -> None:
    mail = OutgoingMail(
        to=["anna@example.de"],
        subject="Rechnung",
        text="Anbei.",
        html="<p>Anbei.</p>",
        message_id="<t-42.1@support.kontor.local>",
        auto_submitted="auto-generated",
        attachments=[MailAttachment("R-2026-1.pdf", "application/pdf", b"%PDF-1.7")],
    )
    message = build_message(mail, sender=SHOP, now=NOW)
    assert message["Message-ID"] == "<t-42.1@support.kontor.local>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("html",)).get_content().strip() == "<p>Anbei.</p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "R-2026-1.pdf"
    assert attachment.get_content() == b"%PDF-1.7"


def test_bulk_mail_has_rfc_8058_one_click_unsubscribe() -> None:
    mail = OutgoingMail(
        to=["anna@example.de"],
        subject="Neu im Shop",
        text="...",
        bulk=True,
        list_unsubscribe="https://shop.example/unsubscribe?t=abc",
        list_unsubscribe_mailto="mailto:unsubscribe@shop.example?subject=abc",
    )
    message = build_message(mail, sender=SHOP, now=NOW)
    assert message["List-Unsubscribe"] == (
        "<https://shop.example/unsubscribe?t=abc>, <mailto:unsubscribe@shop.example?subject=abc>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Precedence"] == "bulk"


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"to": []}, "at least one recipient"),
        ({"to": ["not an address"]}, "not an e-mail address"),
        ({"subject": "Hi\r\nBcc: victim@example.com"}, "line breaks"),
        ({"in_reply_to": "c2@mail.example.de"}, "not a Message-ID"),
        ({"headers": [("X-Note", "a\nb")]}, "line breaks"),
        ({"bulk": True}, "needs a one-click"),
        ({"bulk": True, "list_unsubscribe": "http://shop.example/u"}, "must be https"),
        ({"list_unsubscribe": "https://shop.example/u"}, "bulk mail only"),
    ],
)
def test_what_cannot_be_sent_is_refused_when_built(
    changes: dict[str, object], complaint: str
) -> None:
    values: dict[str, object] = {"to": ["anna@example.de"], "subject": "s", "text": "t"}
    values.update(changes)
    with pytest.raises(ValueError, match=complaint):
        OutgoingMail(**values)  # type: ignore[arg-type]


def test_a_naive_time_and_a_bad_sender_are_refused() -> None:
    mail = OutgoingMail(to=["anna@example.de"], subject="s", text="t")
    with pytest.raises(ValueError, match="tz-aware"):
        build_message(mail, sender=SHOP, now=datetime(2026, 12, 2))  # noqa: DTZ001
    with pytest.raises(ValueError, match="not an e-mail address"):
        build_message(mail, sender="nobody", now=NOW)


@pytest.mark.parametrize(
    ("data", "is_mail"),
    [
        (b"From: a@b.de\r\nSubject: x\r\n\r\nbody", True),
        (b"Subject: x\r\n\r\nbody", False),
        (b"just some text\r\nwithout headers", False),
        (b" folded: start\r\nFrom: a@b.de\r\n\r\n", False),
        (b"", False),
    ],
)
def test_a_message_without_a_header_section_with_from_is_not_mail(
    data: bytes, is_mail: bool
) -> None:
    assert looks_like_mail(data) is is_mail


def test_a_refused_address_is_not_repeated_in_the_error() -> None:
    # the error reaches logs and dead letters; a malformed address is still a person's
    with pytest.raises(ValueError, match="not an e-mail address") as refused:
        OutgoingMail(to=["Anna Muster anna.muster@"], subject="s", text="t")
    assert "anna" not in str(refused.value).lower()
