"""Returns: the customer's two-step withdrawal (Widerruf), merchant returns, and the
receipt that settles a return (ReturnReceived, then ReturnCompleted with the refund)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kontor_contracts.events.orders import (
    ReceivedReturnLine,
    ReturnCompleted,
    ReturnReceived,
    ReturnRequested,
    ShippedLine,
)
from kontor_contracts.events.orders import ReturnLine as ReturnLineEvent
from kontor_servicekit.store import Store, Transaction

from kontor_orders.application.order_life import UnknownOrder
from kontor_orders.domain.order import IllegalTransition, Order
from kontor_orders.domain.returns import (
    Return,
    ReturnLine,
    check_withdrawal_allowed,
    refund_for,
    return_lines,
    whole_order_returned,
)
from kontor_orders.store.orders import OrderRepository
from kontor_orders.store.returns import (
    WITHDRAWALS,
    ReturnRepository,
    new_withdrawal_document,
)


class UnknownReturn(LookupError):
    pass


class UnknownWithdrawal(LookupError):
    pass


class OverrideNeedsNote(ValueError):
    pass


Requested = list[tuple[int, int, str | None]]


def _all_open_lines(order: Order) -> Requested:
    return [
        (line.line_no, open_, None)
        for line in order.lines
        if (open_ := order.shipped_quantity(line.line_no) - order.returned.get(line.line_no, 0)) > 0
    ]


def _requested_event(r: Return) -> ReturnRequested:
    return ReturnRequested(
        return_id=r.id,
        order_id=r.order_id,
        lines=[
            ReturnLineEvent(sku=x.sku, quantity=x.quantity, reason=x.reason, line_no=x.line_no)
            for x in r.lines
        ],
        requested_at=r.requested_at,
        withdrawal=r.withdrawal,
    )


@dataclass(frozen=True)
class PendingWithdrawal:
    id: str
    order_number: str
    lines: list[ReturnLine]
    deadline: datetime | None
    created_at: datetime


def _matches(order: Order | None, email: str) -> Order:
    # one answer for "no such number" and "wrong e-mail": the number alone reveals nothing
    if order is None or order.customer.email.casefold() != email.strip().casefold():
        raise UnknownOrder("no order with this number and e-mail address")
    return order


async def start_withdrawal(
    store: Store, *, order_number: str, email: str, lines: Requested | None, now: datetime
) -> PendingWithdrawal:
    """Step 1: identify the order, choose the lines; nothing is declared yet."""
    withdrawal_id = str(uuid.uuid4())

    async def work(tx: Transaction) -> PendingWithdrawal:
        order = _matches(await OrderRepository(tx).by_number(order_number), email)
        deadline = check_withdrawal_allowed(order, now)
        chosen = return_lines(order, lines or _all_open_lines(order))  # validates; not saved
        await tx.db[WITHDRAWALS].insert_one(
            new_withdrawal_document(
                withdrawal_id=withdrawal_id,
                order_id=order.id,
                order_number=order.number,
                lines=chosen,
                deadline=deadline,
                now=now,
            ),
            session=tx.session,
        )
        return PendingWithdrawal(withdrawal_id, order.number, chosen, deadline, now)

    return await store.transaction(work)


async def confirm_withdrawal(store: Store, withdrawal_id: str, now: datetime) -> Return:
    """Step 2: the declaration. Received now; the period is checked against now."""

    async def work(tx: Transaction) -> Return:
        pending = await tx.db[WITHDRAWALS].find_one({"_id": withdrawal_id}, session=tx.session)
        if pending is None:
            raise UnknownWithdrawal(withdrawal_id)
        if pending["status"] != "pending":
            raise IllegalTransition("confirm", pending["status"])
        orders = OrderRepository(tx)
        order = await orders.get(pending["order_id"])
        assert order is not None
        deadline = check_withdrawal_allowed(order, now)
        chosen = return_lines(
            order, [(x["line_no"], x["quantity"], x["reason"]) for x in pending["lines"]]
        )
        r = Return(
            id=str(uuid.uuid4()),
            order_id=order.id,
            order_number=order.number,
            withdrawal=True,
            kind="withdrawal",
            lines=chosen,
            requested_at=now,
            deadline=deadline,
        )
        order.note("withdrawal_declared", now, return_id=r.id, withdrawal_id=withdrawal_id)
        await orders.save(order)
        await ReturnRepository(tx).add(r)
        await tx.db[WITHDRAWALS].update_one(
            {"_id": withdrawal_id},
            {"$set": {"status": "confirmed", "confirmed_at": now, "return_id": r.id}},
            session=tx.session,
        )
        tx.emit(_requested_event(r), aggregate_id=r.id)
        return r

    return await store.transaction(work)


async def request_return(
    store: Store,
    *,
    order_id: str,
    lines: Requested,
    withdrawal: bool,
    kind: str,
    note: str | None,
    override_deadline: bool,
    now: datetime,
) -> Return:
    """A return the merchant records (by phone, letter, complaint or goodwill).

    A withdrawal after the period is refused (DeadlinePassed) unless the merchant
    overrides it, which needs a note saying why.
    """
    if override_deadline and not (note and note.strip()):
        raise OverrideNeedsNote("an override needs a note")

    async def work(tx: Transaction) -> Return:
        orders = OrderRepository(tx)
        order = await orders.get(order_id)
        if order is None:
            raise UnknownOrder(order_id)
        deadline = None
        if withdrawal and not override_deadline:
            deadline = check_withdrawal_allowed(order, now)
        elif order.status not in ("partially_shipped", "shipped", "delivered"):
            raise IllegalTransition("take back goods of", order.status)
        chosen = return_lines(order, lines)
        r = Return(
            id=str(uuid.uuid4()),
            order_id=order.id,
            order_number=order.number,
            withdrawal=withdrawal,
            kind=kind,
            note=note,
            lines=chosen,
            requested_at=now,
            deadline=deadline,
        )
        details: dict[str, object] = {"return_id": r.id, "kind": kind}
        if override_deadline:
            details["deadline_overridden"] = note
        order.note("return_requested", now, **details)
        await orders.save(order)
        await ReturnRepository(tx).add(r)
        tx.emit(_requested_event(r), aggregate_id=r.id)
        return r

    return await store.transaction(work)


async def receive_return(
    store: Store, return_id: str, inspected: list[tuple[int, int, str, str]], now: datetime
) -> Return:
    """Goods arrived and were inspected: ReturnReceived (the catalog restocks), then
    the refund is decided at once: ReturnCompleted (billing issues the credit note)."""

    async def work(tx: Transaction) -> Return:
        returns = ReturnRepository(tx)
        r = await returns.get(return_id)
        if r is None:
            raise UnknownReturn(return_id)
        orders = OrderRepository(tx)
        order = await orders.get(r.order_id)
        assert order is not None
        r.receive(inspected, now)
        # pieces announced but not received are no longer "returned" on the order
        for line in r.lines:
            got = next((x.quantity for x in r.inspected if x.line_no == line.line_no), 0)
            order.returned[line.line_no] -= line.quantity - got
        refund = refund_for(
            order,
            [(x.line_no, x.quantity) for x in r.inspected],
            withdrawal=r.withdrawal,
            whole_order=whole_order_returned(order),
        )
        r.complete(refund, now)
        order.note(
            "return_received",
            now,
            return_id=r.id,
            lines=[
                {"line_no": x.line_no, "quantity": x.quantity, "disposition": x.disposition}
                for x in r.inspected
            ],
        )
        order.note("refund_decided", now, return_id=r.id, amount=str(refund.amount))
        await orders.save(order)
        await returns.save(r)
        tx.emit(
            ReturnReceived(
                return_id=r.id,
                order_id=r.order_id,
                lines=[
                    ReceivedReturnLine(
                        sku=x.sku,
                        quantity=x.quantity,
                        condition=x.condition,
                        disposition=x.disposition,
                        line_no=x.line_no,
                    )
                    for x in r.inspected
                ],
                received_at=now,
            ),
            aggregate_id=r.id,
        )
        tx.emit(
            ReturnCompleted(
                return_id=r.id,
                order_id=r.order_id,
                refund_amount=refund.amount,
                currency=order.currency,
                includes_shipping=refund.includes_shipping,
                lines=[ShippedLine(line_no=n, sku=s, quantity=q) for n, s, q in refund.lines],
                completed_at=now,
            ),
            aggregate_id=r.id,
        )
        return r

    return await store.transaction(work)
