"""Quotes: make one from the catalog's prices, accept, decline, expire; and the catalog
read model they are priced from (catalog events -> ``quote_catalog``).

An accepted quote emits ``QuoteAccepted`` (billing.quote.v1) with the quoted lines;
orders places the order from it at those prices, once per quote number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Literal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import QuoteAccepted, QuotedLine
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_contracts.events.common import Address, Customer
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.events import QuoteWasAccepted
from kontor_billing.domain.quotes import (
    Quote,
    QuoteAddress,
    QuoteBuyer,
    UnknownQuote,
    default_valid_until,
    price_lines,
    quote_number,
    quote_year,
)

#: How many due quotes one sweep expires at most (the rest in the next round).
SWEEP_BATCH = 200


@dataclass(frozen=True)
class QuotePolicy:
    prefix: str = "AN-"
    validity: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class MakeQuote:
    buyer: QuoteBuyer
    lines: list[tuple[str, int]]
    valid_until: date | None = None
    discount_percent: Decimal = Decimal(0)
    notes: str | None = None
    shipping_address: QuoteAddress | None = None
    language: Literal["de", "en"] = "de"


async def make_quote(
    transactor: Transactor[BillingUnitOfWork],
    command: MakeQuote,
    *,
    clock: Clock,
    policy: QuotePolicy,
) -> Quote:
    """Price the lines from the catalog read model now and store the quote, numbered."""
    now = clock()

    async def work(uow: BillingUnitOfWork) -> Quote:
        prices = await uow.catalog.prices([sku for sku, _ in command.lines])
        lines = price_lines(command.lines, prices, discount_percent=command.discount_percent)
        make = partial(
            Quote.make,
            buyer=command.buyer,
            lines=lines,
            currency=prices[lines[0].sku].currency,
            now=now,
            valid_until=command.valid_until or default_valid_until(now, policy.validity),
            discount_percent=command.discount_percent,
            notes=command.notes,
            shipping_address=command.shipping_address,
            language=command.language,
        )
        make(number="pending")  # refused before a number is taken: the range stays gap-free
        year = quote_year(now)
        quote = make(
            number=quote_number(policy.prefix, year, await uow.next_sequence(f"quote:{year}"))
        )
        await uow.quotes.add(quote)
        return quote

    return await transactor.run(work)


async def _decide(
    transactor: Transactor[BillingUnitOfWork],
    number: str,
    change: Literal["accept", "decline"],
    clock: Clock,
) -> Quote:
    now = clock()

    async def work(uow: BillingUnitOfWork) -> Quote:
        quote = await uow.quotes.get(number)
        if quote is None:
            raise UnknownQuote(number)
        getattr(quote, change)(now)
        await uow.quotes.save(quote)
        _publish(uow, quote)
        return quote

    return await transactor.run(work)


async def accept_quote(
    transactor: Transactor[BillingUnitOfWork], number: str, *, clock: Clock
) -> Quote:
    """The buyer accepts (409 when expired, declined or accepted already)."""
    return await _decide(transactor, number, "accept", clock)


async def decline_quote(
    transactor: Transactor[BillingUnitOfWork], number: str, *, clock: Clock
) -> Quote:
    return await _decide(transactor, number, "decline", clock)


async def expire_quotes(transactor: Transactor[BillingUnitOfWork], *, clock: Clock) -> int:
    """The sweeper's step: every open quote past its validity becomes ``expired``, each
    in a unit of work of its own that re-checks it. Returns how many expired."""
    now = clock()

    async def due(uow: BillingUnitOfWork) -> list[str]:
        return await uow.quotes.due_to_expire(now, SWEEP_BATCH)

    expired = 0
    for number in await transactor.run(due):

        async def one(uow: BillingUnitOfWork, number: str = number) -> bool:
            quote = await uow.quotes.get(number)
            if quote is None or not quote.is_due_to_expire(now):
                return False
            quote.expire(now)
            await uow.quotes.save(quote)
            quote.pull_events()
            return True

        expired += await transactor.run(one)
    return expired


def _publish(uow: BillingUnitOfWork, quote: Quote) -> None:
    for event in quote.pull_events():
        if isinstance(event, QuoteWasAccepted):
            uow.emit(quote_accepted(quote), aggregate_id=quote.number)


def quote_accepted(quote: Quote) -> QuoteAccepted:
    b = quote.buyer
    assert quote.decided_at is not None
    ship = quote.shipping_address
    return QuoteAccepted(
        quote_number=quote.number,
        customer=Customer(customer_id=b.customer_id, email=b.email, name=b.name),
        billing_address=Address(
            name=b.name,
            company=b.company,
            street=b.street,
            postcode=b.postcode,
            city=b.city,
            country=b.country,
        ),
        shipping_address=None
        if ship is None
        else Address(
            name=ship.name,
            company=ship.company,
            street=ship.street,
            postcode=ship.postcode,
            city=ship.city,
            country=ship.country,
        ),
        buyer_vat_id=b.vat_id,
        buyer_reference=b.buyer_reference,
        currency=quote.currency,
        lines=[
            QuotedLine(
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price_net=line.unit_price_net,
                unit_price_gross=line.unit_price_gross,
                vat_rate=line.vat_rate,
            )
            for line in quote.lines
        ],
        valid_until=quote.valid_until,
        accepted_at=quote.decided_at,
    )


# --- the catalog read model quotes are priced from ---------------------------------


async def project_product_created(
    event: ProductCreated, uow: BillingUnitOfWork, env: Envelope
) -> None:
    await uow.catalog.apply(
        event.sku,
        {
            "name": event.name,
            "price_net": event.price_net,
            "price_gross": event.price_gross,
            "vat_rate": event.vat_rate,
            "currency": event.currency,
            "discontinued": False,
        },
        env.occurred_at,
    )


async def project_product_updated(
    event: ProductUpdated, uow: BillingUnitOfWork, env: Envelope
) -> None:
    if "name" in event.changed_fields and event.name:
        await uow.catalog.apply(event.sku, {"name": event.name}, env.occurred_at)


async def project_price_changed(
    event: ProductPriceChanged, uow: BillingUnitOfWork, env: Envelope
) -> None:
    await uow.catalog.apply(
        event.sku,
        {
            "price_net": event.new_price_net,
            "price_gross": event.price_gross,
            "vat_rate": event.vat_rate,
            "currency": event.currency,
        },
        env.occurred_at,
    )


async def project_discontinued(
    event: ProductDiscontinued, uow: BillingUnitOfWork, env: Envelope
) -> None:
    await uow.catalog.apply(event.sku, {"discontinued": True}, env.occurred_at)
