"""A quote's PDF, rendered on request (weasyprint, off the event loop).

A quote is not a GoBD document like an invoice: it is rendered from the stored quote
and the seller's current data each time (the prices and lines never change; the
letterhead follows the seller's data as last PUT).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.uow import Transactor

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.documents.from_quote import quote_document
from kontor_billing.documents.pdf import render_pdf
from kontor_billing.domain.quotes import Quote, UnknownQuote
from kontor_billing.domain.seller import EXAMPLE_SELLER, Seller, seller_missing_reason


def render(quote: Quote, seller: Seller) -> bytes:
    return render_pdf(quote_document(quote, seller))


class QuoteDocuments:
    def __init__(
        self,
        transactor: Transactor[BillingUnitOfWork],
        *,
        example_seller: bool,
        renderer: Callable[[Quote, Seller], bytes] = render,
    ) -> None:
        self.transactor = transactor
        self.example_seller = example_seller
        self.renderer = renderer

    async def pdf(self, number: str) -> bytes:
        async def load(uow: BillingUnitOfWork) -> tuple[Quote | None, Seller | None]:
            return await uow.quotes.get(number), await uow.seller.current()

        quote, seller = await self.transactor.run(load)
        if quote is None:
            raise UnknownQuote(number)
        if seller is None and self.example_seller:
            seller = EXAMPLE_SELLER
        reason = seller_missing_reason(seller)
        if seller is None or reason is not None:
            raise Conflict(f"no quote document without the seller's data: {reason}")
        return await asyncio.to_thread(self.renderer, quote, seller)
