"""The other services' facts into analytics's read models (subscription ``figures``).

Each handler keeps only what a figure needs; none emits anything, so the subscription
is a pure projection and can be replayed from the earliest offset.
"""

from __future__ import annotations

from datetime import datetime

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import InvoiceIssued, PaymentOverdue, PaymentReceived
from kontor_contracts.events.catalog import ProductCreated, ProductUpdated, StockAdjusted
from kontor_contracts.events.marketing import (
    CampaignScheduled,
    CampaignSent,
    CouponDefined,
    CouponRedeemed,
)
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnCompleted,
    ReturnRequested,
)
from kontor_servicekit.privacy.keys import Pseudonyms

from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork
from kontor_analytics.domain.customers import buyer_links


def _at(moment: datetime | None, envelope: Envelope) -> datetime:
    return moment or envelope.occurred_at


async def on_order_placed(
    event: OrderPlaced,
    uow: AnalyticsUnitOfWork,
    env: Envelope,
    *,
    pseudonyms: Pseudonyms | None = None,
) -> None:
    """``pseudonyms``: the buyer's subject id (ADR 0034) keys the top customers; without
    the privacy master key there is none."""
    shipping = event.shipping.gross if event.shipping is not None else None
    email = event.customer.email
    await uow.facts.order_placed(
        event.order_id,
        {
            "number": event.order_number,
            "placed_at": event.placed_at,
            "currency": event.currency,
            "gross": event.gross_total,
            "net": event.net_total,
            "shipping_gross": shipping,
            "units": sum(line.quantity for line in event.lines),
            "lines": [
                {
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "gross": line.line_gross,
                    "net": line.line_net,
                }
                for line in event.lines
            ],
            "channel": event.sales_channel or "webshop",
            "coupons": list(event.coupon_codes),
            "coupon_discounts": dict(event.coupon_discounts or {}) or None,
            "discount_gross": event.discount_gross,
            **buyer_links(
                email,
                event.customer.customer_id,
                None if pseudonyms is None else pseudonyms.subject_id,
            ),
        },
    )


async def on_order_confirmed(
    event: OrderConfirmed, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.order_state(event.order_id, "confirmed_at", _at(event.confirmed_at, env))


async def on_order_rejected(event: OrderRejected, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    await uow.facts.order_state(event.order_id, "rejected_at", env.occurred_at)


async def on_order_cancelled(
    event: OrderCancelled, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.order_state(event.order_id, "cancelled_at", env.occurred_at)


async def on_order_shipped(event: OrderShipped, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    await uow.facts.order_shipped(event.order_id, _at(event.shipped_at, env))


async def on_order_delivered(
    event: OrderDelivered, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.order_delivered(event.order_id, event.delivered_at)


async def on_return_requested(
    event: ReturnRequested, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    lines = [
        {"sku": line.sku, "quantity": line.quantity, "reason": line.reason or "not_given"}
        for line in event.lines
    ]
    await uow.facts.return_requested(event.order_id, event.return_id, lines, event.requested_at)


async def on_return_completed(
    event: ReturnCompleted, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.return_completed(
        event.order_id, event.return_id, event.refund_amount, _at(event.completed_at, env)
    )


async def on_product_created(
    event: ProductCreated, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.product(
        event.sku,
        {
            "name": event.name,
            "category": event.category,
            "parent_sku": event.parent_sku,
            "attributes": dict(event.variant_attributes or {}),
            "price_gross": event.price_gross,
            "created_stock": event.stock,
        },
    )


async def on_product_updated(
    event: ProductUpdated, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    changed = {"name": event.name, "category": event.category}
    values = {k: v for k, v in changed.items() if k in event.changed_fields or v is not None}
    if values:
        await uow.facts.product(event.sku, values)


async def on_stock_adjusted(event: StockAdjusted, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    await uow.facts.stock(event.sku, event.warehouse, event.on_hand, env.occurred_at)


async def on_invoice_issued(event: InvoiceIssued, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    await uow.facts.invoice_issued(
        event.invoice_id,
        {
            "order_id": event.order_id,
            "issue_date": event.issue_date,
            "due_date": event.due_date,
            "gross": event.gross_total,
            "currency": event.currency,
        },
    )


async def on_payment_received(
    event: PaymentReceived, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    if event.invoice_id is not None:
        await uow.facts.invoice_paid(event.invoice_id, event.received_at)


async def on_payment_overdue(
    event: PaymentOverdue, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.invoice_overdue(event.invoice_id, event.dunning_level, env.occurred_at)


async def on_campaign_scheduled(
    event: CampaignScheduled, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    await uow.facts.campaign(
        event.campaign_id,
        {
            "name": event.name,
            "channel": event.channel,
            "scheduled_for": event.scheduled_for,
            "audience": event.audience,
            "coupon_code": event.coupon_code,
            "cost": event.cost,
            "currency": event.currency,
        },
    )


async def on_campaign_sent(event: CampaignSent, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    # an A/B test announces once, when the winner went out to the rest (the newest wins)
    await uow.facts.campaign(
        event.campaign_id, {"sent_at": event.sent_at, "recipients": event.recipients}
    )


async def on_coupon_defined(event: CouponDefined, uow: AnalyticsUnitOfWork, env: Envelope) -> None:
    await uow.facts.coupon(event.code, {"campaign_id": event.campaign_id, "kind": event.kind})


async def on_coupon_redeemed(
    event: CouponRedeemed, uow: AnalyticsUnitOfWork, env: Envelope
) -> None:
    """A coupon pool's code has no CouponDefined: its use names the campaign whose mail
    handed it out (ADR 0118), so its orders are that campaign's by coupon."""
    if event.campaign_id is not None:
        await uow.facts.coupon(event.code, {"campaign_id": event.campaign_id})
