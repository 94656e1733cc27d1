"""The language of a buyer's documents (issue 11: "English as an option per buyer").

The order's locale decides when it has one (``OrderPlaced.locale``); otherwise the
merchant's choice for the buyer's e-mail when the invoice is issued; otherwise German.
The language is then kept on the document (its buyer snapshot), so a later change of the
choice does not change an issued document.
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


async def with_buyer_language(uow: BillingUnitOfWork, order: BilledOrder) -> BilledOrder:
    """``order`` with its buyer's language decided (the locale, the choice, German)."""
    placed = order.placed
    if placed is None or placed.buyer.language is not None:
        return order
    language = await uow.buyer_languages.get(placed.buyer.email) or "de"
    order.placed = replace(placed, buyer=replace(placed.buyer, language=language))
    return order
