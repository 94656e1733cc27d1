"""SLA arithmetic in business hours: evenings, weekends and a Berlin public holiday
(Christmas) do not count; a ticket's next deadline follows its waits, breaches once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_servicekit.clock import BERLIN
from kontor_support.application.sla import german_calendar
from kontor_support.domain.events import SlaWasBreached
from kontor_support.domain.sla import SlaPolicy
from kontor_support.domain.ticket import Ticket

pytestmark = pytest.mark.unit

CALENDAR = german_calendar("BE")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_business_minutes_skip_nights_weekends_and_holidays() -> None:
    # Wednesday 17:00 + 2 h -> Thursday 09:00
    assert CALENDAR.add(berlin(2026, 12, 2, 17), 120) == berlin(2026, 12, 3, 9)
    # Friday 17:30 + 1 h -> Monday 08:30
    assert CALENDAR.add(berlin(2026, 12, 4, 17, 30), 60) == berlin(2026, 12, 7, 8, 30)
    # Wed 23 Dec 17:00 + 2 h: Thu 24 Dec counts (no holiday in law), 25/26 Dec do not
    assert CALENDAR.add(berlin(2026, 12, 23, 17), 120) == berlin(2026, 12, 24, 9)
    assert CALENDAR.add(berlin(2026, 12, 24, 17), 120) == berlin(2026, 12, 28, 9)
    # International Women's Day is a holiday in Berlin only: Monday 8 March 2027
    assert CALENDAR.add(berlin(2027, 3, 5, 17), 120) == berlin(2027, 3, 9, 9)
    assert german_calendar("BY").add(berlin(2027, 3, 5, 17), 120) == berlin(2027, 3, 8, 9)


def test_the_next_deadline_follows_the_wait_and_breaches_once() -> None:
    opened = berlin(2026, 12, 2, 9)
    ticket = Ticket.open(id="T-2026-000001", subject="Hilfe", channel="email", at=opened)
    ticket.change(opened, "berta", priority="urgent")
    ticket.plan_sla(SlaPolicy(), CALENDAR)
    assert (ticket.sla_target, ticket.sla_due_at) == ("first_response", berlin(2026, 12, 2, 10))
    ticket.pull_events()
    assert not ticket.check_sla(berlin(2026, 12, 2, 9, 59))
    late = berlin(2026, 12, 2, 10, 1)
    assert ticket.check_sla(late)
    assert not ticket.check_sla(late + timedelta(minutes=1))
    [breach] = [e for e in ticket.pull_events() if isinstance(e, SlaWasBreached)]
    assert breach.target == "first_response"
    ticket.plan_sla(SlaPolicy(), CALENDAR)  # the breached target is not planned again
    assert (ticket.sla_target, ticket.sla_due_at) == ("resolution", berlin(2026, 12, 2, 17))

    ticket.agent_replied(late, "berta", internal=False)
    ticket.customer_wrote(berlin(2026, 12, 2, 11))
    ticket.plan_sla(SlaPolicy(), CALENDAR)
    assert (ticket.sla_target, ticket.sla_due_at) == ("next_response", berlin(2026, 12, 2, 13))
    ticket.change(late, "berta", status="pending", pending_until=datetime(2027, 1, 1, tzinfo=UTC))
    ticket.plan_sla(SlaPolicy(), CALENDAR)
    assert ticket.sla_due_at is None  # pending pauses the clock
