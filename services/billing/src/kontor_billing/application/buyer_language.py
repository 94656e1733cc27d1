"""The language of a buyer's documents (issue 11: "English as an option per buyer"), and
the days to pay agreed with them (issue 12: payment terms per customer).

The order's locale decides the language when it has one (``OrderPlaced.locale``);
otherwise the merchant's choice for the buyer's e-mail when the invoice is issued;
otherwise German. The days to pay are the merchant's choice for the e-mail, else
``PAYMENT_TERM_DAYS`` (14). Both are kept on the document (its buyer snapshot), so a
later change of a choice does not change an issued document or its due date.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.order import BilledOrder

Language = Literal["de", "en"]


async def set_buyer_language(uow: BillingUnitOfWork, email: str, language: Language) -> None:
    """Documents issued from now on for ``email`` (without a locale of their own) use it."""
    await uow.buyer_languages.set(email, language)


async def set_buyer_terms(uow: BillingUnitOfWork, email: str, days: int) -> None:
    """Invoices issued from now on for ``email`` are due ``days`` after their date."""
    await uow.buyer_terms.set(email, days)


async def with_buyer_language(uow: BillingUnitOfWork, order: BilledOrder) -> BilledOrder:
    """``order`` with its buyer's choices decided: the language (the locale, the choice,
    German) and the days to pay (the choice; none: the default)."""
    placed = order.placed
    if placed is None:
        return order
    buyer = placed.buyer
    if buyer.language is None:
        buyer = replace(buyer, language=await uow.buyer_languages.get(buyer.email) or "de")
    if buyer.payment_term_days is None:
        buyer = replace(buyer, payment_term_days=await uow.buyer_terms.get(buyer.email))
    order.placed = replace(placed, buyer=buyer)
    return order
