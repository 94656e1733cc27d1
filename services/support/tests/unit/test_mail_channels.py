"""The e-mail adapters' pure parts: which recipients the receiver takes, and the mail
a queued delivery becomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kontor_servicekit.mail import MailAttachment
from kontor_support.channels.mail_out import outgoing_mail
from kontor_support.channels.mail_smtp import accepting
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import Attachment

pytestmark = pytest.mark.unit


def test_an_empty_accept_setting_takes_any_recipient() -> None:
    assert accepting("") is None
    assert accepting(" , ") is None


def test_accepted_addresses_and_domains_case_insensitive() -> None:
    accepts = accepting("support@shop.de, @service.shop.de")
    assert accepts is not None
    assert accepts("Support@Shop.DE")
    assert accepts("anyone@service.shop.de")
    assert not accepts("info@shop.de")
    assert not accepts("support@shop.de.evil.example")


def a_delivery(**changes: object) -> Delivery:
    values: dict[str, object] = dict(
        id="d-1",
        ticket_id="T-2026-000001",
        ticket_message_id="m-1",
        channel="email",
        subject="Re: Paket [#T-2026-000001]",
        body_text="Unterwegs.",
        created_at=datetime(2026, 12, 2, tzinfo=UTC),
        to_email="anna@example.de",
        to_name="Anna Muster",
        message_id="<r1@support.kontor.local>",
        in_reply_to="<m1@example.de>",
        references=("<m0@example.de>", "<m1@example.de>"),
    )
    return Delivery(**{**values, **changes})  # type: ignore[arg-type]


def test_a_delivery_becomes_a_threaded_mail() -> None:
    delivery = a_delivery()
    mail = outgoing_mail(delivery)
    assert list(mail.to) == ["Anna Muster <anna@example.de>"]
    assert mail.message_id == "<r1@support.kontor.local>"
    assert mail.in_reply_to == "<m1@example.de>"
    assert list(mail.references) == ["<m0@example.de>", "<m1@example.de>"]
    with pytest.raises(ValueError, match="no address"):
        outgoing_mail(Delivery(**{**delivery.__dict__, "to_email": None}))


def test_a_delivery_s_files_are_attached() -> None:
    delivery = a_delivery(attachments=(Attachment("b-1", "etikett.pdf", "application/pdf", 8),))
    assert outgoing_mail(delivery).attachments == ()  # without the bytes: none
    file = MailAttachment("etikett.pdf", "application/pdf", b"%PDF-1.4")
    assert list(outgoing_mail(delivery, [file]).attachments) == [file]
