"""The MIME parser over real-world-shaped mails (``mail_samples/``): what an agent sees
of each, what is attached, what is recognised as automated, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from kontor_support.application.inbound import InboundMessage
from kontor_support.channels.mail_in import (
    MailLimits,
    MalformedMail,
    automated_reason,
    html_to_text,
    parse_mail,
    sanitise_html,
)

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "mail_samples"
AT = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def parsed(name: str, envelope_from: str | None = None) -> InboundMessage:
    raw = (SAMPLES / name).read_bytes()
    return parse_mail(raw, received_at=AT, envelope_from=envelope_from)


def test_a_plain_quoted_printable_mail() -> None:
    mail = parsed("plain.eml")
    assert mail.channel == "email"
    assert mail.received_at == AT
    assert mail.from_email == "Anna.Schmidt@Example.de"
    assert mail.from_name == "Anna Schmidt"
    assert mail.subject == "Lieferung B-2026-000123 noch nicht da"
    assert mail.message_id == "<20261202081401.GA4711@mx.example.de>"
    assert mail.in_reply_to is None and mail.references == ()
    # the soft line break of quoted-printable is joined, UTF-8 umlauts decoded
    assert "Können Sie bitte nachsehen, wo sie gerade ist?" in mail.body_text
    assert mail.body_text.endswith("Viele Grüße\nAnna Schmidt")
    assert "\r" not in mail.body_text
    assert mail.body_html is None
    assert mail.attachments == ()
    assert mail.automated is False


def test_an_html_only_mail_is_sanitised_and_its_text_derived() -> None:
    mail = parsed("html_only.eml")
    assert mail.from_name == "Jens Bauer" and mail.from_email == "jens@example.org"
    html = mail.body_html
    assert html is not None
    for hostile in ("<script", "alert(", "onload", "onclick", "javascript:", "<style", "tracker."):
        assert hostile not in html, hostile
    assert '<a href="https://example.org/photo" rel="noopener noreferrer">Foto</a>' in html
    assert mail.body_text == (
        "Hallo,\n\nder Wasserkocher aus Bestellung B-2026-000777 ist defekt.\n\n"
        "- Deckel klemmt\n- Kabel wird heiß\n\nFoto klick"
    )


def test_alternative_bodies_with_attachments_typed_by_content() -> None:
    mail = parsed("alternative_with_attachments.eml")
    assert mail.body_text == "Anbei die Rechnung und ein Foto."
    assert mail.body_html == "<div>Anbei die <b>Rechnung</b> und ein Foto.</div>"
    assert mail.message_id == "<a1b2c3@mail.example.com>"
    assert mail.in_reply_to == "<ticket-42-reply-1@kontor.test>"
    # a folded References header is every id in order
    assert mail.references == ("<first@mail.example.com>", "<ticket-42-reply-1@kontor.test>")
    assert mail.subject == "Re: [Ticket#T-2026-000042] Rechnung RE-2026-000318"
    pdf, picture = mail.attachments
    # declared application/octet-stream, is a PDF
    assert (pdf.filename, pdf.content_type) == ("Rechnung.pdf", "application/pdf")
    assert pdf.content.startswith(b"%PDF-1.4")
    # declared application/pdf with a path in its name, is a PNG; only the name is kept
    assert (picture.filename, picture.content_type) == ("foto.pdf", "image/png")
    assert picture.content.startswith(b"\x89PNG")


def test_base64_latin_1_body_and_encoded_words() -> None:
    mail = parsed("latin1_base64.eml")
    assert mail.from_name == "Jürgen Müller"
    assert mail.subject == "Stornierung Größe"
    assert "Die Größe passt nicht." in mail.body_text
    assert mail.body_text.endswith("Mit freundlichen Grüßen\nJürgen Müller")


def test_rfc_2047_subject_in_two_encodings_and_an_rfc_2231_filename() -> None:
    mail = parsed("rfc2047_subject.eml")
    assert mail.from_name == "Özlem Çelik"
    assert mail.subject == "Rücksendung für Auftrag B-2026-000999 \N{EN DASH} Frage"
    assert mail.body_text == "Wie schicke ich das zurück?"
    (attachment,) = mail.attachments
    assert attachment.filename == "Rücksendeschein Ü.png"
    assert attachment.content_type == "image/png"


def test_an_out_of_office_reply_is_automated_and_still_threads() -> None:
    mail = parsed("auto_reply.eml")
    assert mail.automated is True
    assert mail.in_reply_to == "<ticket-7-reply-1@kontor.test>"
    assert mail.body_text == "Ich bin bis zum 7. Dezember nicht im Büro."


def test_a_delivery_status_bounce_is_automated_with_its_report_and_returned_mail() -> None:
    mail = parsed("dsn_bounce.eml", envelope_from="")
    assert mail.automated is True
    assert mail.from_email == "MAILER-DAEMON@mx.example.com"
    assert "550 5.1.1 User unknown" in mail.body_text
    report, returned = mail.attachments
    assert report.filename == "delivery-status.txt" and report.content_type == "text/plain"
    assert b"Final-Recipient: rfc822; nobody@example.com" in report.content
    assert returned.filename == "attachment-2.eml"
    assert returned.content_type == "message/rfc822"
    assert b"Message-ID: <ticket-3-reply-1@kontor.test>" in returned.content


def test_a_newsletter_is_automated() -> None:
    assert parsed("newsletter_bulk.eml").automated is True


def test_broken_charsets_and_raw_8bit_headers_do_not_crash() -> None:
    mail = parsed("broken_charset.eml")
    assert mail.from_email == "kunde@example.com"
    assert mail.from_name == "Kunde ü"  # raw Latin-1 byte in the header
    assert mail.subject is not None and "kaputt ä" in mail.subject
    # an unknown charset: UTF-8 does not fit, Windows-1252 maps every byte
    assert mail.body_text == "Der Preis ist 10 ä zu hoch € und noch mehr."
    assert mail.body_html is not None  # broken base64 in an unclosed part: kept, no crash
    for text in (mail.body_text, mail.body_html, mail.subject, mail.from_name):
        assert text is not None
        text.encode("utf-8")  # no lone surrogates left: storable as BSON


def test_garbage_is_refused() -> None:
    with pytest.raises(MalformedMail):
        parsed("garbage.eml")
    with pytest.raises(MalformedMail):
        parse_mail(b"", received_at=AT)
    with pytest.raises(MalformedMail):
        parse_mail(b"From: nobody\r\n\r\nno address", received_at=AT)


def mail(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "kunde@example.com")
    msg["To"] = "support@kontor.test"
    msg["Subject"] = "Frage"
    msg["Message-ID"] = make_msgid()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hallo")
    return msg


@pytest.mark.parametrize(
    ("headers", "envelope_from", "reason"),
    [
        ({}, "kunde@example.com", None),
        ({"Auto_Submitted": "no"}, None, None),
        ({"Precedence": "first-class"}, None, None),
        ({"Auto_Submitted": "auto-generated"}, None, "Auto-Submitted: auto-generated"),
        (
            {"Auto_Submitted": "Auto-Replied; owner=x"},
            None,
            "Auto-Submitted: Auto-Replied; owner=x",
        ),
        ({"X_Autoreply": "yes"}, None, "X-Autoreply"),
        ({"X_Autorespond": "Abwesend"}, None, "X-Autorespond"),
        ({"Precedence": "bulk"}, None, "Precedence: bulk"),
        ({"Precedence": "auto_reply"}, None, "Precedence: auto_reply"),
        ({"List_Id": "<kunden.lists.example>"}, None, "List-Id"),
        ({"X_Failed_Recipients": "a@example.com"}, None, "X-Failed-Recipients"),
        ({}, "", "null return path"),
        ({}, "<>", "null return path"),
        ({"Return_Path": "<>"}, None, "null return path"),
        ({"From": "MAILER-DAEMON@mx.example.com"}, None, "sender MAILER-DAEMON@mx.example.com"),
        ({"From": "postmaster@example.com"}, None, "sender postmaster@example.com"),
    ],
)
def test_automated_signals(
    headers: dict[str, str], envelope_from: str | None, reason: str | None
) -> None:
    assert automated_reason(mail(**headers), envelope_from) == reason


def test_a_read_receipt_report_is_automated() -> None:
    msg = mail()
    msg.make_mixed()
    msg.replace_header("Content-Type", 'multipart/report; report-type="disposition-notification"')
    assert automated_reason(msg) == "multipart/report; report-type=disposition-notification"


def test_attachments_over_the_limits_are_dropped_and_said_so() -> None:
    msg = mail()
    for n in range(3):
        msg.add_attachment(bytes([n, 0xFF]) * 1000, maintype="application", subtype="octet-stream",
                           filename=f"file{n}.bin")  # fmt: skip
    msg.add_attachment(b"x" * 5000, maintype="text", subtype="plain", filename="big.txt")
    limits = MailLimits(max_attachments=2, max_attachment_bytes=4000)
    parsed_mail = parse_mail(msg.as_bytes(), received_at=AT, limits=limits)
    assert [a.filename for a in parsed_mail.attachments] == ["file0.bin", "file1.bin"]
    assert [a.content_type for a in parsed_mail.attachments] == ["application/octet-stream"] * 2
    assert parsed_mail.body_text == (
        "Hallo\n\n"
        '[attachment "file2.bin": more than 2 attachments: not kept]\n'
        '[attachment "big.txt": more than 2 attachments: not kept]'
    )
    total = MailLimits(
        max_attachments=10, max_attachment_bytes=4000, max_attachments_total_bytes=5000
    )
    parsed_mail = parse_mail(msg.as_bytes(), received_at=AT, limits=total)
    assert [a.filename for a in parsed_mail.attachments] == ["file0.bin", "file1.bin"]
    assert '"file2.bin" (1 KB): the attachments together exceed' in parsed_mail.body_text
    assert '"big.txt" (4 KB): larger than 3 KB' in parsed_mail.body_text


def test_a_text_part_beside_the_body_is_text_not_a_file() -> None:
    msg = mail()
    msg.make_mixed()
    footer = EmailMessage()
    footer.set_content("-- \nKundenliste")
    msg.attach(footer)
    assert parse_mail(msg.as_bytes(), received_at=AT).body_text == "Hallo\n\n--\nKundenliste"


def test_sanitising_keeps_inline_images_and_drops_remote_ones() -> None:
    html = '<p><img src="cid:logo@x" alt="Logo"><img src="http://t.example/p.gif" alt="p"></p>'
    assert sanitise_html(html) == '<p><img src="cid:logo@x" alt="Logo"><img alt="p"></p>'


def test_html_to_text_leaves_out_what_is_not_shown() -> None:
    html = (
        "<html><head><title>T</title></head><body><p>A&amp;B</p><br>C"
        "<table><tr><td>1</td><td>2</td></tr></table></body></html>"
    )
    assert html_to_text(html) == "A&B\n\nC\n\n1\n\n2"
