"""The subscriptions that keep analytics's read models of every service's facts."""

from __future__ import annotations

from functools import partial

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
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.keys import Pseudonyms

from kontor_analytics.application import facts
from kontor_analytics.store.facts import (
    FACT_CAMPAIGNS,
    FACT_COUPONS,
    FACT_INVOICES,
    FACT_ORDERS,
    FACT_PRODUCTS,
    FACT_RETURNS,
)
from kontor_analytics.store.unit_of_work import MongoAnalyticsUnitOfWork


def order_facts(pseudonyms: Pseudonyms | None = None) -> Subscription:
    return Subscription(
        purpose="order-facts",
        description="Orders placed, confirmed, rejected, cancelled, shipped and delivered "
        "into fact_orders (a rebuildable projection)",
        handlers={
            OrderPlaced: partial(facts.on_order_placed, pseudonyms=pseudonyms),
            OrderConfirmed: facts.on_order_confirmed,
            OrderRejected: facts.on_order_rejected,
            OrderCancelled: facts.on_order_cancelled,
            OrderShipped: facts.on_order_shipped,
            OrderDelivered: facts.on_order_delivered,
        },
        projection=(FACT_ORDERS,),
        unit_of_work=MongoAnalyticsUnitOfWork,
        # the buyer's e-mail, hashed, tells new from returning customers; orders seals it
        # at the outbox (ADR 0036), and an erased buyer's orders stay in the figures
        unseal=True,
    )


def return_facts() -> Subscription:
    return Subscription(
        purpose="return-facts",
        description="Returns requested (lines, reasons) and completed (refund) into "
        "fact_returns (a rebuildable projection)",
        handlers={
            ReturnRequested: facts.on_return_requested,
            ReturnCompleted: facts.on_return_completed,
        },
        projection=(FACT_RETURNS,),
        unit_of_work=MongoAnalyticsUnitOfWork,
    )


def catalog_facts() -> Subscription:
    return Subscription(
        purpose="catalog-facts",
        description="Products (category, variant attributes) and stock on hand into "
        "fact_products (a rebuildable projection)",
        handlers={
            ProductCreated: facts.on_product_created,
            ProductUpdated: facts.on_product_updated,
            StockAdjusted: facts.on_stock_adjusted,
        },
        projection=(FACT_PRODUCTS,),
        unit_of_work=MongoAnalyticsUnitOfWork,
    )


def billing_facts() -> Subscription:
    return Subscription(
        purpose="billing-facts",
        description="Invoices issued, paid and overdue into fact_invoices (a rebuildable "
        "projection)",
        handlers={
            InvoiceIssued: facts.on_invoice_issued,
            PaymentReceived: facts.on_payment_received,
            PaymentOverdue: facts.on_payment_overdue,
        },
        projection=(FACT_INVOICES,),
        unit_of_work=MongoAnalyticsUnitOfWork,
    )


def marketing_facts() -> Subscription:
    return Subscription(
        purpose="marketing-facts",
        description="Campaigns scheduled (coupon, cost) and sent (recipients), and each "
        "coupon's campaign, into fact_campaigns and fact_coupons (a rebuildable projection)",
        handlers={
            CampaignScheduled: facts.on_campaign_scheduled,
            CampaignSent: facts.on_campaign_sent,
            CouponDefined: facts.on_coupon_defined,
            CouponRedeemed: facts.on_coupon_redeemed,
        },
        projection=(FACT_CAMPAIGNS, FACT_COUPONS),
        unit_of_work=MongoAnalyticsUnitOfWork,
    )


def fact_subscriptions(pseudonyms: Pseudonyms | None = None) -> list[Subscription]:
    """One consumer group per source, so the five read models fill side by side."""
    return [
        order_facts(pseudonyms),
        return_facts(),
        catalog_facts(),
        billing_facts(),
        marketing_facts(),
    ]
