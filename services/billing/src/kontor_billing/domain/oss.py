"""The One-Stop-Shop figures billing reports from its documents (§3c, §18j UStG, ADR 0026).
Pure.

- **Return.** Per member state of consumption and quarter: net and VAT per rate and the
  number of documents, from the documents issued in that quarter that were taxed in the
  destination state (``vat_country``). Cancellations and corrections carry negative
  amounts and count in the quarter they were issued, not in the invoice's (§18j
  Abs. 1 UStG with Art. 61 VAT Implementing Regulation: a correction is declared in a
  later return; we take it in the return of the quarter it was issued in).
- **Threshold.** The net of the year's distance sales to consumers in other member states
  (documents without a buyer VAT id whose goods went to another member state, less their
  cancellations and corrections), for the year and the one before, against EUR 10,000,
  with the regime :mod:`kontor_contracts.eu_vat` derives from them. Orders decides the
  rate of each sale from its own count at placement (ADR 0026); this is the booked view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from kontor_contracts.eu_vat import OSS_THRESHOLD, is_distance_sale, oss_applies

from kontor_billing.domain.invoice import Invoice

__all__ = [
    "CountryReturn",
    "OssReturn",
    "RateFigures",
    "Threshold",
    "YearTotal",
    "oss_return",
    "quarter_bounds",
    "threshold",
]


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First day of the quarter and first day after it."""
    if not 1 <= quarter <= 4:
        raise ValueError("a quarter is 1 to 4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


@dataclass(frozen=True)
class RateFigures:
    vat_rate: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class CountryReturn:
    country: str
    invoices: int
    corrections: int
    """Cancellations and corrections issued in the quarter."""
    rates: list[RateFigures]

    @property
    def documents(self) -> int:
        return self.invoices + self.corrections

    @property
    def net(self) -> Decimal:
        return sum((r.net for r in self.rates), Decimal("0"))

    @property
    def vat(self) -> Decimal:
        return sum((r.vat for r in self.rates), Decimal("0"))


@dataclass(frozen=True)
class OssReturn:
    year: int
    quarter: int
    currency: str
    countries: list[CountryReturn] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return sum((c.net for c in self.countries), Decimal("0"))

    @property
    def vat(self) -> Decimal:
        return sum((c.vat for c in self.countries), Decimal("0"))


def oss_return(documents: Iterable[Invoice], year: int, quarter: int) -> OssReturn:
    """The figures of the quarter from the documents issued in it (others are ignored)."""
    start, end = quarter_bounds(year, quarter)
    net: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    vat: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    currencies: set[str] = set()
    for doc in documents:
        country = doc.vat_country
        if country is None or not start <= doc.issue_date < end:
            continue
        currencies.add(doc.currency)
        counts[country][0 if doc.kind == "invoice" else 1] += 1
        for row in doc.vat_breakdown:
            key = (country, row.vat_rate.normalize())
            net[key] += row.net
            vat[key] += row.vat
    if len(currencies) > 1:
        raise ValueError(f"OSS figures in more than one currency: {sorted(currencies)}")
    countries = [
        CountryReturn(
            country=country,
            invoices=counts[country][0],
            corrections=counts[country][1],
            rates=[
                RateFigures(rate, net[(c, rate)], vat[(c, rate)])
                for c, rate in sorted(net, key=lambda k: k[1], reverse=True)
                if c == country
            ],
        )
        for country in sorted(counts)
    ]
    return OssReturn(year, quarter, currencies.pop() if currencies else "EUR", countries)


@dataclass(frozen=True)
class YearTotal:
    year: int
    net: Decimal
    documents: int
    exceeded_by: str | None = None
    """The number of the document that took the year's total above the threshold."""

    @property
    def exceeded(self) -> bool:
        return self.net > OSS_THRESHOLD


@dataclass(frozen=True)
class Threshold:
    previous: YearTotal
    current: YearTotal
    opt_in: bool
    threshold: Decimal = OSS_THRESHOLD

    @property
    def regime(self) -> str:
        """``destination`` (OSS: the destination's rates) or ``home`` (German VAT)."""
        applies = oss_applies(self.previous.net, self.current.net, opt_in=self.opt_in)
        return "destination" if applies else "home"

    @property
    def reason(self) -> str:
        if self.opt_in:
            return "opt_in"
        if self.previous.exceeded:
            return "previous_year_exceeded"
        if self.current.exceeded:
            return "current_year_exceeded"
        return "below_threshold"


def _distance_sale(doc: Invoice) -> bool:
    destination = doc.destination_country or doc.buyer.country
    return is_distance_sale(doc.buyer_vat_id, destination)


def year_total(documents: Iterable[Invoice], year: int) -> YearTotal:
    """The year's distance sales (net), in the order they were issued."""
    total, count, crossed = Decimal("0"), 0, None
    chosen = [d for d in documents if d.issue_date.year == year and _distance_sale(d)]
    for doc in sorted(chosen, key=lambda d: (d.issued_at, d.number)):
        before = total
        total += doc.net_total
        count += 1
        if crossed is None and before <= OSS_THRESHOLD < total:
            crossed = doc.number
    return YearTotal(year, total, count, crossed)


def threshold(documents: Iterable[Invoice], year: int, *, opt_in: bool) -> Threshold:
    docs = list(documents)
    return Threshold(year_total(docs, year - 1), year_total(docs, year), opt_in)
