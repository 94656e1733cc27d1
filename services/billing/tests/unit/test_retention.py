"""Retention by kind (§147 AO as amended from 2025, ADR 0027): the period counts from the
end of the calendar year, nothing is deletable a day before it ends."""

from __future__ import annotations

from datetime import date

import pytest
from kontor_billing.domain.invoice import KINDS
from kontor_billing.domain.retention import (
    KIND_CLASSES,
    Deletable,
    RetentionPeriods,
    last_deletable_year,
    retention_ends,
)
from kontor_billing.settings import BillingSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit

PERIODS = RetentionPeriods()


def test_every_kind_billing_stores_has_a_period_by_its_class() -> None:
    assert set(KINDS) <= set(KIND_CLASSES)
    assert {PERIODS.years(k) for k in ("invoice", "cancellation", "correction")} == {8}
    assert PERIODS.years("payment") == PERIODS.years("incoming_invoice") == 8
    assert PERIODS.years("audit_chain") == PERIODS.years("journal") == 10
    assert PERIODS.years("quote") == PERIODS.years("dunning_letter") == 6
    with pytest.raises(KeyError):
        PERIODS.years("shopping_list")


def test_a_2017_invoice_is_deletable_on_2026_01_01_a_2018_one_is_not() -> None:
    new_year = date(2026, 1, 1)
    old = Deletable.of("RE-2017-000001", "invoice", 2017, PERIODS)
    young = Deletable.of("RE-2018-000001", "invoice", 2018, PERIODS)
    assert old.retention_ends == date(2025, 12, 31)
    assert not old.deletable_on(date(2025, 12, 31))
    assert old.deletable_on(new_year)
    assert not young.deletable_on(new_year)
    assert young.deletable_on(date(2027, 1, 1))
    assert last_deletable_year(new_year, 8) == 2017


def test_books_and_letters_by_their_own_periods() -> None:
    assert retention_ends(2015, PERIODS.years("audit_chain")) == date(2025, 12, 31)
    assert (
        Deletable.of("RE-2016", "audit_chain", 2016, PERIODS).deletable_on(date(2026, 1, 1))
        is False
    )
    assert Deletable.of("AN-2019-1", "quote", 2019, PERIODS).deletable_on(date(2026, 1, 1))


def test_the_periods_are_settings_that_cannot_go_below_the_law(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTOR_BILLING_RETENTION_BOOKING_VOUCHER_YEARS", "10")
    assert BillingSettings().retention_periods.years("invoice") == 10
    monkeypatch.setenv("KONTOR_BILLING_RETENTION_BOOKING_VOUCHER_YEARS", "7")
    with pytest.raises(ValidationError):
        BillingSettings()
