"""The review request after the delivery and the win-back after a quiet spell (issue 15),
over the in-memory unit of work: each only with consent to its topic, once per order or
per quiet spell; a completed return stops a waiting review request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import OrderDelivered, ReturnCompleted
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.flows import Flow, win_back_due
from kontor_marketing.application.mail import send_due_mails
from kontor_marketing.application.profiles import (
    on_order_delivered,
    on_order_placed,
    on_return_completed,
)
from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.domain.mail import Mail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
LINKS = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=1))


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


async def consented(transactor: FakeTransactor[InMemoryMarketingUnitOfWork], *topics: str) -> None:
    async def work(uow: InMemoryMarketingUnitOfWork) -> None:
        person = Consent(email="anna@example.de", locale="de")
        person.request(topics, request_id="r", at=NOW, source="x", ip=None, locale="de")
        person.confirm("r", at=NOW, ip=None)
        await uow.consents.save(person)

    await transactor.run(work)


async def placed(transactor: FakeTransactor[InMemoryMarketingUnitOfWork], **kw: Any) -> str:
    envelope = order_placed_envelope(**kw)
    await transactor.deliver(on_order_placed, envelope.payload_model(), envelope)
    return str(envelope.payload["order_id"])


def delivered_handler(flow: Flow) -> Any:
    async def handle(event: OrderDelivered, uow: InMemoryMarketingUnitOfWork, env: Any) -> None:
        await on_order_delivered(event, uow, env, flow=flow, now=NOW)

    return handle


async def test_a_delivery_queues_one_review_request_that_a_return_stops() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await consented(transactor, "news")
    flow = Flow(LINKS, timedelta(days=7), "Kontor GmbH")
    kept, returned = await placed(transactor, number=7), await placed(transactor, number=8)
    for order_id in (kept, kept, returned):  # two parcels of the first order
        delivered = OrderDelivered(order_id=order_id, delivered_at=NOW)
        await transactor.deliver(delivered_handler(flow), delivered)
    mails = transactor.db.rows("mails")
    assert [(m.meta["order_id"], m.not_before) for m in mails] == [
        (kept, NOW + timedelta(days=7)),
        (returned, NOW + timedelta(days=7)),
    ]
    back = ReturnCompleted(
        return_id="ret-1",
        order_id=returned,
        refund_amount=Decimal("10"),
        currency="EUR",
        includes_shipping=False,
    )
    await transactor.deliver(on_return_completed, back)

    sender = Recorder()
    await send_due_mails(transactor, sender, clock=lambda: NOW + timedelta(days=6), limit=5)
    assert sender.sent == []  # not yet
    await send_due_mails(transactor, sender, clock=lambda: NOW + timedelta(days=7), limit=5)
    [asked] = sender.sent
    assert asked.subject == "Wie zufrieden sind Sie mit Ihrer Bestellung?"
    assert "B-2026-000007" in asked.text  # the number the customer knows
    assert [m.reason for m in transactor.db.rows("mails") if m.status == "skipped"] == ["returned"]


async def test_no_review_request_without_consent_to_news() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await consented(transactor, "offers")
    order_id = await placed(transactor)
    flow = Flow(LINKS, timedelta(days=7), "Kontor GmbH")
    await transactor.deliver(
        delivered_handler(flow), OrderDelivered(order_id=order_id, delivered_at=NOW)
    )
    assert transactor.db.rows("mails") == []


async def test_a_win_back_goes_once_per_quiet_spell() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await consented(transactor, "offers")
    await placed(transactor)  # placed at the sample's time
    profile = await transactor.run(lambda uow: uow.profiles.get("anna@example.de"))
    assert profile is not None
    last = profile.last_order_at()
    assert last is not None
    flow = Flow(LINKS, timedelta(days=90), "Kontor GmbH")
    assert await win_back_due(transactor, flow, clock=lambda: last + timedelta(days=89)) == 0
    assert await win_back_due(transactor, flow, clock=lambda: last + timedelta(days=90)) == 1
    assert await win_back_due(transactor, flow, clock=lambda: last + timedelta(days=120)) == 0
    [mail] = transactor.db.rows("mails")
    assert (mail.topic, mail.mail.subject) == ("offers", "Wir vermissen Sie")
    assert "90 Tage" in mail.mail.text and mail.mail.unsubscribe_url is not None
