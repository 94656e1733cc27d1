"""Tickets from analytics' alerts (issue 14: "KpiThresholdBreached for a product ...
open or update a ticket"; ADR 0045).

A breach whose ``subject`` is a product (``sku:TEE-RED-M``: a return rate too high, a
top seller out of stock) is work for support: customers will ask, complain or return,
and an agent should look at the product (its description, its sizes, the supplier)
before they do. It opens a ticket of category ``product``, threaded by rule and product
(``external_conversation_id`` ``kpi:<rule>:<sku>``): a new breach of the same rule and
product while that ticket is not closed adds its figures to it (a solved one opens
again); after it was closed, the next breach opens a new ticket. Shop-wide figures (no
subject: conversion, checkout errors) are no customer contact and open nothing.
Each breach is announced once (ADR 0093) and the consumer's inbox drops a redelivery.
"""

from __future__ import annotations

from datetime import datetime

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.analytics import KpiThresholdBreached
from kontor_servicekit.clock import BERLIN, Clock

from kontor_support.application.tickets import new_ticket, store_event_note
from kontor_support.application.unit_of_work import SupportUnitOfWork

__all__ = ["on_kpi_threshold_breached", "product_of"]

#: The words the ticket uses for analytics' figures (others keep their name).
KPI_NAMES = {
    "return_rate": "Retourenquote",
    "top_seller_out_of_stock": "Topseller ausverkauft",
    "stock": "Bestand",
}

#: The ticket's priority by the rule's severity (none given: normal).
PRIORITY_OF_SEVERITY = {"critical": "urgent", "warning": "high", "info": "normal"}


def product_of(subject: str | None) -> str | None:
    """The SKU of a breach's subject (``sku:TEE-RED-M``); None for anything else."""
    if subject is None or not subject.startswith("sku:"):
        return None
    sku = subject.removeprefix("sku:").strip()
    return sku or None


def _day(at: datetime) -> str:
    return f"{at.astimezone(BERLIN):%d.%m.%Y %H:%M}"


def _note(event: KpiThresholdBreached, sku: str, product: dict[str, object] | None) -> str:
    what = KPI_NAMES.get(event.kpi, event.kpi)
    name = f" ({product['name']})" if product and product.get("name") else ""
    unit = f" {event.currency or event.unit}" if (event.currency or event.unit) else ""
    side = "über" if event.direction == "above" else "unter"
    stock = f" Bestand laut Katalog: {product['stock']}." if product and "stock" in product else ""
    return (
        f"{what} von {sku}{name} {side} der Schwelle: {event.value}{unit} "
        f"(Schwelle {event.threshold}{unit}), {_day(event.window_start)} bis "
        f"{_day(event.window_end)}.{stock} Regel {event.rule_id or '-'}, "
        f"Meldung {event.breach_id or '-'} der Analyse. Produktbeschreibung, Größen und "
        "Lieferanten prüfen, bevor Kundinnen und Kunden fragen."
    )


async def on_kpi_threshold_breached(
    event: KpiThresholdBreached, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    sku = product_of(event.subject)
    if sku is None:
        return  # a figure of the whole shop: nobody to help, nothing for support
    at = envelope.occurred_at
    product = await uow.products.get(sku)
    conversation = f"kpi:{event.rule_id or event.kpi}:{sku}"
    what = KPI_NAMES.get(event.kpi, event.kpi)
    ticket = await uow.tickets.open_by_conversation("web", conversation)
    created = ticket is None
    if ticket is None:
        ticket = await new_ticket(
            uow,
            at,
            subject=f"Auffällige Kennzahl: {what} {sku}",
            channel="web",
            actor="system",
            priority=PRIORITY_OF_SEVERITY.get(event.severity or "", "normal"),
            category="product",
            source=f"KpiThresholdBreached:{event.breach_id or envelope.id}",
            external_conversation_id=conversation,
            tags=("kennzahl", event.kpi.lower()),
        )
        ticket.waiting_since = at  # an agent should look at it: the SLA clock runs
    else:
        ticket.customer_wrote(at, actor="system")  # a solved one opens again
    await store_event_note(
        uow, ticket, created=created, body=_note(event, sku, product), at=at, author="analytics"
    )
