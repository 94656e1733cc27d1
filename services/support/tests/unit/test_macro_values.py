"""Macros filled from the ticket's context: name, order, tracking link, deadline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kontor_support.application.macros import filled_macro, macro_values
from kontor_support.application.views import TicketView
from kontor_support.domain.ticket import Ticket

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def view(order_numbers: tuple[str, ...], orders: list[dict[str, object]]) -> TicketView:
    ticket = Ticket.open(
        id="T-2026-000001",
        subject="Paket",
        channel="email",
        at=AT,
        customer_email="anna@example.de",
        customer_name="Anna Muster",
        order_numbers=order_numbers,
    )
    return TicketView(ticket, [], None, orders)  # type: ignore[arg-type]


ORDERS = [
    {"order_number": "B-2026-000009", "shipments": []},  # newest first
    {
        "order_number": "B-2026-000002",
        "delivered_at": datetime(2026, 11, 20, 15, tzinfo=UTC),
        "shipments": [
            {"tracking_url": "https://dhl.example/old"},
            {"tracking_url": "https://dhl.example/JJD2"},
        ],
    },
]


def test_the_ticket_s_order_gives_tracking_and_the_deadline_14_days_after_delivery() -> None:
    values = macro_values(view(("B-2026-000002",), ORDERS), "de", return_instructions="Etikett")
    assert values == {
        "return_instructions": "Etikett",
        "customer_name": "Anna Muster",
        "order_number": "B-2026-000002",
        "tracking_link": "https://dhl.example/JJD2",
        "withdrawal_deadline": "04.12.2026",
    }
    english = macro_values(view(("B-2026-000002",), ORDERS), "en", return_instructions="x")
    assert english["withdrawal_deadline"] == "2026-12-04"


def test_what_support_does_not_know_stays_a_placeholder() -> None:
    found = filled_macro(view((), ORDERS), "where-is-my-parcel", "de", return_instructions="x")
    assert found is not None
    _, body, left = found
    assert "B-2026-000009" in body and "Anna Muster" in body  # the newest order
    assert left == ["tracking_link"]  # not shipped yet: the agent fills it in
    assert filled_macro(view((), []), "nope", "de", return_instructions="x") is None
