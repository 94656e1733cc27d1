"""Macros filled from what support knows about a ticket (no question to the customer).

The values come from the ticket view: the customer's name, the order the ticket is
about (the first linked, else the customer's newest), its newest shipment's tracking
link, the return instructions of the settings, and the withdrawal deadline: 14 days
after delivery (§ 355 BGB; the period starts with receipt of the goods), shown in the
macro's language. A value support does not know stays a placeholder, which the reply
route refuses: the agent fills it in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kontor_support.application.views import TicketView
from kontor_support.domain.macros import MACROS, Macro, fill, placeholders_in

__all__ = ["WITHDRAWAL_PERIOD", "filled_macro", "macro_values"]

WITHDRAWAL_PERIOD = timedelta(days=14)


def _order(view: TicketView) -> dict[str, Any] | None:
    for number in view.ticket.order_numbers:
        for order in view.orders:
            if order.get("order_number") == number:
                return order
    return view.orders[0] if view.orders else None  # newest first


def _date(at: datetime, language: str) -> str:
    return at.strftime("%d.%m.%Y") if language == "de" else at.strftime("%Y-%m-%d")


def macro_values(view: TicketView, language: str, *, return_instructions: str) -> dict[str, str]:
    """The placeholders' values support knows for ``view``'s ticket."""
    values: dict[str, str] = {"return_instructions": return_instructions}
    name = view.ticket.customer_name or (view.customer or {}).get("name")
    if name:
        values["customer_name"] = str(name)
    order = _order(view)
    if order is None:  # an order number in the mail, of an order support has not seen
        if view.ticket.order_numbers:
            values["order_number"] = view.ticket.order_numbers[0]
        return values
    if order.get("order_number"):
        values["order_number"] = str(order["order_number"])
    shipments = [s for s in order.get("shipments") or () if s.get("tracking_url")]
    if shipments:
        values["tracking_link"] = str(shipments[-1]["tracking_url"])
    delivered = order.get("delivered_at")
    if isinstance(delivered, datetime):
        values["withdrawal_deadline"] = _date(delivered + WITHDRAWAL_PERIOD, language)
    return values


def filled_macro(
    view: TicketView, macro_id: str, language: str, *, return_instructions: str
) -> tuple[Macro, str, list[str]] | None:
    """The macro in ``language``, its body filled for the ticket, the placeholders left."""
    macro = next((m for m in MACROS if m.id == macro_id and m.language == language), None)
    if macro is None:
        return None
    body = fill(macro.body, macro_values(view, language, return_instructions=return_instructions))
    return macro, body, placeholders_in(body)
