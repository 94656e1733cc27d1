"""The newsletter's use cases over the in-memory unit of work: a subscription queues one
confirmation mail whose link confirms (ConsentChanged granted), the unsubscribe link
withdraws (ConsentChanged not granted), and the mail sweeper sends at most its round's
share, never advertising to someone whose consent is gone when the mail leaves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from kontor_contracts.events.marketing import ConsentChanged
from kontor_marketing.application.consent import (
    ConsentLinks,
    Subscribe,
    confirm,
    confirm_from_mail,
    subscribe,
    unsubscribe,
)
from kontor_marketing.application.mail import send_due_mails
from kontor_marketing.application.privacy import MarketingPrivacy
from kontor_marketing.domain.campaign import Engagement
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.domain.mail import Mail, QueuedMail
from kontor_marketing.domain.results import Conversion
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.privacy.participant import Subject

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
LINKS = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=48))


class Clock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    def __init__(self, fail_for: str | None = None) -> None:
        self.sent: list[Mail] = []
        self.fail_for = fail_for

    async def send(self, mail: Mail) -> None:
        if mail.to == self.fail_for:
            raise ConnectionError("relay down")
        self.sent.append(mail)


def token_in(mail: Mail, kind: str) -> str:
    match = re.search(rf"/newsletter/{kind}/(\S+)", mail.text)
    assert match, mail.text
    return unquote(match.group(1))


async def subscribed(
    transactor: FakeTransactor[InMemoryMarketingUnitOfWork], clock: Clock, email: str
) -> Mail:
    await subscribe(
        transactor,
        Subscribe(email, ("news",), "de", "newsletter_form", "192.0.2.10"),
        links=LINKS,
        imprint="Kontor GmbH, Berlin",
        clock=clock,
    )
    sender = Recorder()
    await send_due_mails(transactor, sender, clock=clock, limit=10)
    [mail] = sender.sent
    return mail


async def test_double_opt_in_then_unsubscribe_announce_the_consent() -> None:
    transactor, clock = FakeTransactor(InMemoryMarketingUnitOfWork), Clock()
    mail = await subscribed(transactor, clock, "Anna@Example.de")
    assert mail.to == "anna@example.de" and "Kontor GmbH, Berlin" in mail.text
    assert transactor.db.events() == []  # pending is no consent

    outcome = await confirm(
        transactor, token_in(mail, "confirmations"), ip=None, links=LINKS, clock=clock
    )
    assert outcome.topics == ("news",)
    [granted] = transactor.db.events(ConsentChanged)
    assert (granted.granted, granted.topics, granted.email) == (True, ["news"], "anna@example.de")
    assert granted.double_opt_in_at == AT

    unsubscribe_token = LINKS.unsubscribe_url("anna@example.de").rsplit("/", 1)[1]
    await unsubscribe(
        transactor,
        unquote(unsubscribe_token),
        source="list_unsubscribe_one_click",
        ip=None,
        links=LINKS,
        clock=clock,
    )
    withdrawn = transactor.db.events(ConsentChanged)[-1]
    assert (withdrawn.granted, withdrawn.topics) == (False, [])


async def test_the_first_opt_in_queues_one_welcome_mail_with_its_unsubscribe() -> None:
    transactor, clock = FakeTransactor(InMemoryMarketingUnitOfWork), Clock()
    mail = await subscribed(transactor, clock, "anna@example.de")
    token = token_in(mail, "confirmations")
    imprint = "Kontor GmbH, Berlin"
    await confirm(transactor, token, ip=None, links=LINKS, clock=clock, imprint=imprint)
    await confirm(transactor, token, ip=None, links=LINKS, clock=clock, imprint=imprint)
    sender = Recorder()
    await send_due_mails(transactor, sender, clock=clock, limit=10)
    [welcome] = sender.sent  # the second click confirms nothing new: no second welcome
    assert welcome.subject == "Willkommen bei unserem Newsletter"
    assert "Neuigkeiten" in welcome.text and imprint in welcome.text
    assert (
        welcome.unsubscribe_url is not None
        and "/newsletter/unsubscribe/" in welcome.unsubscribe_url
    )

    # a later opt-in to a further topic is no first one
    await subscribe(
        transactor,
        Subscribe("anna@example.de", ("offers",), "de", "checkout", None),
        links=LINKS,
        imprint=imprint,
        clock=clock,
    )
    await send_due_mails(transactor, sender, clock=clock, limit=10)
    second = token_in(sender.sent[-1], "confirmations")
    await confirm(transactor, second, ip=None, links=LINKS, clock=clock, imprint=imprint)
    assert (await send_due_mails(transactor, sender, clock=clock, limit=10)).sent == 0


async def test_an_expired_or_altered_link_confirms_nothing() -> None:
    transactor, clock = FakeTransactor(InMemoryMarketingUnitOfWork), Clock()
    mail = await subscribed(transactor, clock, "anna@example.de")
    token = token_in(mail, "confirmations")
    altered = await confirm_from_mail(
        transactor, token[:-2] + "xx", ip=None, links=LINKS, clock=clock
    )
    assert (altered.outcome, altered.status) == (None, 400)
    clock.now = AT + timedelta(hours=49)
    late = await confirm_from_mail(transactor, token, ip=None, links=LINKS, clock=clock)
    assert (late.outcome, late.status) == (None, 410)
    assert transactor.db.events() == []


async def test_the_sweeper_skips_advertising_without_consent_and_retries_failures() -> None:
    transactor, clock = FakeTransactor(InMemoryMarketingUnitOfWork), Clock()
    mail = await subscribed(transactor, clock, "anna@example.de")
    await confirm(transactor, token_in(mail, "confirmations"), ip=None, links=LINKS, clock=clock)

    async def queue(uow: InMemoryMarketingUnitOfWork) -> None:
        for n, to in enumerate(["anna@example.de", "bert@example.de", "anna@example.de"]):
            await uow.mails.add(
                QueuedMail(
                    id=f"c-{n}",
                    kind="campaign",
                    mail=Mail(to=to, subject="Winter", text="..."),
                    created_at=AT + timedelta(seconds=n),
                    topic="news" if n < 2 else "offers",
                )
            )

    await transactor.run(queue)
    sender = Recorder()
    first = await send_due_mails(transactor, sender, clock=clock, limit=2)
    assert (first.sent, first.skipped) == (1, 1)  # bert never consented
    second = await send_due_mails(transactor, sender, clock=clock, limit=2)
    assert (second.sent, second.skipped) == (0, 1)  # anna has news, not offers
    assert [m.to for m in sender.sent] == ["anna@example.de"]

    async def one_more(uow: InMemoryMarketingUnitOfWork) -> None:
        await uow.mails.add(
            QueuedMail(id="t-1", kind="confirmation", mail=Mail("x@y.de", "s", "t"), created_at=AT)
        )

    await transactor.run(one_more)
    failed = await send_due_mails(transactor, Recorder(fail_for="x@y.de"), clock=clock, limit=5)
    assert failed.failed == 1
    assert (await send_due_mails(transactor, sender, clock=clock, limit=5)).sent == 0  # pausing
    clock.now = AT + timedelta(minutes=1)
    assert (await send_due_mails(transactor, sender, clock=clock, limit=5)).sent == 1


async def test_export_shows_the_evidence_and_erasure_deletes_consent_and_mails() -> None:
    transactor, clock = FakeTransactor(InMemoryMarketingUnitOfWork), Clock()
    await subscribed(transactor, clock, "anna@example.de")
    privacy, subject = MarketingPrivacy(), Subject("s-1", "Anna@example.de")
    part = await transactor.run(lambda uow: privacy.export(subject, uow))
    assert part["consent"]["evidence"][0]["ip"] == "192.0.2.0"
    # the confirmation mail she was sent, without its text or links (Art. 15: what was
    # sent to her, when, in which state)
    [mail] = part["mails"]
    assert (mail["kind"], mail["status"], mail["topic"]) == ("confirmation", "sent", None)
    assert "bestätigen" in mail["subject"] and "text" not in mail
    assert part["engagements"] == part["attributed_orders"] == []

    async def engaged(uow: Any) -> None:
        await uow.engagements.add(Engagement("c-1", "anna@example.de", "click", AT, url="/x"))
        await uow.engagements.add(Engagement("c-1", "anna@example.de", "unsubscribe", AT))
        await uow.engagements.add(Engagement("c-1", "bert@example.de", "open", AT))
        await uow.conversions.save(
            Conversion("o-1", "c-1", "anna@example.de", Decimal("47.58"), AT, "click")
        )

    await transactor.run(engaged)
    part = await transactor.run(lambda uow: privacy.export(subject, uow))
    assert [(e["kind"], e["campaign_id"], e["url"]) for e in part["engagements"]] == [
        ("click", "c-1", "/x"),
        ("unsubscribe", "c-1", None),
    ]
    assert part["attributed_orders"] == [
        {
            "order_id": "o-1",
            "campaign_id": "c-1",
            "by": "click",
            "gross": "47.58",
            "at": AT.isoformat(),
        }
    ]
    summary = await transactor.run(lambda uow: privacy.erase(subject, uow, AT))
    assert [(i.what, i.count) for i in summary.deleted] == [
        ("consents", 1),
        ("mails", 1),
        ("profiles", 0),
        ("engagements", 3),  # two of hers and her attributed order; not bert's
        ("suppressions", 0),
        ("back_in_stock_requests", 0),
    ]
    assert (await transactor.run(lambda uow: privacy.export(subject, uow)))["consent"] is None
