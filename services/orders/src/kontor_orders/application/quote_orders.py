"""An accepted quote becomes an order: billing's ``QuoteAccepted`` -> the order, placed
at the quoted prices (not the catalog's current ones), once per quote number.

Once: the order's id is derived from the quote number, so a second QuoteAccepted for
the same quote (a replay, a duplicate from outside the inbox) finds the order it made
and changes nothing. From then on it is an order like any other: the catalog reserves
its stock, it is confirmed, billing invoices it.
"""

from __future__ import annotations

import uuid

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import QuoteAccepted
from kontor_contracts.events.common import Address as AddressEvent
from kontor_servicekit.clock import BERLIN

from kontor_orders.application.contract_events import publish_order
from kontor_orders.application.place_order import free_number
from kontor_orders.application.unit_of_work import OrderNumbers, OrdersUnitOfWork
from kontor_orders.domain.order import Address, Customer, Order, PricedProduct

#: The namespace of the order ids derived from quote numbers.
QUOTE_ORDERS = uuid.UUID("1b6e1e63-9a55-4a43-9d2c-6f8a3c1d7e10")


def order_id_of_quote(quote_number: str) -> str:
    return str(uuid.uuid5(QUOTE_ORDERS, quote_number))


class LateNumbers:
    """The order numbers, handed over once the service's store exists (``main.py``)."""

    def __init__(self) -> None:
        self.numbers: OrderNumbers | None = None

    async def next(self, key: str) -> int:
        assert self.numbers is not None, "the order numbers were not wired"
        return await self.numbers.next(key)


def _address(a: AddressEvent) -> Address:
    return Address(
        name=a.name,
        company=a.company,
        street=a.street,
        postcode=a.postcode,
        city=a.city,
        country=a.country,
    )


async def on_quote_accepted(
    event: QuoteAccepted,
    uow: OrdersUnitOfWork,
    env: Envelope,
    *,
    numbers: OrderNumbers,
) -> None:
    """Placed when the quote was accepted (the event's time, not the clock: a late
    delivery does not move when it happened)."""
    order_id = order_id_of_quote(event.quote_number)
    if await uow.orders.get(order_id) is not None:
        return  # this quote's order exists: once per quote
    now = event.accepted_at
    quoted = {
        line.sku: PricedProduct(
            sku=line.sku,
            name=line.name,
            price_net=line.unit_price_net,
            price_gross=line.unit_price_gross,
            vat_rate=line.vat_rate,
            currency=event.currency,
        )
        for line in event.lines
    }
    billing = _address(event.billing_address)
    order = Order.place(
        order_id=order_id,
        number=await free_number(uow, numbers, now.astimezone(BERLIN).year),
        customer=Customer(
            email=event.customer.email,
            name=event.customer.name,
            customer_id=event.customer.customer_id,
        ),
        shipping_address=billing
        if event.shipping_address is None
        else _address(event.shipping_address),
        billing_address=billing,
        requested=[(line.sku, line.quantity) for line in event.lines],
        products=quoted,
        now=now,
        buyer_vat_id=event.buyer_vat_id,
        buyer_reference=event.buyer_reference,
        quote_number=event.quote_number,
    )
    await uow.orders.add(order)
    publish_order(uow, order)
