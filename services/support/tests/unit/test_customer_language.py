"""The customer's language (ADR 0122): which source a ticket believes (the agent over the
customer's mail or browser over the order's locale), what a mail's headers say, and the
English words of the rating mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from kontor_servicekit.domain_errors import Invalid
from kontor_support.channels.mail_in import parse_mail
from kontor_support.domain.rating_texts import rating_texts
from kontor_support.domain.ticket import Ticket

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def ticket() -> Ticket:
    return Ticket.open(id="T-2026-000001", subject="Delivery", channel="email", at=AT)


def test_the_customer_outweighs_the_order_and_the_agent_outweighs_both() -> None:
    t = ticket()
    assert t.language is None
    assert t.note_language("en", "order", AT)
    assert (t.language, t.language_source) == ("en", "order")
    assert t.note_language("de", "customer", AT)  # what they wrote in beats the shop's locale
    assert not t.note_language("en", "order", AT)  # a weaker source changes nothing
    assert t.note_language("en", "customer", AT)  # the newest of equal weight
    assert t.note_language("de", "agent", AT, actor="berta")
    assert not t.note_language("en", "customer", AT)  # the agent's choice holds
    assert (t.language, t.language_source) == ("de", "agent")
    entry = t.timeline[-1]
    assert (entry.actor, entry.kind, entry.detail["after"]) == ("berta", "language", "de")


def test_languages_support_does_not_speak_are_no_signal_except_from_an_agent() -> None:
    t = ticket()
    assert not t.note_language("fr", "customer", AT)
    assert not t.note_language(None, "order", AT)
    assert t.language is None and t.language_source is None
    with pytest.raises(Invalid):
        t.note_language("fr", "agent", AT)


def mail(**headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@example.co.uk>"
    message["To"] = "support@kontor.local"
    message["Subject"] = "Where is my parcel?"
    message.set_content("Hello, my parcel has not arrived.")  # drops Content-* set before
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()


def test_a_mail_s_language_from_content_language_then_accept_language() -> None:
    assert parse_mail(mail(Content_Language="en-GB"), received_at=AT).language == "en"
    assert parse_mail(mail(Accept_Language="en-US, de-DE"), received_at=AT).language == "en"
    both = mail(Content_Language="de-DE", Accept_Language="en-US")
    assert parse_mail(both, received_at=AT).language == "de"  # what it is in comes first
    assert parse_mail(mail(Content_Language="fr-FR"), received_at=AT).language is None
    assert parse_mail(mail(), received_at=AT).language is None


def test_the_english_texts() -> None:
    en = rating_texts("en")
    assert en.scores == {
        1: "very dissatisfied",
        2: "dissatisfied",
        3: "neither satisfied nor dissatisfied",
        4: "satisfied",
        5: "very satisfied",
    }
    assert en.until(datetime(2027, 1, 1, 9, tzinfo=UTC)) == "1 January 2027"
    assert rating_texts("de").until(datetime(2027, 1, 1, 9, tzinfo=UTC)) == "01.01.2027"
    assert rating_texts(None).language == "de" and rating_texts("fr").language == "de"
