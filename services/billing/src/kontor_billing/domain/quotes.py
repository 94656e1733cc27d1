"""Quotes (Angebote): prices frozen for a buyer until a validity date.

A quote is priced once, when it is made, from billing's read model of the catalog;
from then on its prices are its own (a later price change in the catalog does not
touch them). It is ``open`` until the buyer accepts or declines it, or until
``valid_until`` passes: then it is ``expired`` and can no longer be accepted. Only an
accepted quote becomes an order (orders places it at the quoted prices).

Numbers: their own gap-free range per year, ``AN-YYYY-NNNNNN`` (the prefix a setting),
taken from the same kind of sequence as the invoices' numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound

from kontor_billing.domain.events import QuoteWasAccepted, QuoteWasDeclined, QuoteWasExpired
from kontor_billing.domain.invoice import document_number, numbering_year

QuoteState = Literal["open", "accepted", "declined", "expired"]

HUNDRED = Decimal(100)
#: A quote is valid for at most this long (a quote's prices should not outlive a year).
MAX_VALIDITY = timedelta(days=366)


class UnknownQuote(NotFound):
    def __init__(self, number: str) -> None:
        super().__init__("quote", number)


def email_search_key(email: str) -> str:
    """How quotes are found by e-mail: trimmed, lower case, as invoices and receivables
    are (``GET /quotes?customer_email=`` is case-insensitive)."""
    return email.strip().lower()


@dataclass(frozen=True)
class QuoteBuyer:
    """Who the quote is for: the order's customer and billing address, in one."""

    email: str
    name: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None
    customer_id: str | None = None
    vat_id: str | None = None
    buyer_reference: str | None = None


@dataclass(frozen=True)
class QuoteAddress:
    """Where the goods go, when not to the buyer's address."""

    name: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None


@dataclass(frozen=True)
class CatalogPrice:
    """What billing knows of a product from the catalog's events, at quoting time."""

    sku: str
    name: str
    price_net: Decimal
    price_gross: Decimal
    vat_rate: Decimal
    currency: str
    discontinued: bool = False


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    sku: str
    name: str
    quantity: int
    list_price_net: Decimal
    """The catalog's net per piece when the quote was made (before the discount)."""
    unit_price_net: Decimal
    """The quoted net per piece (after the discount): what the order will charge."""
    unit_price_gross: Decimal
    vat_rate: Decimal

    @property
    def line_net(self) -> Decimal:
        return self.unit_price_net * self.quantity

    @property
    def line_gross(self) -> Decimal:
        return self.unit_price_gross * self.quantity


def quote_number(prefix: str, year: int, sequence: int) -> str:
    """``AN-2026-000001``: the quotes' own range, gap-free per year."""
    return document_number(prefix, year, sequence)


def quote_year(now: datetime) -> int:
    return numbering_year(now)


def _discounted(amount: Decimal, percent: Decimal, places: int) -> Decimal:
    """``amount`` less ``percent`` %, rounded half up to ``places`` (4 for a net unit
    price, as the catalog keeps them; 2 for a displayed gross)."""
    if not percent:
        return amount
    exact = amount * (HUNDRED - percent) / HUNDRED
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def price_lines(
    requested: list[tuple[str, int]],
    prices: dict[str, CatalogPrice],
    *,
    discount_percent: Decimal,
) -> tuple[QuoteLine, ...]:
    """The quote's lines priced now: every SKU known, on sale, one currency."""
    if not requested:
        raise Invalid("a quote needs at least one line", field=("lines",), type_="too_short")
    if not Decimal(0) <= discount_percent < HUNDRED:
        raise Invalid("a discount from 0 to below 100 %", field=("discount_percent",))
    lines: list[QuoteLine] = []
    seen: set[str] = set()
    for index, (sku, quantity) in enumerate(requested):
        where = ("lines", index, "sku")
        if sku in seen:
            raise Invalid(f"{sku!r} is on the quote twice: one line per article", field=where)
        seen.add(sku)
        price = prices.get(sku)
        if price is None:
            raise Invalid(f"no product {sku!r} in the catalog", field=where, type_="unknown_sku")
        if price.discontinued:
            raise Invalid(f"{sku!r} is discontinued", field=where, type_="discontinued")
        lines.append(
            QuoteLine(
                line_no=index + 1,
                sku=sku,
                name=price.name,
                quantity=quantity,
                list_price_net=price.price_net,
                unit_price_net=_discounted(price.price_net, discount_percent, 4),
                unit_price_gross=_discounted(price.price_gross, discount_percent, 2),
                vat_rate=price.vat_rate,
            )
        )
    currencies = {prices[line.sku].currency for line in lines}
    if len(currencies) != 1:
        raise Invalid("all lines of a quote in one currency", field=("lines",))
    return tuple(lines)


def end_of_day(day: date) -> datetime:
    """A quote valid until a day is valid through that day, in Berlin."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)


def default_valid_until(now: datetime, validity: timedelta) -> date:
    return (now + validity).astimezone(BERLIN).date()


@dataclass
class Quote(RecordsEvents):
    number: str
    buyer: QuoteBuyer
    lines: tuple[QuoteLine, ...]
    currency: str
    created_at: datetime
    valid_until: date
    discount_percent: Decimal = Decimal(0)
    notes: str | None = None
    shipping_address: QuoteAddress | None = None
    state: QuoteState = "open"
    decided_at: datetime | None = None
    language: Literal["de", "en"] = "de"
    history: list[tuple[str, datetime]] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        *,
        number: str,
        buyer: QuoteBuyer,
        lines: tuple[QuoteLine, ...],
        currency: str,
        now: datetime,
        valid_until: date,
        discount_percent: Decimal = Decimal(0),
        notes: str | None = None,
        shipping_address: QuoteAddress | None = None,
        language: Literal["de", "en"] = "de",
    ) -> Quote:
        today = now.astimezone(BERLIN).date()
        if valid_until < today:
            raise Invalid("valid_until lies in the past", field=("valid_until",))
        if valid_until > (now + MAX_VALIDITY).astimezone(BERLIN).date():
            raise Invalid("a quote is valid for at most a year", field=("valid_until",))
        return cls(
            number=number,
            buyer=buyer,
            lines=lines,
            currency=currency,
            created_at=now,
            valid_until=valid_until,
            discount_percent=discount_percent,
            notes=notes,
            shipping_address=shipping_address,
            language=language,
            history=[("open", now)],
        )

    @property
    def expires_at(self) -> datetime:
        return end_of_day(self.valid_until)

    @property
    def net_total(self) -> Decimal:
        return sum((line.line_net for line in self.lines), Decimal(0))

    @property
    def gross_total(self) -> Decimal:
        return sum((line.line_gross for line in self.lines), Decimal(0))

    def is_due_to_expire(self, now: datetime) -> bool:
        return self.state == "open" and now >= self.expires_at

    def _decide(self, state: QuoteState, action: str, now: datetime) -> None:
        if self.state != "open":
            raise IllegalTransition(f"quote {self.number}", action, self.state)
        self.state = state
        self.decided_at = now
        self.history.append((state, now))

    def accept(self, now: datetime) -> None:
        """The buyer accepts: only an open quote, and only through ``valid_until``."""
        if self.is_due_to_expire(now):
            raise IllegalTransition(f"quote {self.number}", "accept", "expired")
        self._decide("accepted", "accept", now)
        self.record(QuoteWasAccepted(self.number))

    def decline(self, now: datetime) -> None:
        self._decide("declined", "decline", now)
        self.record(QuoteWasDeclined(self.number))

    def expire(self, now: datetime) -> None:
        """The sweeper's step: an open quote past its validity closes itself."""
        if not self.is_due_to_expire(now):
            return
        self._decide("expired", "expire", now)
        self.record(QuoteWasExpired(self.number))
