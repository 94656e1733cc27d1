"""Quiet hours for every advertising mail, flows included (ADR 0119): a mail that falls
due inside them waits until they end, in Berlin wall time on DST change days too; the
double opt-in confirmation is exempt. On a controlled clock, over the in-memory unit of
work and the real use cases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from kontor_contracts.events.orders import CartAbandoned, CartLine
from kontor_marketing.application.consent import ConsentLinks, Subscribe, confirm, subscribe
from kontor_marketing.application.flows import Flow
from kontor_marketing.application.mail import send_due_mails
from kontor_marketing.application.profiles import on_cart_abandoned
from kontor_marketing.domain.campaign import QuietHours
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.domain.mail import Mail, QueuedMail, flow_mail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.clock import BERLIN, FakeClock
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

QUIET = QuietHours(time(21), time(8), BERLIN)
LINKS = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=48))


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


def a_flow_mail(due: datetime) -> QueuedMail:
    mail = Mail(to="anna@example.de", subject="Ihr Warenkorb wartet noch", text="-")
    return flow_mail(
        mail, mail_id="m-1", flow="abandoned_cart", topic="offers", now=due, not_before=due
    )


def test_a_flow_mail_due_at_half_past_eleven_waits_for_eight_in_the_morning() -> None:
    due = berlin(2026, 12, 2, 23, 30)
    queued = a_flow_mail(due)
    assert queued.wait_for_quiet_hours(QUIET, due)
    assert (queued.status, queued.not_before) == ("queued", berlin(2026, 12, 3, 8))
    assert not queued.due(berlin(2026, 12, 3, 7, 59)) and queued.due(berlin(2026, 12, 3, 8))
    assert not queued.wait_for_quiet_hours(QUIET, berlin(2026, 12, 3, 8))  # it may leave
    early = a_flow_mail(berlin(2026, 12, 3, 6))  # after midnight: the same morning
    assert early.wait_for_quiet_hours(QUIET, berlin(2026, 12, 3, 6))
    assert early.not_before == berlin(2026, 12, 3, 8)
    assert not a_flow_mail(berlin(2026, 12, 3, 20, 59)).wait_for_quiet_hours(
        QUIET, berlin(2026, 12, 3, 20, 59)
    )


@pytest.mark.parametrize(
    ("due_utc", "leaves_utc"),
    [
        # spring forward, Sunday 29 March 2026: 23:30 CET on Saturday waits for 08:00 CEST
        (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), datetime(2026, 3, 29, 6, tzinfo=UTC)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 6, tzinfo=UTC)),
        # fall back, Sunday 25 October 2026: 23:30 CEST on Saturday waits for 08:00 CET,
        # and so does either 02:30 of the doubled hour
        (datetime(2026, 10, 24, 21, 30, tzinfo=UTC), datetime(2026, 10, 25, 7, tzinfo=UTC)),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 7, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), datetime(2026, 10, 25, 7, tzinfo=UTC)),
    ],
)
def test_on_dst_change_days_the_mail_waits_for_eight_berlin_wall_time(
    due_utc: datetime, leaves_utc: datetime
) -> None:
    queued = a_flow_mail(due_utc)
    assert queued.wait_for_quiet_hours(QUIET, due_utc)
    assert queued.not_before == leaves_utc
    assert queued.not_before.astimezone(BERLIN).time() == time(8)  # type: ignore[union-attr]


def test_the_confirmation_has_no_topic_and_leaves_inside_quiet_hours() -> None:
    at = berlin(2026, 12, 2, 23, 30)
    confirmation = QueuedMail(
        id="c-1", kind="confirmation", mail=Mail(to="a@b.de", subject="s", text="t"), created_at=at
    )
    assert not confirmation.wait_for_quiet_hours(QUIET, at)
    assert (confirmation.status, confirmation.not_before) == ("queued", None)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


async def test_late_in_the_evening_the_confirmation_leaves_and_the_flows_wait_for_morning() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    clock, sender = FakeClock(berlin(2026, 12, 2, 22, 25)), Recorder()

    async def sweep() -> int:
        result = await send_due_mails(transactor, sender, clock=clock, limit=10, quiet=QUIET)
        return result.held

    await subscribe(
        transactor,
        Subscribe("anna@example.de", ("offers",), "de", "newsletter_form", None),
        links=LINKS,
        imprint="Kontor GmbH",
        clock=clock,
    )
    assert await sweep() == 0
    [confirmation] = sender.sent  # the person just asked for it: not held
    token = confirmation.text.split("/newsletter/confirmations/")[1].split()[0]
    clock.advance(timedelta(minutes=3))
    await confirm(transactor, unquote(token), ip=None, links=LINKS, clock=clock, imprint="K")
    assert await sweep() == 1  # the welcome mail waits
    cart = CartAbandoned(
        cart_id="cart-1",
        value=Decimal("47.58"),
        currency="EUR",
        last_activity_at=clock(),
        customer_email="anna@example.de",
        lines=[CartLine(sku="TEE", quantity=2, unit_price_gross=Decimal("23.79"))],
    )
    flow = Flow(LINKS, timedelta(hours=1), "Kontor GmbH")

    async def abandoned(
        event: CartAbandoned, uow: InMemoryMarketingUnitOfWork, env: object
    ) -> None:
        await on_cart_abandoned(event, uow, env, flow=flow, now=clock())  # type: ignore[arg-type]

    await transactor.deliver(abandoned, cart)
    clock.set(berlin(2026, 12, 2, 23, 30))  # the reminder falls due
    assert await sweep() == 1
    [reminder] = [m for m in transactor.db.rows("mails") if m.meta.get("flow") == "abandoned_cart"]
    assert (reminder.status, reminder.not_before) == ("queued", berlin(2026, 12, 3, 8))
    clock.set(berlin(2026, 12, 3, 7, 59))
    assert await sweep() == 0 and len(sender.sent) == 1  # nothing is due before eight
    clock.set(berlin(2026, 12, 3, 8))
    await sweep()
    assert sorted(str(m.subject) for m in sender.sent[1:]) == [
        "Ihr Warenkorb wartet noch",
        "Willkommen bei unserem Newsletter",
    ]
