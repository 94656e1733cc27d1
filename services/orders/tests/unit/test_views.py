"""The order list's filter: plain dates are Berlin days, e-mails match in any case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from kontor_orders.application.views import OrderFilter, day_end, day_start
from kontor_orders.domain.parties import email_key, order_number_key

pytestmark = pytest.mark.unit


def test_a_plain_date_is_that_day_in_berlin() -> None:
    # winter: CET is UTC+1
    assert day_start(date(2026, 12, 1)) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert day_end(date(2026, 12, 1)) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    # summer: CEST is UTC+2; the day of the change to winter time has 25 hours
    assert day_start(date(2026, 6, 1)) == datetime(2026, 5, 31, 22, 0, tzinfo=UTC)
    assert day_end(date(2026, 10, 25)) - day_start(date(2026, 10, 25)) == timedelta(hours=25)


def test_a_moment_is_taken_as_given() -> None:
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert day_start(moment) is moment and day_end(moment) is moment


def test_an_email_filter_matches_in_any_case_a_customer_id_exactly() -> None:
    assert OrderFilter(customer=" Anna@Example.DE").customer_key == "anna@example.de"
    assert OrderFilter(customer="Kunde-17").customer_key == "Kunde-17"
    assert email_key("ANNA@example.de ") == email_key("anna@EXAMPLE.DE")


def test_order_numbers_are_matched_as_printed() -> None:
    assert OrderFilter(number=" b-2026-000001").number_key == "B-2026-000001"
    assert order_number_key("B-2026-000001") == "B-2026-000001"
