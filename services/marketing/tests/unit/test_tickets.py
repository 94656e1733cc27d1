"""Support's tickets in profiles (issue 15): TicketOpened counts a ticket for the person
it names, TicketUpdated and TicketResolved (no e-mail in them) move it by its id; the
profile shows tickets, open tickets and the last ticket; ``open_tickets`` and the other
ticket figures are segment fields; a redelivery counts once and the stored document
keeps the tickets (so a rebuild from the topics gives the same profile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_contracts.events.common import Customer
from kontor_contracts.events.support import TicketOpened, TicketResolved, TicketUpdated
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.profiles import (
    create_segment,
    on_order_placed,
    on_ticket_opened,
    on_ticket_resolved,
    on_ticket_updated,
)
from kontor_marketing.domain.profile import Profile, check_rule, matches
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_marketing.store.profiles import from_document, to_document
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def opened(ticket_id: str, email: str = "Anna@Example.de", days_ago: int = 0) -> TicketOpened:
    return TicketOpened(
        ticket_id=ticket_id,
        channel="email",
        customer=Customer(email=email, name="Anna Muster"),
        subject="Wo bleibt meine Bestellung?",
        category="delivery",
        opened_at=AT - timedelta(days=days_ago),
    )


def test_ticket_figures_count_all_and_the_unsettled_ones() -> None:
    profile = Profile(email="anna@example.de")
    assert profile.figures(AT)["tickets"] == 0 and profile.figures(AT)["last_ticket_at"] is None
    profile.ticket_opened("t1", AT - timedelta(days=20))
    profile.ticket_opened("t2", AT - timedelta(days=3))
    profile.ticket_opened("t3", AT - timedelta(days=1))
    profile.ticket_status("t1", "resolved")
    profile.ticket_status("t2", "waiting_for_customer")
    profile.ticket_status("t3", "closed")
    profile.ticket_status("unknown", "open")  # not this person's: nothing
    profile.ticket_opened("t1", AT)  # told again: keeps its status and time
    figures = profile.figures(AT)
    assert (figures["tickets"], figures["open_tickets"]) == (3, 1)
    assert figures["last_ticket_at"] == AT - timedelta(days=1)
    assert figures["days_since_last_ticket"] == 1
    profile.ticket_status("t1", "open")  # reopened by the customer's reply
    assert profile.figures(AT)["open_tickets"] == 2


def test_ticket_fields_are_segment_fields() -> None:
    rule = {
        "all": [
            {"field": "orders", "op": "gte", "value": 1},
            {"field": "open_tickets", "op": "eq", "value": 0},
            {"field": "days_since_last_ticket", "op": "ne", "value": 0},
        ]
    }
    assert check_rule(rule) == 3
    with pytest.raises(Invalid) as bad:
        check_rule({"field": "open_tickets", "op": "gt", "value": "many"})
    assert bad.value.field == ("rule", "value")
    calm = Profile(email="a@example.de")
    calm.order_placed("o1", Decimal("50.00"), AT)
    unhappy = Profile(email="b@example.de")
    unhappy.order_placed("o2", Decimal("50.00"), AT)
    unhappy.ticket_opened("t1", AT - timedelta(days=2))
    assert matches(rule, calm.figures(AT)) and not matches(rule, unhappy.figures(AT))
    assert matches({"field": "open_tickets", "op": "gt", "value": 0}, unhappy.figures(AT))


def test_the_stored_profile_keeps_its_tickets() -> None:
    profile = Profile(email="anna@example.de")
    profile.ticket_opened("t1", AT)
    profile.ticket_status("t1", "in_progress")
    doc = to_document(profile)
    assert doc["ticket_ids"] == ["t1"]  # the index an update without e-mail is found by
    assert from_document(doc).tickets == profile.tickets


async def test_ticket_events_move_the_profile_and_its_segments() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    placed = order_placed_envelope()  # anna@example.de
    await transactor.deliver(on_order_placed, placed.payload_model(), placed)
    unhappy = await create_segment(
        transactor,
        "Unzufrieden",
        {"field": "open_tickets", "op": "gt", "value": 0},
        clock=lambda: AT,
    )
    first = opened("t1", days_ago=2)
    envelope = envelope_of(first)
    assert await transactor.deliver(on_ticket_opened, first, envelope)
    assert not await transactor.deliver(on_ticket_opened, first, envelope)  # redelivered
    await transactor.deliver(on_ticket_opened, opened("t2"))
    await transactor.deliver(on_ticket_opened, opened("t9", email="bert@example.de"))
    [anna] = [p for p in transactor.db.rows("profiles") if p.email == "anna@example.de"]
    assert (len(anna.tickets), unhappy.id in anna.segments) == (2, True)

    await transactor.deliver(
        on_ticket_updated, TicketUpdated(ticket_id="t1", status="in_progress", state="open")
    )
    await transactor.deliver(
        on_ticket_resolved, TicketResolved(ticket_id="t1", resolution="ersetzt", resolved_at=AT)
    )
    await transactor.deliver(on_ticket_updated, TicketUpdated(ticket_id="t2", status="closed"))
    await transactor.deliver(on_ticket_updated, TicketUpdated(ticket_id="t-never", status="open"))
    [anna] = [p for p in transactor.db.rows("profiles") if p.email == "anna@example.de"]
    figures = anna.figures(AT)
    assert (figures["tickets"], figures["open_tickets"], figures["orders"]) == (2, 0, 1)
    assert unhappy.id not in anna.segments  # settled: back in campaigns
    [bert] = [p for p in transactor.db.rows("profiles") if p.email == "bert@example.de"]
    assert bert.figures(AT)["open_tickets"] == 1 and unhappy.id in bert.segments
