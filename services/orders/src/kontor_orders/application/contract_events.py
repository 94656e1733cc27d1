"""From what the aggregates recorded to the contract events other services consume.

Each use case saves its aggregates and then calls one of the ``publish_*`` functions:
they pull the recorded domain events and emit the matching contract events into the
unit of work's outbox. Facts that are this service's own (a payment, an ordered
cart) have no contract event; the order's timeline shows them. A declared withdrawal
has one (WithdrawalReceived): its receipt is to be mailed to the customer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kontor_contracts.events import common
from kontor_contracts.events.orders import (
    CartAbandoned,
    CartUpdated,
    CheckoutStarted,
    ComplaintFiled,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReceivedReturnLine,
    ReplacementRequested,
    ReturnCompleted,
    ReturnReceived,
    ReturnRequested,
    ShippedLine,
    ShippingCharge,
    ShippingVatPart,
    VatExemption,
    WithdrawalReceived,
    WithdrawnLine,
)
from kontor_contracts.events.orders import CartLine as CartLineEvent
from kontor_contracts.events.orders import OrderLine as OrderLineEvent
from kontor_contracts.events.orders import ReturnLine as ReturnLineEvent
from kontor_servicekit.uow import UnitOfWork

from kontor_orders.domain import events as recorded
from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.order import Address, Customer, Order
from kontor_orders.domain.returns import Return, Withdrawal

# ------------------------------------------------------------------ orders


def _address(a: Address) -> common.Address:
    return common.Address(**asdict(a))


def _customer(c: Customer) -> common.Customer:
    return common.Customer(customer_id=c.customer_id, email=c.email, name=c.name)


def order_placed(order: Order) -> OrderPlaced:
    return OrderPlaced(
        order_id=order.id,
        order_number=order.number,
        customer=_customer(order.customer),
        billing_address=_address(order.billing_address) if order.billing_address else None,
        shipping_address=_address(order.shipping_address),
        lines=[OrderLineEvent.model_validate(line, from_attributes=True) for line in order.lines],
        currency=order.currency,
        net_total=order.net_total,
        vat_total=order.vat_total,
        gross_total=order.gross_total,
        placed_at=order.placed_at,
        shipping=_shipping(order),
        coupon_codes=order.coupon_codes,
        buyer_vat_id=order.buyer_vat_id,
        buyer_reference=order.buyer_reference,
        locale=order.locale,
        payment_method=order.payment_method,
        price_basis=order.price_basis,
        vat_exemption=_exemption(order),
        discount_gross=order.discount_gross,
        coupon_discounts=dict(order.coupon_discounts) or None,
        vat_country=order.vat_country,
    )


def _shipping(order: Order) -> ShippingCharge | None:
    charge = order.shipping
    if charge is None:
        return None
    return ShippingCharge(
        method=charge.method,
        net=charge.net,
        vat_rate=charge.vat_rate,
        vat=charge.vat,
        gross=charge.gross,
        carrier=charge.carrier,
        parts=[
            ShippingVatPart(vat_rate=p.vat_rate, net=p.net, vat=p.vat, gross=p.gross)
            for p in charge.parts
        ],
    )


def _exemption(order: Order) -> VatExemption | None:
    if order.vat_note is None:
        return None
    check = order.vat_id_check
    return VatExemption(
        category="K",
        reason=order.vat_note,
        vies_confirmation="confirmed" if check and check.vies == "confirmed" else "pending",
    )


def publish_order(uow: UnitOfWork, order: Order) -> None:
    """Emit the contract events of what ``order`` recorded."""
    for event in order.pull_events():
        match event:
            case recorded.OrderWasPlaced():
                uow.emit(order_placed(order), aggregate_id=order.id)
            case recorded.OrderWasConfirmed(confirmed_at=at):
                uow.emit(
                    OrderConfirmed(order_id=order.id, order_number=order.number, confirmed_at=at),
                    aggregate_id=order.id,
                )
            case recorded.OrderWasRejected(reason=reason, details=details):
                uow.emit(
                    OrderRejected(
                        order_id=order.id,
                        order_number=order.number,
                        reason=reason,
                        details=list(details),
                    ),
                    aggregate_id=order.id,
                )
            case recorded.OrderWasCancelled():
                uow.emit(
                    OrderCancelled(
                        order_id=order.id,
                        order_number=order.number,
                        reason=event.reason,
                        cancelled_by=event.cancelled_by,
                        lines=[common.SkuQuantity(sku=s, quantity=q) for s, q in event.lines],
                    ),
                    aggregate_id=order.id,
                )
            case recorded.OrderWasShipped():
                uow.emit(
                    OrderShipped(
                        order_id=order.id,
                        shipment_id=event.shipment_id,
                        carrier=event.carrier,
                        tracking_number=event.tracking_number,
                        lines=[
                            ShippedLine(line_no=n, sku=s, quantity=q) for n, s, q in event.lines
                        ],
                        complete=event.complete,
                        shipped_at=event.shipped_at,
                    ),
                    aggregate_id=order.id,
                )
            case recorded.OrderWasDelivered():
                uow.emit(
                    OrderDelivered(
                        order_id=order.id,
                        delivered_at=event.delivered_at,
                        shipment_id=event.shipment_id,
                    ),
                    aggregate_id=order.id,
                )
            case recorded.PaymentWasRecorded() | recorded.OrderWasPaid():
                pass  # no contract event: billing, which reported the payment, knows


# ------------------------------------------------------------------ carts


def _cart_lines(cart: Cart) -> list[CartLineEvent]:
    return [
        CartLineEvent(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_gross=line.unit_price_gross,
            name=line.name,
        )
        for line in cart.lines
    ]


def _cart_state(cart: Cart) -> dict[str, Any]:
    """What CartUpdated and CheckoutStarted tell of the cart: all of it."""
    return {
        "cart_id": cart.id,
        "customer_email": cart.customer_email,
        "lines": _cart_lines(cart),
        "currency": cart.currency,
        "value": cart.value,
    }


def publish_cart(uow: UnitOfWork, cart: Cart) -> None:
    """Emit the contract events of what ``cart`` recorded."""
    for event in cart.pull_events():
        match event:
            case recorded.CartWasChanged():
                uow.emit(CartUpdated(**_cart_state(cart)), aggregate_id=cart.id)
            case recorded.CheckoutWasStarted():
                uow.emit(CheckoutStarted(**_cart_state(cart)), aggregate_id=cart.id)
            case recorded.CartWasAbandoned(last_activity_at=last_activity):
                uow.emit(
                    CartAbandoned(
                        cart_id=cart.id,
                        value=cart.value,
                        currency=cart.currency,
                        last_activity_at=last_activity,
                        customer_email=cart.customer_email,
                        lines=_cart_lines(cart),
                    ),
                    aggregate_id=cart.id,
                )
            case recorded.CartWasOrdered():
                pass  # the order's OrderPlaced tells it


# ------------------------------------------------------------------ returns


def publish_withdrawal(
    uow: UnitOfWork, withdrawal: Withdrawal, r: Return, order: Order, *, language: str
) -> None:
    """WithdrawalReceived when ``withdrawal`` was declared (as return ``r`` of ``order``):
    what the receipt on a durable medium says, and the address to mail it to."""
    names = {line.line_no: line.name for line in order.lines}
    for event in withdrawal.pull_events():
        match event:
            case recorded.WithdrawalWasDeclared():
                uow.emit(
                    WithdrawalReceived(
                        withdrawal_id=withdrawal.id,
                        return_id=r.id,
                        order_id=order.id,
                        order_number=order.number,
                        customer=_customer(order.customer),
                        lines=[
                            WithdrawnLine(
                                line_no=x.line_no,
                                sku=x.sku,
                                name=names.get(x.line_no) or x.sku,
                                quantity=x.quantity,
                            )
                            for x in r.lines
                        ],
                        received_at=r.requested_at,
                        language="en" if language == "en" else "de",
                        cancels_order=r.cancelled_order,
                    ),
                    aggregate_id=r.id,
                )


def publish_return(uow: UnitOfWork, r: Return, *, currency: str) -> None:
    """Emit the contract events of what ``r`` recorded (``currency``: its order's)."""
    for event in r.pull_events():
        match event:
            case recorded.ReturnWasRequested():
                uow.emit(
                    ReturnRequested(
                        return_id=r.id,
                        order_id=r.order_id,
                        lines=[
                            ReturnLineEvent(
                                sku=x.sku, quantity=x.quantity, reason=x.reason, line_no=x.line_no
                            )
                            for x in r.lines
                        ],
                        requested_at=r.requested_at,
                        withdrawal=r.withdrawal,
                    ),
                    aggregate_id=r.id,
                )
            case recorded.ReturnWasReceived(lines=arrived, received_at=at):
                uow.emit(
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
                            for x in arrived
                        ],
                        received_at=at,
                    ),
                    aggregate_id=r.id,
                )
            case recorded.ReturnWasCompleted():
                assert r.refund is not None and r.completed_at is not None
                uow.emit(
                    ReturnCompleted(
                        return_id=r.id,
                        order_id=r.order_id,
                        refund_amount=r.refund.amount,
                        currency=currency,
                        includes_shipping=r.refund.includes_shipping,
                        lines=[
                            ShippedLine(line_no=n, sku=s, quantity=q) for n, s, q in r.refund.lines
                        ],
                        completed_at=r.completed_at,
                    ),
                    aggregate_id=r.id,
                )


# ------------------------------------------------------------------ complaints


def publish_complaint(uow: UnitOfWork, c: Complaint, order: Order) -> None:
    """Emit the contract events of what ``c`` (about ``order``) recorded.

    A refund is announced as ReturnCompleted with the complaint's id as ``return_id``
    (no goods come back): the event billing issues credit notes from. A replacement
    is on the complaint and the order's timeline only.
    """
    for event in c.pull_events():
        match event:
            case recorded.ComplaintWasFiled():
                uow.emit(
                    ComplaintFiled(
                        complaint_id=c.id,
                        order_id=order.id,
                        sku=c.sku,
                        description=c.description,
                        photo_ids=c.photo_ids,
                        customer=_customer(order.customer),
                        kind=c.kind,
                        desired_remedy=c.desired_remedy,
                        filed_at=c.filed_at,
                    ),
                    aggregate_id=c.id,
                )
            case recorded.ReplacementWasRequested(quantity=quantity):
                assert c.resolution is not None and c.resolution.carrier is not None
                uow.emit(
                    ReplacementRequested(
                        complaint_id=c.id,
                        order_id=order.id,
                        line_no=c.line_no,
                        sku=c.sku,
                        quantity=quantity,
                        carrier=c.resolution.carrier,
                        tracking_number=c.resolution.tracking_number,
                        requested_at=c.resolution.at,
                    ),
                    aggregate_id=c.id,
                )
            case recorded.ComplaintWasResolved(refund_amount=amount) if amount is not None:
                assert c.resolution is not None
                uow.emit(
                    ReturnCompleted(
                        return_id=c.id,
                        order_id=order.id,
                        refund_amount=amount,
                        currency=order.currency,
                        includes_shipping=False,
                        lines=[ShippedLine(line_no=c.line_no, sku=c.sku, quantity=1)],
                        completed_at=c.resolution.at,
                    ),
                    aggregate_id=c.id,
                )
