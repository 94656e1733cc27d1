"""The steps of the withdrawal page (``GET /withdrawals`` and its form posts), over the
same use cases as the JSON routes (``start_withdrawal``, ``confirm_withdrawal``).

Each step answers what the page shows: the withdrawal with the product names of its
lines (:class:`ShownWithdrawal`), or the refusal (:class:`Refused`, the domain error)
that the page explains in the customer's language. The JSON routes let the kit map the
same errors to problem+json; a page must show them in its own words instead, so the
refusal is caught here and the routes stay free of ``try``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import DomainError, Invalid
from kontor_servicekit.uow import Transactor

from kontor_orders.application.returns import confirm_withdrawal, start_withdrawal
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.order import Order
from kontor_orders.domain.parties import order_number_key
from kontor_orders.domain.returns import (
    Requested,
    Return,
    Withdrawal,
    cancels_order,
    identified,
)


@dataclass(frozen=True)
class ShownLine:
    line_no: int
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class ShownWithdrawal:
    """A withdrawal as the page shows it. ``withdrawal_id`` is None for the lines a
    customer may choose from (nothing stored yet); ``received_at`` is set once declared.

    ``cancels_order``: nothing is shipped yet, so there is no choice: the withdrawal is
    of the whole order and cancels it; once declared, ``refund`` is what was paid and is
    refunded (in ``currency``)."""

    withdrawal_id: str | None
    order_number: str
    lines: list[ShownLine]
    deadline: datetime | None
    received_at: datetime | None = None
    return_id: str | None = None
    cancels_order: bool = False
    refund: Decimal | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class Refused:
    """A step was refused; ``choices`` are the lines to choose from again, if any."""

    error: DomainError
    choices: ShownWithdrawal | None = None


def shown(withdrawal: Withdrawal, order: Order, declared: Return | None = None) -> ShownWithdrawal:
    """``withdrawal`` with the names of ``order``'s lines (and its return once declared)."""
    names = {line.line_no: line.name for line in order.lines}
    lines = declared.lines if declared is not None else withdrawal.lines
    return ShownWithdrawal(
        withdrawal_id=withdrawal.id if withdrawal.id else None,
        order_number=withdrawal.order_number,
        lines=[
            ShownLine(x.line_no, x.sku, names.get(x.line_no) or x.sku, x.quantity) for x in lines
        ],
        deadline=withdrawal.deadline,
        received_at=None if declared is None else declared.requested_at,
        return_id=None if declared is None else declared.id,
        cancels_order=withdrawal.cancels_order if declared is None else declared.cancelled_order,
        refund=declared.refund.amount
        if declared is not None and declared.cancelled_order and declared.refund is not None
        else None,
        currency=order.currency,
    )


def _identity(order_number: str, email: str) -> tuple[str, str]:
    number, address = order_number_key(order_number), email.strip()
    if not number:
        raise Invalid("give the order number", field=("order_number",), type_="missing")
    if not address:
        raise Invalid("give the e-mail address", field=("email",), type_="missing")
    return number, address


QUANTITY_FIELD = "quantity-"
#: The field the page posts instead of quantities when nothing is shipped yet.
WHOLE_ORDER_FIELD = "whole_order"


def chosen_lines(fields: Mapping[str, str]) -> Requested:
    """The lines a customer chose on the page: ``quantity-<line_no>`` fields, 0 or empty
    for a line kept. Whether the quantities fit the order is the domain's check."""
    lines: Requested = []
    for name, value in fields.items():
        if not name.startswith(QUANTITY_FIELD):
            continue
        line_no, given = name.removeprefix(QUANTITY_FIELD), value.strip() or "0"
        if not (line_no.isdigit() and given.isdigit()):
            raise Invalid("quantities are whole numbers", field=("lines",))
        if int(given) > 0:
            lines.append((int(line_no), int(given), None))
    return lines


async def lines_to_choose(
    transactor: Transactor[OrdersUnitOfWork], *, order_number: str, email: str, clock: Clock
) -> ShownWithdrawal | Refused:
    """Step 1 -> 2: the order named by number and e-mail, and what may be withdrawn from
    it now. Checks what ``start_withdrawal`` checks, but stores nothing."""
    now = clock()

    async def work(uow: OrdersUnitOfWork) -> ShownWithdrawal:
        number, address = _identity(order_number, email)
        order = identified(await uow.orders.by_number(number), number, address)
        preview = Withdrawal.start(withdrawal_id="", order=order, lines=None, now=now)
        return shown(preview, order)

    try:
        return await transactor.run(work)
    except DomainError as error:
        return Refused(error)


async def choose_lines(
    transactor: Transactor[OrdersUnitOfWork],
    *,
    order_number: str,
    email: str,
    fields: Mapping[str, str],
    clock: Clock,
) -> ShownWithdrawal | Refused:
    """Step 2 -> 3: the chosen lines (``fields`` of the form, see :func:`chosen_lines`)
    become a pending withdrawal (``start_withdrawal``); a choice that does not fit
    answers the lines to choose from again."""
    try:
        number, address = _identity(order_number, email)
        lines = chosen_lines(fields)
        if not lines and fields.get(WHOLE_ORDER_FIELD) == "yes":
            await _still_unshipped(transactor, number, address)
        elif not lines:
            raise Invalid("choose at least one line", field=("lines",), type_="missing")
        withdrawal = await start_withdrawal(
            transactor, order_number=number, email=address, lines=lines or None, clock=clock
        )
        order = await transactor.run(lambda uow: _order(uow, withdrawal.order_id))
        return shown(withdrawal, order)
    except Invalid as error:
        again = await lines_to_choose(
            transactor, order_number=order_number, email=email, clock=clock
        )
        return Refused(error, again if isinstance(again, ShownWithdrawal) else None)
    except DomainError as error:
        return Refused(error)


async def _still_unshipped(
    transactor: Transactor[OrdersUnitOfWork], number: str, address: str
) -> None:
    """The page offered the whole order (nothing shipped); if something has shipped since,
    the customer must choose lines after all (no lines would mean "everything shipped")."""

    async def work(uow: OrdersUnitOfWork) -> bool:
        return cancels_order(identified(await uow.orders.by_number(number), number, address))

    if not await transactor.run(work):
        raise Invalid("choose at least one line", field=("lines",), type_="missing")


async def declare(
    transactor: Transactor[OrdersUnitOfWork], withdrawal_id: str, clock: Clock, *, language: str
) -> ShownWithdrawal | Refused:
    """Step 3: "Widerruf bestätigen" declares the withdrawal (``confirm_withdrawal``); a
    second click answers the same receipt."""
    try:
        declared = await confirm_withdrawal(transactor, withdrawal_id, clock, language=language)
    except DomainError as error:
        return Refused(error)

    async def work(uow: OrdersUnitOfWork) -> ShownWithdrawal:
        withdrawal = await uow.withdrawals.get(withdrawal_id)
        assert withdrawal is not None
        return shown(withdrawal, await _order(uow, declared.order_id), declared)

    return await transactor.run(work)


async def _order(uow: OrdersUnitOfWork, order_id: str) -> Order:
    order = await uow.orders.get(order_id)
    assert order is not None, order_id  # a withdrawal's order is never deleted
    return order
