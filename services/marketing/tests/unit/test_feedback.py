"""Bounces and complaints (ADR 0055): reading the relay's reports, and what they do to
the sends. A hard bounce or a complaint suppresses the address the reported mail went
to; a soft bounce, an auto-reply and a delivered notice do not; a relay refusing the
recipient for good at the door suppresses too; every later mail to it is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_marketing.application.feedback import lift_suppression, take_feedback
from kontor_marketing.application.mail import send_due_mails
from kontor_marketing.domain.feedback import (
    MAIL_ID_HEADER,
    read_feedback,
    verp_address,
    verp_mail_id,
)
from kontor_marketing.domain.mail import Mail, QueuedMail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.mail import MailDeliveryError, ReceivedMail
from kontor_servicekit.testing import bounce_report, complaint_report

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
BOUNCES = "bounces@shop.example"


class Recorder:
    def __init__(self, refuse: str | None = None) -> None:
        self.sent: list[Mail] = []
        self.refuse = refuse

    async def send(self, mail: Mail) -> None:
        if mail.to == self.refuse:
            raise MailDeliveryError(
                "every recipient refused", permanent=True, code=550, recipients_refused=True
            )
        self.sent.append(mail)


def test_a_report_says_which_mail_and_recipient_and_how_bad() -> None:
    [hard] = read_feedback(
        bounce_report(
            to=BOUNCES, recipient="Anna@Example.de", headers=f"{MAIL_ID_HEADER}: m-1\nTo: a\n"
        )
    )
    assert (hard.kind, hard.recipient, hard.status, hard.mail_id) == (
        "hard_bounce",
        "anna@example.de",
        "5.1.1",
        "m-1",
    )
    [soft] = read_feedback(bounce_report(to=BOUNCES, recipient="b@x.de", status="4.2.2"))
    assert soft.kind == "soft_bounce"  # failed for now (a full mailbox): no suppression
    [delayed] = read_feedback(
        bounce_report(to=BOUNCES, recipient="b@x.de", status="4.4.1", action="delayed")
    )
    assert delayed.kind == "soft_bounce"
    assert read_feedback(bounce_report(to=BOUNCES, recipient="b@x.de", action="delivered")) == []
    [complaint] = read_feedback(complaint_report(to=BOUNCES, recipient="carla@example.de"))
    assert (complaint.kind, complaint.recipient, complaint.status) == (
        "complaint",
        "carla@example.de",
        "abuse",
    )
    auto_reply = b"From: anna@example.de\r\nTo: bounces@shop.example\r\nSubject: weg\r\n\r\n-"
    assert read_feedback(auto_reply) == []


def test_the_envelope_sender_carries_the_mail_id() -> None:
    address = verp_address(BOUNCES, "5f0c-11")
    assert address == "bounces+5f0c-11@shop.example"
    assert verp_mail_id(address, BOUNCES) == "5f0c-11"
    assert verp_mail_id(BOUNCES, BOUNCES) is None
    assert verp_mail_id("bounces+x@other.example", BOUNCES) is None


async def queued(
    transactor: FakeTransactor[InMemoryMarketingUnitOfWork], *mails: QueuedMail
) -> None:
    async def work(uow: InMemoryMarketingUnitOfWork) -> None:
        for mail in mails:
            await uow.mails.add(mail)

    await transactor.run(work)


def mail(mail_id: str, to: str, minutes: int = 0) -> QueuedMail:
    return QueuedMail(
        id=mail_id,
        kind="confirmation",
        mail=Mail(to=to, subject="Bitte bestätigen", text="..."),
        created_at=AT + timedelta(minutes=minutes),
    )


async def test_a_hard_bounce_suppresses_the_mails_address_and_later_mails_are_skipped() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await queued(transactor, mail("m-1", "anna@example.de"))
    sender = Recorder()
    await send_due_mails(transactor, sender, clock=lambda: AT, limit=5)
    [sent] = sender.sent
    assert dict(sent.headers)[MAIL_ID_HEADER] == "m-1"

    # the relay rewrote the address (a forward): the mail id in the envelope decides
    report = ReceivedMail(
        mail_from="",
        rcpt_tos=(verp_address(BOUNCES, "m-1"),),
        data=bounce_report(to=BOUNCES, recipient="anna.forwarded@example.net"),
    )
    [suppression] = await take_feedback(
        transactor, report, bounce_address=BOUNCES, clock=lambda: AT
    )
    assert (suppression.email, suppression.reason) == ("anna@example.de", "hard_bounce")
    assert await take_feedback(transactor, report, bounce_address=BOUNCES, clock=lambda: AT) == []

    await queued(transactor, mail("m-2", "anna@example.de", minutes=1))
    later = await send_due_mails(
        transactor, sender, clock=lambda: AT + timedelta(minutes=2), limit=5
    )
    assert (later.sent, later.skipped) == (0, 1)
    skipped = await transactor.run(lambda uow: uow.mails.get("m-2"))
    assert skipped is not None and skipped.reason == "suppressed: hard_bounce"

    lifted = await lift_suppression(transactor, "anna@example.de")
    assert lifted.reason == "hard_bounce"
    with pytest.raises(NotFound):
        await lift_suppression(transactor, "anna@example.de")


async def test_a_soft_bounce_suppresses_nothing_and_a_complaint_does() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    soft = ReceivedMail(
        "", (BOUNCES,), bounce_report(to=BOUNCES, recipient="b@x.de", status="4.2.2")
    )
    assert await take_feedback(transactor, soft, bounce_address=BOUNCES, clock=lambda: AT) == []
    # a feedback loop's report comes to the plain address; the returned copy names the mail
    await queued(transactor, mail("m-7", "carla@example.de"))
    complaint = ReceivedMail(
        "",
        (BOUNCES,),
        complaint_report(
            to=BOUNCES,
            recipient="redacted@provider.example",
            original=f"To: carla@example.de\n{MAIL_ID_HEADER}: m-7\nSubject: -\n\n-\n",
        ),
    )
    [done] = await take_feedback(transactor, complaint, bounce_address=BOUNCES, clock=lambda: AT)
    assert (done.email, done.reason, done.mail_id) == ("carla@example.de", "complaint", "m-7")


async def test_a_relay_refusing_the_recipient_for_good_suppresses_it() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await queued(transactor, mail("m-1", "gone@example.de"))
    result = await send_due_mails(
        transactor, Recorder(refuse="gone@example.de"), clock=lambda: AT, limit=5
    )
    assert result.failed == 1
    suppression = await transactor.run(lambda uow: uow.suppressions.get("gone@example.de"))
    assert suppression is not None and suppression.status == "550 at RCPT"
