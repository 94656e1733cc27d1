"""The EU rates table and the One-Stop-Shop threshold rule (§3c UStG, ADR 0026)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from kontor_contracts.eu_vat import (
    OSS_THRESHOLD,
    RATES,
    crosses_threshold,
    destination_rate,
    is_distance_sale,
    oss_applies,
    rates_on,
)
from kontor_servicekit.vat_ids import EU_MEMBER_STATES

pytestmark = pytest.mark.unit

D = Decimal


def test_every_member_state_has_rates_from_the_start_of_the_oss_in_order() -> None:
    assert set(RATES) == EU_MEMBER_STATES
    for country, rows in RATES.items():
        assert rows[0].valid_from == date(2021, 7, 1), country
        assert [r.valid_from for r in rows] == sorted({r.valid_from for r in rows}), country
        for row in rows:
            assert D("0.15") <= row.standard <= D("0.27"), country
            assert D("0") < row.reduced <= row.standard, country


def test_the_rates_are_taken_by_date() -> None:
    assert rates_on("SK", date(2024, 12, 31)).standard == D("0.20")
    assert rates_on("SK", date(2025, 1, 1)).standard == D("0.23")
    assert destination_rate("SE", D("0.07"), date(2026, 3, 31)) == D("0.12")
    assert destination_rate("SE", D("0.07"), date(2026, 4, 1)) == D("0.06")
    with pytest.raises(KeyError):
        rates_on("FR", date(2021, 6, 30))


def test_the_german_rate_maps_to_the_destinations() -> None:
    day = date(2026, 7, 1)
    assert destination_rate("AT", D("0.19"), day) == D("0.20")
    assert destination_rate("AT", D("0.07"), day) == D("0.10")
    assert destination_rate("FR", D("0.07"), day) == D("0.055")
    assert destination_rate("FR", D("0"), day) == D("0")
    with pytest.raises(ValueError, match=r"0\.16"):
        destination_rate("FR", D("0.16"), day)


@pytest.mark.parametrize(
    ("vat_id", "country", "counts"),
    [
        (None, "AT", True),
        (None, "DE", False),  # domestic
        ("ATU13585627", "AT", False),  # intra-community supply (B2B)
        (None, "CH", False),  # an export, not a distance sale within the EU
    ],
)
def test_only_consumers_in_other_member_states_count(
    vat_id: str | None, country: str, counts: bool
) -> None:
    assert is_distance_sale(vat_id, country) is counts


def test_the_threshold_of_the_previous_or_the_current_year_or_the_opt_in() -> None:
    below, above = OSS_THRESHOLD, OSS_THRESHOLD + D("0.01")
    assert not oss_applies(below, below, opt_in=False)  # 10,000.00 is not "exceeded"
    assert oss_applies(above, D("0"), opt_in=False)  # last year's: the whole year
    assert oss_applies(D("0"), above, opt_in=False)  # this year's: from then on
    assert oss_applies(D("0"), D("0"), opt_in=True)


def test_the_sale_that_exceeds_the_threshold_crosses_it() -> None:
    assert not crosses_threshold(D("9000"), D("1000"))  # exactly 10,000: not exceeded
    assert crosses_threshold(D("9000"), D("1000.01"))
    assert not crosses_threshold(D("10000.01"), D("5"))  # over already: not "this" sale
