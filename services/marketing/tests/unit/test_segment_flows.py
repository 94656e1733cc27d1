""" "Entered segment" as a trigger (issue 15): whoever enters a segment after its entry
mail was set gets it, personalised, after its delay; who was a member already does not;
a mail with an unknown placeholder or topic is refused at its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.flows import Flow, entry_mails_due
from kontor_marketing.application.profiles import (
    create_segment,
    on_order_placed,
    set_entry_mail,
)
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.domain.segment_flows import EntryMail
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
LINKS = ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=1))
TWO_ORDERS = {"all": [{"field": "orders", "op": "gte", "value": 2}]}


async def place(transactor: FakeTransactor[InMemoryMarketingUnitOfWork], email: str) -> None:
    envelope = order_placed_envelope()
    envelope.payload["customer"]["email"] = email
    await transactor.deliver(on_order_placed, envelope.payload_model(), envelope)


async def test_who_enters_the_segment_gets_its_mail_after_the_delay() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    for _ in range(2):
        await place(transactor, "bert@example.de")  # a member before the mail is set
    segment = await create_segment(transactor, "Stammkunden", TWO_ORDERS, clock=lambda: NOW)
    mail = EntryMail("Danke, {{ name }}!", "10 % mit STAMM10", "offers", delay_minutes=60)
    shown = await set_entry_mail(transactor, segment.id, mail)
    assert (shown.size, shown.entry_mail) == (1, mail)

    await place(transactor, "anna@example.de")
    assert transactor.db.rows("segment_entries") == []  # one order: not in it yet
    await place(transactor, "anna@example.de")
    [entry] = transactor.db.rows("segment_entries")
    assert entry.email == "anna@example.de"

    flow = Flow(LINKS, timedelta(0), "Kontor GmbH")
    assert await entry_mails_due(transactor, flow, clock=lambda: NOW) == 1
    assert await entry_mails_due(transactor, flow, clock=lambda: NOW) == 0  # taken once
    [queued] = transactor.db.rows("mails")
    assert queued.mail.to == "anna@example.de" and queued.topic == "offers"
    assert queued.mail.subject == "Danke, Anna Muster!"
    assert queued.not_before == entry.at + timedelta(minutes=60)
    assert queued.mail.unsubscribe_url is not None and "Kontor GmbH" in queued.mail.text


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"subject": "Hallo {{ vorname }}"}, ("subject",)),
        ({"text": "Ihr Code: {{coupon_code:p-1}}"}, ("text",)),  # campaigns only (ADR 0118)
        ({"topic": "sms"}, ("topic",)),
        ({"delay_minutes": -1}, ("delay_minutes",)),
    ],
)
def test_a_bad_entry_mail_is_refused_at_its_field(fields: dict[str, Any], path: tuple[str]) -> None:
    values: dict[str, Any] = {"subject": "Hallo", "text": "...", "topic": "news"}
    with pytest.raises(Invalid) as caught:
        EntryMail(**{**values, **fields})
    assert caught.value.field == path
