"""VAT rates of the EU member states and the One-Stop-Shop threshold (§3c UStG). Pure data
and rules, read by orders (which prices an order) and billing (which reports it), ADR 0026.

**Source.** European Commission, DG TAXUD, "VAT rates applied in the Member States of the
European Union" (the list published from the Taxes in Europe Database, TEDB), situation
as of 1 January 2025, plus the changes announced for 2025 and 2026 that we know of (EE,
RO, SK, SE), taken on 2026-12-02. **Check every row against TEDB before production**: the
rates here are our best knowledge, not a legal source, and a member state can change
them at any time (a new row with its ``valid_from``, never an edited one).

Two rates per state: ``standard`` (what Germany taxes at 19 %) and ``reduced``, the
reduced rate the member state applies to the shop's goods Germany taxes at 7 %
(foodstuffs such as coffee and books; where a state taxes them at different reduced
rates, its main reduced rate; Denmark has none, so its standard rate). A product taxed
at 0 % in Germany stays at 0 %.

Keys are ISO 3166-1 codes as addresses carry them (``GR``, not the VAT prefix ``EL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "GERMAN_REDUCED",
    "GERMAN_STANDARD",
    "HOME_STATE",
    "OSS_THRESHOLD",
    "RATES",
    "RateSet",
    "crosses_threshold",
    "destination_rate",
    "is_distance_sale",
    "oss_applies",
    "rates_on",
]

#: The merchant's member state (the shop ships from Germany).
HOME_STATE = "DE"
GERMAN_STANDARD = Decimal("0.19")
GERMAN_REDUCED = Decimal("0.07")

#: §3c Abs. 4 UStG, Art. 59c VAT Directive: EUR 10,000 net per calendar year, all
#: cross-border B2C distance sales (and telecom/broadcast/e-services) to other states.
OSS_THRESHOLD = Decimal("10000")


@dataclass(frozen=True)
class RateSet:
    valid_from: date
    standard: Decimal
    reduced: Decimal


def _r(valid_from: str, standard: str, reduced: str) -> RateSet:
    return RateSet(date.fromisoformat(valid_from), Decimal(standard), Decimal(reduced))


#: The OSS regime started on 2021-07-01; a row applies from its ``valid_from`` until the
#: next row of its state. Rates as fractions (0.20 = 20 %).
_OSS_START = "2021-07-01"
RATES: dict[str, tuple[RateSet, ...]] = {
    "AT": (_r(_OSS_START, "0.20", "0.10"),),
    "BE": (_r(_OSS_START, "0.21", "0.06"),),
    "BG": (_r(_OSS_START, "0.20", "0.09"),),
    "CY": (_r(_OSS_START, "0.19", "0.05"),),
    "CZ": (_r(_OSS_START, "0.21", "0.15"), _r("2024-01-01", "0.21", "0.12")),
    "DE": (_r(_OSS_START, "0.19", "0.07"),),
    "DK": (_r(_OSS_START, "0.25", "0.25"),),
    "EE": (
        _r(_OSS_START, "0.20", "0.09"),
        _r("2024-01-01", "0.22", "0.09"),
        _r("2025-07-01", "0.24", "0.13"),
    ),
    "ES": (_r(_OSS_START, "0.21", "0.10"),),
    "FI": (_r(_OSS_START, "0.24", "0.14"), _r("2024-09-01", "0.255", "0.14")),
    "FR": (_r(_OSS_START, "0.20", "0.055"),),
    "GR": (_r(_OSS_START, "0.24", "0.13"),),
    "HR": (_r(_OSS_START, "0.25", "0.05"),),
    "HU": (_r(_OSS_START, "0.27", "0.05"),),
    "IE": (_r(_OSS_START, "0.23", "0.135"),),
    "IT": (_r(_OSS_START, "0.22", "0.10"),),
    "LT": (_r(_OSS_START, "0.21", "0.09"),),
    "LU": (_r(_OSS_START, "0.17", "0.08"),),
    "LV": (_r(_OSS_START, "0.21", "0.12"),),
    "MT": (_r(_OSS_START, "0.18", "0.05"),),
    "NL": (_r(_OSS_START, "0.21", "0.09"),),
    "PL": (_r(_OSS_START, "0.23", "0.08"),),
    "PT": (_r(_OSS_START, "0.23", "0.06"),),
    "RO": (_r(_OSS_START, "0.19", "0.09"), _r("2025-08-01", "0.21", "0.11")),
    "SE": (_r(_OSS_START, "0.25", "0.12"), _r("2026-04-01", "0.25", "0.06")),
    "SI": (_r(_OSS_START, "0.22", "0.095"),),
    "SK": (_r(_OSS_START, "0.20", "0.10"), _r("2025-01-01", "0.23", "0.19")),
}


def rates_on(country: str, day: date) -> RateSet:
    """The rates of ``country`` on ``day``; KeyError for a state not in the table (or a
    day before its first row)."""
    rows = [row for row in RATES[country] if row.valid_from <= day]
    if not rows:
        raise KeyError(f"no VAT rates of {country} on {day}")
    return max(rows, key=lambda row: row.valid_from)


def destination_rate(country: str, german_rate: Decimal, day: date) -> Decimal:
    """The rate ``country`` applies on ``day`` to goods Germany taxes at ``german_rate``.

    19 % -> the destination's standard rate, 7 % -> its reduced rate, 0 % -> 0 %.
    Any other German rate is refused (ValueError): the table has no mapping for it.
    """
    rates = rates_on(country, day)
    if german_rate == 0:
        return Decimal("0")
    if german_rate == GERMAN_STANDARD:
        return rates.standard
    if german_rate == GERMAN_REDUCED:
        return rates.reduced
    raise ValueError(f"no destination rate for a German rate of {german_rate}")


def is_distance_sale(buyer_vat_id: str | None, destination: str) -> bool:
    """Whether a sale counts toward the threshold: to a consumer (no VAT id), goods going
    to another member state. Domestic sales and intra-community supplies do not."""
    return buyer_vat_id is None and destination != HOME_STATE and destination in RATES


def oss_applies(previous_year: Decimal, current_year: Decimal, *, opt_in: bool) -> bool:
    """Whether distance sales are taxed in the destination state now: the merchant opted
    in, or the total of the previous year exceeded the threshold, or the current year's
    total (before this sale) did."""
    return opt_in or previous_year > OSS_THRESHOLD or current_year > OSS_THRESHOLD


def crosses_threshold(current_year: Decimal, sale_net: Decimal) -> bool:
    """Whether this sale takes the current year's total above the threshold: the sale
    that exceeds it is already taxed in the destination state (Art. 59c (2) VAT
    Directive, §3c Abs. 4 S. 2 UStG)."""
    return current_year <= OSS_THRESHOLD < current_year + sale_net
