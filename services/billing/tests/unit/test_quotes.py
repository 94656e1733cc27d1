"""Quotes over the in-memory unit of work: priced from the catalog read model and frozen,
their own gap-free numbers, validity through a day in Berlin, expiry by the sweeper."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.quote_documents import QuoteDocuments
from kontor_billing.application.quotes import (
    MakeQuote,
    QuotePolicy,
    accept_quote,
    decline_quote,
    expire_quotes,
    make_quote,
    project_price_changed,
    project_product_created,
)
from kontor_billing.domain.quotes import QuoteBuyer, UnknownQuote, email_search_key
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import QuoteAccepted
from kontor_contracts.events.catalog import ProductCreated, ProductPriceChanged
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid
from kontor_servicekit.fakes import FakeTransactor
from pypdf import PdfReader

pytestmark = pytest.mark.unit

Billing = FakeTransactor[InMemoryBillingUnitOfWork]
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = QuotePolicy(prefix="AN-", validity=timedelta(days=30))
BUYER = QuoteBuyer(
    email="einkauf@example.de",
    name="Erika Einkauf",
    company="Beispiel GmbH",
    street="Hauptstr. 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_id="DE123456789",
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def billing() -> Billing:
    return FakeTransactor(InMemoryBillingUnitOfWork)


def _envelope(event: Any, at: datetime) -> Envelope:
    return Envelope.wrap(event, aggregate_id=event.sku, producer="catalog", occurred_at=at)


async def _catalog(billing: Billing, sku: str, net: str, gross: str, at: datetime) -> None:
    event = ProductCreated(
        sku=sku,
        name=f"Artikel {sku}",
        price_net=Decimal(net),
        price_gross=Decimal(gross),
        currency="EUR",
        vat_class="standard",
        vat_rate=Decimal("0.19"),
        stock=10,
    )
    await billing.run(lambda uow: project_product_created(event, uow, _envelope(event, at)))


async def _reprice(billing: Billing, sku: str, net: str, gross: str, at: datetime) -> None:
    event = ProductPriceChanged(
        sku=sku,
        old_price_net=Decimal("0"),
        new_price_net=Decimal(net),
        price_gross=Decimal(gross),
        currency="EUR",
        vat_class="standard",
        vat_rate=Decimal("0.19"),
        effective_at=at,
    )
    await billing.run(lambda uow: project_price_changed(event, uow, _envelope(event, at)))


def _command(**changes: Any) -> MakeQuote:
    values: dict[str, Any] = {"buyer": BUYER, "lines": [("TEE", 10), ("MUG", 2)]}
    values.update(changes)
    return MakeQuote(**values)


async def _quotable(billing: Billing) -> None:
    await _catalog(billing, "TEE", "16.80", "19.99", NOW - timedelta(days=1))
    await _catalog(billing, "MUG", "8.40", "10.00", NOW - timedelta(days=1))


async def test_a_quote_is_priced_from_the_catalog_and_numbered_in_its_own_range(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    first = await make_quote(billing, _command(), clock=clock, policy=POLICY)
    second = await make_quote(
        billing, _command(discount_percent=Decimal("10")), clock=clock, policy=POLICY
    )
    assert (first.number, second.number) == ("AN-2026-000001", "AN-2026-000002")
    assert first.valid_until == date(2027, 1, 1)  # 30 days, the setting
    assert [(x.sku, x.quantity, x.unit_price_net, x.unit_price_gross) for x in first.lines] == [
        ("TEE", 10, Decimal("16.80"), Decimal("19.99")),
        ("MUG", 2, Decimal("8.40"), Decimal("10.00")),
    ]
    tee = second.lines[0]
    assert (tee.list_price_net, tee.unit_price_net, tee.unit_price_gross) == (
        Decimal("16.80"),
        Decimal("15.1200"),
        Decimal("17.99"),
    )
    assert first.net_total == Decimal("184.80")
    assert billing.db.sequences == {"quote:2026": 2}


async def test_a_refused_quote_takes_no_number(billing: Billing, clock: FakeClock) -> None:
    await _quotable(billing)
    refusals = [
        _command(lines=[("NOPE", 1)]),
        _command(lines=[("TEE", 1), ("TEE", 2)]),
        _command(valid_until=date(2026, 12, 1)),
        _command(valid_until=date(2028, 1, 1)),
        _command(valid_until=date(9999, 12, 31)),  # no overflow at the end of the calendar
        _command(valid_until=date(1, 1, 1)),
        _command(discount_percent=Decimal("100")),
        _command(lines=[]),
    ]
    for command in refusals:
        with pytest.raises(Invalid):
            await make_quote(billing, command, clock=clock, policy=POLICY)
    assert billing.db.sequences == {}
    assert (await make_quote(billing, _command(), clock=clock, policy=POLICY)).number == (
        "AN-2026-000001"
    )


async def test_quoted_prices_stay_frozen_when_the_catalog_changes_and_travel_on_acceptance(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    quote = await make_quote(billing, _command(), clock=clock, policy=POLICY)
    await _reprice(billing, "TEE", "25.21", "30.00", NOW + timedelta(hours=1))
    clock.advance(timedelta(days=3))
    accepted = await accept_quote(billing, quote.number, clock=clock)
    assert accepted.state == "accepted"
    [emitted] = billing.db.outbox
    event = emitted.event
    assert isinstance(event, QuoteAccepted)
    assert emitted.aggregate_id == quote.number
    assert [(x.sku, x.unit_price_net, x.unit_price_gross) for x in event.lines] == [
        ("TEE", Decimal("16.80"), Decimal("19.99")),
        ("MUG", Decimal("8.40"), Decimal("10.00")),
    ]
    assert (event.buyer_vat_id, event.billing_address.company) == ("DE123456789", "Beispiel GmbH")
    # a new quote takes today's price
    newer = await make_quote(billing, _command(lines=[("TEE", 1)]), clock=clock, policy=POLICY)
    assert newer.lines[0].unit_price_gross == Decimal("30.00")


async def test_a_late_older_price_event_does_not_overwrite_a_newer_one(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    await _reprice(billing, "TEE", "25.21", "30.00", NOW - timedelta(hours=1))
    await _reprice(billing, "TEE", "12.60", "15.00", NOW - timedelta(hours=2))  # older, late
    quote = await make_quote(billing, _command(lines=[("TEE", 1)]), clock=clock, policy=POLICY)
    assert quote.lines[0].unit_price_gross == Decimal("30.00")


async def test_valid_through_the_last_day_in_berlin_then_expired_by_the_sweeper(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    quote = await make_quote(
        billing, _command(valid_until=date(2026, 12, 10)), clock=clock, policy=POLICY
    )
    other = await make_quote(billing, _command(), clock=clock, policy=POLICY)  # until 1 Jan
    clock.set(datetime(2026, 12, 10, 22, 59, tzinfo=UTC))  # 23:59 in Berlin: still valid
    assert await expire_quotes(billing, clock=clock) == 0
    clock.set(datetime(2026, 12, 10, 23, 0, tzinfo=UTC))  # midnight in Berlin
    assert await expire_quotes(billing, clock=clock) == 1
    assert await expire_quotes(billing, clock=clock) == 0  # once
    with pytest.raises(IllegalTransition) as refused:
        await accept_quote(billing, quote.number, clock=clock)
    assert "expired" in str(refused.value)
    assert billing.db.outbox == []
    assert (await accept_quote(billing, other.number, clock=clock)).state == "accepted"


async def test_an_expired_quote_is_refused_even_before_the_sweeper_ran(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    quote = await make_quote(
        billing, _command(valid_until=date(2026, 12, 2)), clock=clock, policy=POLICY
    )
    clock.advance(timedelta(days=1))
    with pytest.raises(IllegalTransition):
        await accept_quote(billing, quote.number, clock=clock)


async def test_a_decision_is_final(billing: Billing, clock: FakeClock) -> None:
    await _quotable(billing)
    declined = await make_quote(billing, _command(), clock=clock, policy=POLICY)
    assert (await decline_quote(billing, declined.number, clock=clock)).state == "declined"
    with pytest.raises(IllegalTransition):
        await accept_quote(billing, declined.number, clock=clock)
    accepted = await make_quote(billing, _command(), clock=clock, policy=POLICY)
    await accept_quote(billing, accepted.number, clock=clock)
    with pytest.raises(IllegalTransition):
        await accept_quote(billing, accepted.number, clock=clock)
    assert len(billing.db.outbox) == 1  # one QuoteAccepted, not two
    with pytest.raises(UnknownQuote):
        await accept_quote(billing, "AN-2026-999999", clock=clock)


async def test_the_quote_pdf_has_the_sellers_letterhead_and_says_angebot(
    billing: Billing, clock: FakeClock
) -> None:
    await _quotable(billing)
    quote = await make_quote(
        billing,
        _command(discount_percent=Decimal("10"), notes="Lieferung binnen 10 Werktagen."),
        clock=clock,
        policy=POLICY,
    )
    pdf = await QuoteDocuments(billing, example_seller=True).pdf(quote.number)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert f"Angebot {quote.number}" in text
    assert "Angebotsdatum 02.12.2026" in text
    assert "Gültig bis 01.01.2027" in text
    assert "Rechnung" not in text.replace("Rechnungsdatum", "")  # not an invoice
    assert EXAMPLE_SELLER.name in text and (EXAMPLE_SELLER.iban or "")[:4] in text
    assert "Lieferung binnen 10 Werktagen." in text
    assert "Nachlass von 10 %" in text
    with pytest.raises(UnknownQuote):
        await QuoteDocuments(billing, example_seller=True).pdf("AN-2026-999999")


def test_quotes_are_found_by_the_e_mail_in_any_case() -> None:
    """``GET /quotes?customer_email=`` matches as invoices do: trimmed, lower case."""
    assert email_search_key(" Anna.Muster@Example.DE ") == "anna.muster@example.de"
    assert email_search_key("anna.muster@example.de") == email_search_key("ANNA.MUSTER@EXAMPLE.DE")
