"""Mail over real SMTP on loopback: the kit's sender to the sink and to the receiver.

The receiver runs on the test's event loop, as it runs on a service's; the sink (the
``mail_sink`` fixture) in a thread of its own. Oversized and malformed mail is
refused with the right status and the receiver keeps serving afterwards.
"""

from __future__ import annotations

import asyncio
import smtplib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import pytest
from kontor_servicekit.mail import (
    MailDeliveryError,
    MailRejected,
    OutgoingMail,
    ReceivedMail,
    SmtpConfig,
    SmtpReceiver,
    SmtpSender,
    smtp_config,
)
from kontor_servicekit.mail.sink import MailSink, ThreadedSink, parse
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.testing import holding_relay

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def reply(**changes: object) -> OutgoingMail:
    values: dict[str, object] = {
        "to": ["Anna Muster <anna@example.de>"],
        "subject": "Re: Lieferung [#T-000042]",
        "text": "Ihre Sendung ist unterwegs. Grüße aus Köln",
        "in_reply_to": "<c1@mail.example.de>",
    }
    values.update(changes)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def sender_to(port: int) -> SmtpSender:
    config = SmtpConfig(port=port, mail_from="Kontor Support <support@shop.example>")
    return SmtpSender(config, clock=lambda: NOW)


async def test_the_sender_hands_a_reply_to_the_sink_with_its_threading_headers(
    mail_sink: ThreadedSink,
) -> None:
    sent = await sender_to(mail_sink.port).send(reply())
    [message] = await mail_sink.arrived(1)
    [envelope] = mail_sink.messages
    assert envelope.mail_from == "support@shop.example"
    assert envelope.rcpt_tos == ("anna@example.de",)
    assert message["Message-ID"] == sent.message_id
    assert message["In-Reply-To"] == "<c1@mail.example.de>"
    assert message["References"] == "<c1@mail.example.de>"
    assert "Grüße aus Köln" in message.get_body(("plain",)).get_content()
    assert sent.response.startswith("OK")


async def test_mail_goes_to_the_receiver_on_the_running_loop_and_its_handler_sees_it() -> None:
    got: list[ReceivedMail] = []
    loop = asyncio.get_running_loop()

    async def handler(mail: ReceivedMail) -> None:
        assert asyncio.get_running_loop() is loop  # the service's loop, not a thread's
        got.append(mail)

    receiver = SmtpReceiver(handler, accepts=lambda rcpt: rcpt.endswith("@shop.example"))
    await receiver.start()
    try:
        await sender_to(receiver.port).send(reply(to=["support@shop.example"]))
        with pytest.raises(MailDeliveryError) as refused:
            await sender_to(receiver.port).send(reply(to=["someone@elsewhere.example"]))
    finally:
        await receiver.stop()
    assert refused.value.permanent and refused.value.code == 550
    [mail] = got
    assert mail.rcpt_tos == ("support@shop.example",)
    assert parse(mail)["Subject"] == "Re: Lieferung [#T-000042]"
    assert receiver.received == 1


async def test_oversized_and_malformed_mail_is_refused_and_the_receiver_keeps_serving() -> None:
    got: list[ReceivedMail] = []

    async def handler(mail: ReceivedMail) -> None:
        if b"X-Spam: yes" in mail.data:
            raise MailRejected(554, "5.7.1 refused as spam")
        if b"X-Break: yes" in mail.data:
            raise RuntimeError("database away")
        got.append(mail)

    receiver = SmtpReceiver(handler, max_bytes=4096)
    await receiver.start()
    try:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=receiver.port, start_tls=False)
        async with client:
            await client.ehlo()
            sizes = client.esmtp_extensions.get("size")
            assert sizes == "4096"  # announced, so a client can give up early
            too_big = b"From: a@example.de\r\nSubject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 120
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as big:  # at MAIL FROM SIZE=
                await client.sendmail("a@example.de", ["s@shop.example"], too_big)
            assert big.value.code == 552
            # a client that does not say SIZE= is stopped at the end of DATA
            await client.mail("a@example.de")
            await client.rcpt("s@shop.example")
            with pytest.raises(aiosmtplib.SMTPDataError) as big_data:
                await client.data(too_big)
            assert big_data.value.code == 552
            with pytest.raises(aiosmtplib.SMTPDataError) as garbage:
                await client.sendmail("a@example.de", ["s@shop.example"], b"\x00\xffno mail")
            assert garbage.value.code == 550
            spam = b"From: a@example.de\r\nX-Spam: yes\r\n\r\nbuy"
            with pytest.raises(aiosmtplib.SMTPDataError) as rejected:
                await client.sendmail("a@example.de", ["s@shop.example"], spam)
            assert rejected.value.code == 554
            broken = b"From: a@example.de\r\nX-Break: yes\r\n\r\nhi"
            with pytest.raises(aiosmtplib.SMTPDataError) as later:
                await client.sendmail("a@example.de", ["s@shop.example"], broken)
            assert later.value.code == 451  # the client's server tries again later
            response = await client.execute_command(b"NONSENSE")
            assert response.code == 500
        # a new session after all that still delivers
        await sender_to(receiver.port).send(reply(to=["support@shop.example"]))
    finally:
        await receiver.stop()
    assert len(got) == 1
    assert receiver.refused == 2  # malformed, spam (the size limit is aiosmtpd's own)


async def test_the_sender_tells_a_temporary_from_a_permanent_failure() -> None:
    async def handler(mail: ReceivedMail) -> None:
        if b"permanent" in mail.data:
            raise MailRejected(550, "5.1.1 mailbox unknown")
        raise MailRejected(452, "4.2.2 mailbox full, later")

    receiver = SmtpReceiver(handler)
    await receiver.start()
    try:
        with pytest.raises(MailDeliveryError) as permanent:
            await sender_to(receiver.port).send(reply(text="permanent"))
        with pytest.raises(MailDeliveryError) as temporary:
            await sender_to(receiver.port).send(reply(text="later"))
        port = receiver.port
    finally:
        await receiver.stop()
    assert (permanent.value.permanent, permanent.value.code) == (True, 550)
    assert (temporary.value.permanent, temporary.value.code) == (False, 452)
    with pytest.raises(MailDeliveryError) as unreachable:  # nobody listens there any more
        await sender_to(port).send(reply())
    assert unreachable.value.permanent is False


def test_the_kit_settings_name_the_relay() -> None:
    settings = ServiceSettings(smtp_host="relay.example", smtp_port=587, smtp_security="starttls")
    config = smtp_config(settings)
    assert (config.host, config.port, config.security) == ("relay.example", 587, "starttls")
    assert ServiceSettings().smtp_security == "none"  # loopback on one machine


async def test_the_sink_writes_one_eml_file_per_message(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        await sender_to(sink.port).send(reply())
        await sender_to(sink.port).send(reply(subject="Zweite"))
    finally:
        await sink.stop()
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert (files[0].stat().st_mode & 0o777) == 0o600
    assert b"Subject: Zweite" in files[1].read_bytes()


def test_the_sink_command_serves_until_sigterm(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tmp_path / "mail"
    argv = [sys.executable, "-m", "kontor_servicekit.mail", "sink", "--dir", str(directory)]
    process = subprocess.Popen([*argv, "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "mail sink on 127.0.0.1" in process.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("a@example.de", ["b@example.de"], b"From: a@example.de\r\n\r\nhi")
        assert len(list(directory.glob("*.eml"))) == 1
    finally:
        process.terminate()
        assert process.wait(10) == 0


async def test_a_send_cancelled_while_the_relay_holds_the_data_ends_at_once() -> None:
    """A stopping service cancels a send under way: the sender closes the connection
    instead of waiting ``timeout_s`` for the answer to a QUIT the relay will not give."""
    async with holding_relay() as relay:
        config = SmtpConfig(port=relay.port, timeout_s=30.0)
        sending = asyncio.create_task(SmtpSender(config, clock=lambda: NOW).send(reply()))
        await asyncio.wait_for(relay.holding.wait(), 10)
        began = asyncio.get_running_loop().time()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(sending, 10)
        assert asyncio.get_running_loop().time() - began < 1.0
