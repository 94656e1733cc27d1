"""Dunning (Mahnwesen): a payment reminder, then the 1st and 2nd dunning notice, each a
numbered document, for an invoice unpaid past its due date (ADR 0028, 0029).

Levels (settings): level 1, the payment reminder (Zahlungserinnerung), ``days`` after
the due date; level 2 and 3, the 1st and 2nd dunning notice (Mahnung), ``days`` after
the level before. Each level has its fee. A payment that settles the receivable, a
dispute or a cancellation stops dunning; after the last level nothing more is sent
(collection is a person's decision).

Default interest (Verzugszinsen, §288 BGB), from the day after the due date on the
open amount: consumers 5 percentage points above the base rate (Abs. 1), businesses
9 points (Abs. 2) plus the EUR 40 flat fee (Abs. 5) once per invoice, with the first
dunning notice. The base rate (Basiszinssatz, §247 BGB, published by the Deutsche
Bundesbank for 1 January and 1 July) is a dated table: each day is charged at the rate
in force on it; interest = open amount x rate x days / 365, summed over the periods,
rounded once, half up, to cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.order import Buyer
from kontor_billing.domain.receivables import ZERO, Receivable
from kontor_billing.domain.seller import Seller

CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)
CONSUMER_MARGIN = Decimal("5")
BUSINESS_MARGIN = Decimal("9")
BUSINESS_FLAT_FEE = Decimal("40.00")

#: Basiszinssatz (§247 BGB) in percent, from the day given, as the Deutsche Bundesbank
#: published it. Keep current: a new value every 1 January and 1 July (ADR 0029); the
#: setting ``DUNNING_BASE_RATES`` adds values without a release. The value from
#: 2026-07-01 is not in this table (it could not be confirmed from a source, ADR 0070):
#: the table knows rates through 2026-06-30 and refuses later days (``BaseRateUnknown``).
BASE_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2023, 1, 1), Decimal("1.62")),
    (date(2023, 7, 1), Decimal("3.12")),
    (date(2024, 1, 1), Decimal("3.62")),
    (date(2024, 7, 1), Decimal("3.37")),
    (date(2025, 1, 1), Decimal("2.27")),
    (date(2025, 7, 1), Decimal("1.27")),
    (date(2026, 1, 1), Decimal("1.27")),
)

LEVEL_NAMES = {1: "payment_reminder", 2: "first_dunning_notice", 3: "second_dunning_notice"}
LEVEL_TITLES = {1: "Zahlungserinnerung", 2: "1. Mahnung", 3: "2. Mahnung"}


def half_year_end(day: date) -> date:
    """The last day of the half year ``day`` lies in (30 June or 31 December)."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


class BaseRateUnknown(Invalid):
    """A day after the last half year the table knows: its base rate was not entered."""

    def __init__(self, day: date, known_until: date) -> None:
        super().__init__(
            f"the Basiszinssatz for {day.isoformat()} is not known (the table ends "
            f"{known_until.isoformat()}); add it to DUNNING_BASE_RATES",
            field=("dunning_base_rates",),
        )
        self.day = day
        self.known_until = known_until


@dataclass(frozen=True)
class BaseRateTable:
    rates: tuple[tuple[date, Decimal], ...] = BASE_RATES

    def __post_init__(self) -> None:
        if not self.rates:
            raise Invalid("the base rate table is empty", field=("dunning_base_rates",))

    @classmethod
    def with_extra(cls, extra: dict[date, Decimal]) -> BaseRateTable:
        """The built-in table plus (or overridden by) values from settings."""
        merged = dict(BASE_RATES)
        merged.update(extra)
        return cls(tuple(sorted(merged.items())))

    @property
    def known_until(self) -> date:
        """The last day with a known rate: the end of the last entry's half year (the
        Bundesbank fixes a value for each 1 January and 1 July, so an entry holds until
        the next one is due, never beyond)."""
        return half_year_end(self.rates[-1][0])

    def on(self, day: date) -> Decimal:
        """The base rate in force on ``day`` (the earliest known before the table starts);
        ``BaseRateUnknown`` after ``known_until`` instead of carrying an old rate on."""
        if day > self.known_until:
            raise BaseRateUnknown(day, self.known_until)
        rate = self.rates[0][1]
        for start, value in self.rates:
            if start <= day:
                rate = value
        return rate

    def periods(self, first: date, last: date) -> list[tuple[date, date, Decimal]]:
        """``[first, last]`` split where the rate changes: (from, to, base rate), inclusive."""
        if last > self.known_until:
            raise BaseRateUnknown(last, self.known_until)
        out: list[tuple[date, date, Decimal]] = []
        day = first
        while day <= last:
            rate = self.on(day)
            following = [start for start, _ in self.rates if start > day]
            end = min(following[0] - timedelta(days=1), last) if following else last
            out.append((day, end, rate))
            day = end + timedelta(days=1)
        return out


@dataclass(frozen=True)
class Interest:
    amount: Decimal
    rate_percent: Decimal
    """The annual rate of the last period (base rate + margin)."""
    base_rate_percent: Decimal
    margin_points: Decimal
    days: int
    since: date | None
    until: date | None = None
    """The last day charged: before ``on`` when the base rate after it is unknown."""
    rate_unknown_from: date | None = None
    """Set when the claim stops short: the first day without a known base rate."""


def default_interest(
    principal: Decimal, due_date: date, on: date, *, business: bool, table: BaseRateTable
) -> Interest:
    """§288 BGB interest on ``principal`` from the day after ``due_date`` through ``on``.

    Days after the table's ``known_until`` are not charged (never at a guessed rate):
    the claim stops at the last known day and says so (``until``, ``rate_unknown_from``);
    the rest can be claimed once the rate is entered (ADR 0070)."""
    margin = BUSINESS_MARGIN if business else CONSUMER_MARGIN
    first = due_date + timedelta(days=1)
    last = min(on, table.known_until)
    unknown_from = table.known_until + timedelta(days=1) if on > table.known_until else None
    if on < first or principal <= ZERO or last < first:
        base = table.on(min(on, last))
        return Interest(ZERO, base + margin, base, margin, 0, None, rate_unknown_from=unknown_from)
    total = ZERO
    for start, end, base in table.periods(first, last):
        days = (end - start).days + 1
        total += principal * (base + margin) / Decimal(100) * Decimal(days) / DAYS_PER_YEAR
    base = table.on(last)
    return Interest(
        amount=total.quantize(CENT, rounding=ROUND_HALF_UP),
        rate_percent=base + margin,
        base_rate_percent=base,
        margin_points=margin,
        days=(last - due_date).days,
        since=first,
        until=last,
        rate_unknown_from=unknown_from,
    )


@dataclass(frozen=True)
class DunningLevel:
    level: int
    days: int
    """Days after the due date (level 1) or after the level before."""
    fee: Decimal

    @property
    def name(self) -> str:
        return LEVEL_NAMES[self.level]


@dataclass(frozen=True)
class DunningPolicy:
    levels: tuple[DunningLevel, ...] = (
        DunningLevel(1, 7, Decimal("0.00")),
        DunningLevel(2, 14, Decimal("2.50")),
        DunningLevel(3, 14, Decimal("5.00")),
    )
    pay_within_days: int = 10
    """The new deadline each document sets."""
    prefix: str = "MA-"
    interest_from_level: int = 2
    """Interest and the business flat fee are claimed from this level on."""
    base_rates: BaseRateTable = field(default_factory=BaseRateTable)

    def __post_init__(self) -> None:
        if [lv.level for lv in self.levels] != list(range(1, len(self.levels) + 1)):
            raise Invalid("dunning levels must be 1, 2, 3 in order", field=("dunning_levels",))
        if any(lv.days < 1 or lv.fee < ZERO for lv in self.levels):
            raise Invalid("dunning levels need days >= 1 and fees >= 0", field=("dunning_levels",))

    def next_level(self, receivable: Receivable, today: date) -> DunningLevel | None:
        """The level due for ``receivable`` today, or None (not yet, stopped, or done)."""
        if receivable.dunning_stopped is not None or receivable.days_overdue(today) < 1:
            return None
        if receivable.dunning_level >= len(self.levels):
            return None
        level = self.levels[receivable.dunning_level]
        since = receivable.due_date if receivable.dunning_level == 0 else receivable.last_dunned_on
        assert since is not None  # a level was sent, so its day was kept
        return level if (today - since).days >= level.days else None

    def earliest_due_date(self, today: date) -> date:
        """Receivables due before this day may need a first reminder (the sweep's filter)."""
        return today - timedelta(days=self.levels[0].days - 1)


@dataclass
class DunningNotice:
    """One reminder or dunning notice as issued (never changed afterwards)."""

    number: str
    level: int
    invoice_number: str
    invoice_id: str
    order_id: str
    order_number: str | None
    issued_at: datetime
    issue_date: date
    currency: str
    invoice_date: date
    due_date: date
    days_overdue: int
    gross_total: Decimal
    paid: Decimal
    open_amount: Decimal
    fee: Decimal
    fees_total: Decimal
    """This level's fee plus those of the levels before."""
    interest: Decimal
    interest_rate_percent: Decimal
    base_rate_percent: Decimal
    interest_since: date | None
    flat_fee: Decimal
    business: bool
    pay_by: date
    buyer: Buyer
    seller: Seller
    interest_until: date | None = None
    """The last day the interest covers (notices before ADR 0070: none stored)."""
    base_rate_unknown_from: date | None = None
    """Set when the interest stops short of the issue date: no base rate known from it."""

    @property
    def name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def title(self) -> str:
        return LEVEL_TITLES[self.level]

    @property
    def total_claim(self) -> Decimal:
        return self.open_amount + self.fees_total + self.interest + self.flat_fee


def dunning_notice(
    receivable: Receivable,
    level: DunningLevel,
    policy: DunningPolicy,
    *,
    number: str,
    now: datetime,
    today: date,
    buyer: Buyer,
    seller: Seller,
) -> DunningNotice:
    """The document of ``level`` for ``receivable`` today; the receivable notes the level."""
    claims_interest = level.level >= policy.interest_from_level
    interest = default_interest(
        receivable.open_amount,
        receivable.due_date,
        today,
        business=receivable.business,
        table=policy.base_rates,
    )
    # §288 (5) BGB: claimed once per invoice; the later notices repeat the same claim
    flat = BUSINESS_FLAT_FEE if receivable.business and claims_interest else ZERO
    fees = sum((lv.fee for lv in policy.levels if lv.level <= level.level), ZERO)
    notice = DunningNotice(
        number=number,
        level=level.level,
        invoice_number=receivable.invoice_number,
        invoice_id=receivable.invoice_id,
        order_id=receivable.order_id,
        order_number=receivable.order_number,
        issued_at=now,
        issue_date=today,
        currency=receivable.currency,
        invoice_date=receivable.issue_date,
        due_date=receivable.due_date,
        days_overdue=receivable.days_overdue(today),
        gross_total=receivable.amount_due,
        paid=max(receivable.paid, ZERO),
        open_amount=receivable.open_amount,
        fee=level.fee,
        fees_total=fees,
        interest=interest.amount if claims_interest else ZERO,
        interest_rate_percent=interest.rate_percent,
        base_rate_percent=interest.base_rate_percent,
        interest_since=interest.since if claims_interest else None,
        interest_until=interest.until if claims_interest else None,
        base_rate_unknown_from=interest.rate_unknown_from if claims_interest else None,
        flat_fee=flat,
        business=receivable.business,
        pay_by=today + timedelta(days=policy.pay_within_days),
        buyer=buyer,
        seller=seller,
    )
    receivable.dunning_level = level.level
    receivable.last_dunned_on = today
    return notice
