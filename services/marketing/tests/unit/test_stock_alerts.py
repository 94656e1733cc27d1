"""Back in stock (issue 15): a request subscribes to back_in_stock (double opt-in) and
waits; pieces available again notify each waiting request of the article once; the mail
leaves only once the person confirmed; an outflow or an empty shelf notifies nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_contracts.events.catalog import StockAdjusted
from kontor_marketing.application.consent import ConsentLinks, confirm
from kontor_marketing.application.mail import send_due_mails
from kontor_marketing.application.stock_alerts import (
    StockNotices,
    ask_for_stock_alert,
    on_stock_adjusted,
)
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.domain.mail import Mail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
LINKS = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=48))
NOTICES = StockNotices(LINKS, "https://shop.example", "Kontor GmbH")


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.sent.append(mail)


def movement(delta: int, on_hand: int, available: int | None = None) -> StockAdjusted:
    return StockAdjusted(
        sku="TEE-RED-M",
        warehouse="main",
        delta=delta,
        on_hand=on_hand,
        reason="goods_receipt" if delta > 0 else "shipment",
        available=available,
    )


async def test_a_goods_receipt_tells_who_asked_once_they_confirmed() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await ask_for_stock_alert(
        transactor,
        "Anna@Example.de",
        "TEE-RED-M",
        locale="de",
        ip=None,
        links=LINKS,
        imprint="Kontor GmbH",
        clock=lambda: NOW,
    )
    sender = Recorder()
    await send_due_mails(transactor, sender, clock=lambda: NOW, limit=5)
    [confirmation] = sender.sent
    token = confirmation.text.split("/newsletter/confirmations/")[1].split()[0]
    from urllib.parse import unquote

    await confirm(transactor, unquote(token), ip=None, links=LINKS, clock=lambda: NOW)

    async def handle(event: StockAdjusted, uow: InMemoryMarketingUnitOfWork, env: object) -> None:
        await on_stock_adjusted(event, uow, env, notices=NOTICES, clock=lambda: NOW)  # type: ignore[arg-type]

    later = NOW + timedelta(hours=1)
    for event in (movement(-1, 0), movement(0, 0), movement(5, 5, available=0)):
        await transactor.deliver(handle, event, envelope_of(event, occurred_at=later))
    assert [m.meta.get("flow") for m in transactor.db.rows("mails")] == [None]  # nothing yet
    back = movement(5, 5, available=3)
    await transactor.deliver(handle, back, envelope_of(back, occurred_at=later))
    again = movement(2, 7, available=5)
    await transactor.deliver(handle, again, envelope_of(again, occurred_at=later))
    await send_due_mails(transactor, sender, clock=lambda: later, limit=5)
    notices = [m for m in sender.sent if "Wieder da" in m.subject]
    assert [(m.to, m.subject) for m in notices] == [("anna@example.de", "Wieder da: TEE-RED-M")]
    assert notices[0].unsubscribe_url is not None
    [alert] = transactor.db.rows("stock_alerts")
    assert alert.status == "notified"


async def test_an_unconfirmed_request_never_becomes_a_mail() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await ask_for_stock_alert(
        transactor,
        "bert@example.de",
        "TEE-RED-M",
        locale="en",
        ip=None,
        links=LINKS,
        imprint="Kontor GmbH",
        clock=lambda: NOW,
    )

    async def handle(event: StockAdjusted, uow: InMemoryMarketingUnitOfWork, env: object) -> None:
        await on_stock_adjusted(event, uow, env, notices=NOTICES, clock=lambda: NOW)  # type: ignore[arg-type]

    back = movement(5, 5)
    await transactor.deliver(handle, back, envelope_of(back, occurred_at=NOW + timedelta(hours=1)))
    sender = Recorder()
    result = await send_due_mails(transactor, sender, clock=lambda: NOW, limit=5)
    assert [m.subject for m in sender.sent] == ["Please confirm your newsletter subscription"]
    assert result.skipped == 1  # the notice: no consent to back_in_stock
