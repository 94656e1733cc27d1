"""Analytics's read side: the facts of a period from the read models, and the figures
computed from them (``domain/figures.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kontor_servicekit.clock import BERLIN
from pymongo.asynchronous.database import AsyncDatabase

from kontor_analytics.domain import alerts as a
from kontor_analytics.domain import customers as cu
from kontor_analytics.domain import figures as f
from kontor_analytics.domain import marketing as m
from kontor_analytics.domain.sessions import Session
from kontor_analytics.store.alerts import ALERT_RULES, ALERT_STATES, rule_of
from kontor_analytics.store.collected import RAW_EVENTS, SESSIONS, session_of
from kontor_analytics.store.dashboard import DASHBOARD_SESSIONS
from kontor_analytics.store.facts import (
    FACT_CAMPAIGNS,
    FACT_COUPONS,
    FACT_INVOICES,
    FACT_ORDERS,
    FACT_PRODUCTS,
    FACT_RETURNS,
)


def return_fact(doc: dict[str, Any]) -> f.ReturnFact:
    return f.ReturnFact(
        requested_at=doc.get("requested_at"),
        lines=tuple(
            f.ReturnedLine(line["sku"], line["quantity"], line["reason"])
            for line in doc.get("lines", [])
        ),
        refund=doc.get("refund"),
    )


def order_fact(doc: dict[str, Any], returns: tuple[f.ReturnFact, ...] = ()) -> f.OrderFact:
    return f.OrderFact(
        order_id=doc["_id"],
        placed_at=doc["placed_at"],
        gross=doc["gross"],
        net=doc["net"],
        lines=tuple(
            f.SoldLine(line["sku"], line["quantity"], line["gross"]) for line in doc["lines"]
        ),
        customer=doc.get("customer"),
        channel=doc.get("channel") or "webshop",
        cancelled=doc.get("cancelled_at") is not None,
        rejected=doc.get("rejected_at") is not None,
        shipped_at=doc.get("shipped_at"),
        delivered_at=doc.get("delivered_at"),
        returns=returns,
        number=doc.get("number"),
        coupons=tuple(doc.get("coupons") or ()),
        coupon_discounts=doc.get("coupon_discounts"),
        discount_gross=doc.get("discount_gross"),
        subject=doc.get("subject"),
        customer_id=doc.get("customer_id"),
    )


def campaign_fact(doc: dict[str, Any]) -> m.CampaignFact:
    return m.CampaignFact(
        campaign_id=doc["_id"],
        name=doc.get("name") or doc["_id"],
        channel=doc.get("channel"),
        coupon_code=doc.get("coupon_code"),
        cost=doc.get("cost"),
        scheduled_for=doc.get("scheduled_for"),
        sent_at=doc.get("sent_at"),
        recipients=doc.get("recipients"),
    )


def product_fact(doc: dict[str, Any]) -> f.ProductFact:
    stock = doc.get("stock")
    on_hand = sum(stock.values()) if stock else doc.get("created_stock")
    return f.ProductFact(
        sku=doc["_id"],
        name=doc.get("name"),
        category=doc.get("category"),
        attributes=dict(doc.get("attributes") or {}),
        on_hand=on_hand,
    )


NO_FILTER = f.NO_FILTER


class AnalyticsQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, promised_ship_hours: int = 48):
        self.db = db
        self.promised_ship_hours = promised_ship_hours

    # ---------------------------------------------------------------- facts

    async def orders_placed(self, period: f.Period) -> list[f.OrderFact]:
        wanted = {"placed_at": {"$gte": period.start, "$lt": period.end}}
        return await self._with_returns(await self.db[FACT_ORDERS].find(wanted).to_list(None))

    async def _with_returns(self, found: list[dict[str, Any]]) -> list[f.OrderFact]:
        """The orders of ``found`` (fact documents) with their returns."""
        ids = [doc["_id"] for doc in found]
        returns: dict[str, list[f.ReturnFact]] = {}
        if ids:
            cursor = self.db[FACT_RETURNS].find({"order_id": {"$in": ids}})
            for doc in await cursor.to_list(None):
                returns.setdefault(doc["order_id"], []).append(return_fact(doc))
        return [order_fact(doc, tuple(returns.get(doc["_id"], ()))) for doc in found]

    async def sessions_started(self, period: f.Period) -> list[Session]:
        found = self.db[SESSIONS].find({"started_at": {"$gte": period.start, "$lt": period.end}})
        return [session_of(doc) for doc in await found.to_list(None)]

    async def products(self) -> dict[str, f.ProductFact]:
        found = await self.db[FACT_PRODUCTS].find().to_list(None)
        return {doc["_id"]: product_fact(doc) for doc in found}

    async def invoices_issued(self, period: f.Period) -> list[f.InvoiceFact]:
        found = self.db[FACT_INVOICES].find(
            {"issue_date": {"$gte": period.start, "$lt": period.end}}
        )
        return [
            f.InvoiceFact(
                invoice_id=doc["_id"],
                issued_at=doc["issue_date"],
                due_at=doc["due_date"],
                gross=doc.get("gross") or Decimal("0"),
                paid_at=doc.get("paid_at"),
                overdue=doc.get("overdue_at") is not None,
            )
            for doc in await found.to_list(None)
        ]

    async def first_orders(self, customers: set[str]) -> dict[str, datetime]:
        """Each customer's first order ever (orders placed before the period count, a
        rejected one does not: the customer bought nothing with it)."""
        if not customers:
            return {}
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "customer": {"$in": sorted(customers)},
                    "placed_at": {"$ne": None},
                    "rejected_at": None,
                }
            },
            {"$group": {"_id": "$customer", "first": {"$min": "$placed_at"}}},
        ]
        rows = await (await self.db[FACT_ORDERS].aggregate(pipeline)).to_list(None)
        return {row["_id"]: row["first"] for row in rows}

    async def collected_clients(self) -> list[str]:
        """Every client id with a stored raw event (what a sessions rebuild goes over)."""
        rows = await (
            await self.db[RAW_EVENTS].aggregate([{"$group": {"_id": "$client_id"}}])
        ).to_list(None)
        return sorted(row["_id"] for row in rows)

    async def dashboard_session(self, digest: str, now: datetime) -> list[str] | None:
        """The scopes of a live dashboard session, None if there is none (or it expired:
        the TTL monitor deletes late)."""
        doc = await self.db[DASHBOARD_SESSIONS].find_one({"_id": digest})
        if doc is None or doc["expires_at"] <= now:
            return None
        return list(doc["scopes"])

    async def all_orders(self) -> list[f.OrderFact]:
        """Every order's placing facts (the cohorts), without returns."""
        found = await self.db[FACT_ORDERS].find({"placed_at": {"$ne": None}}).to_list(None)
        return [order_fact(doc) for doc in found]

    async def days(self, period: f.Period, only: f.Filter = NO_FILTER) -> list[f.Day]:
        orders, sessions = await self.orders_of(period, only), await self.sessions_of(period, only)
        return f.days(orders, sessions, period)

    async def cohorts(self, now: datetime, only: f.Filter = NO_FILTER) -> list[f.Cohort]:
        orders = await self.all_orders()
        if only.active:
            orders = only.orders(orders, await self.products() if only.category else {})
        return f.cohorts(orders, now)

    async def campaigns(self) -> list[m.CampaignFact]:
        return [campaign_fact(doc) for doc in await self.db[FACT_CAMPAIGNS].find().to_list(None)]

    async def coupons(self) -> dict[str, str | None]:
        """code -> the campaign it belongs to (None: none)."""
        found = await self.db[FACT_COUPONS].find().to_list(None)
        return {doc["_id"]: doc.get("campaign_id") for doc in found}

    async def campaign_orders(
        self, campaigns: list[m.CampaignFact], coupons: dict[str, str | None]
    ) -> tuple[list[f.OrderFact], list[m.SessionPurchase]]:
        """The orders that may be the campaigns': those with one of their coupons, and
        those bought in a storefront session tagged with one of them (``utm_campaign``:
        its id or name), with those sessions' purchases."""
        ids = {c.campaign_id for c in campaigns}
        codes = [code for code, cid in m.coupon_campaigns(campaigns, coupons).items() if cid in ids]
        keys = sorted(ids | {c.name for c in campaigns})
        tagged = self.db[SESSIONS].find(
            {"campaign": {"$in": keys}, "steps": "purchase"},
            {"campaign": 1, "transactions": 1, "started_at": 1},
        )
        purchases = [
            m.SessionPurchase(tx, doc["campaign"], doc["started_at"])
            for doc in await tagged.to_list(None)
            for tx in doc.get("transactions", [])
        ]
        bought = sorted({p.transaction_id for p in purchases})
        docs: dict[str, dict[str, Any]] = {}
        for wanted in (
            {"coupons": {"$in": codes}},
            {"number": {"$in": bought}},
            {"_id": {"$in": bought}},
        ):
            if next(iter(wanted.values()))["$in"]:
                for doc in await self.db[FACT_ORDERS].find(wanted).to_list(None):
                    docs[doc["_id"]] = doc
        found = [doc for doc in docs.values() if doc.get("placed_at") is not None]
        return await self._with_returns(found), purchases

    # ---------------------------------------------------------------- alerts

    async def alert_rules(self) -> list[a.Rule]:
        found = await self.db[ALERT_RULES].find().sort("created_at", 1).to_list(None)
        return [rule_of(doc) for doc in found]

    async def alert_states(self) -> list[dict[str, Any]]:
        """Every subject a rule has judged breached, now or before (newest first)."""
        found = self.db[ALERT_STATES].find({}, {"_id": 0}).sort("since", -1)
        return await found.to_list(1000)

    async def observe(self, rule: a.Rule, now: datetime) -> list[a.Observation]:
        """What ``rule`` sees now (``domain/alerts.py``)."""
        window = f.Period(now - timedelta(hours=rule.window_hours), now)
        if rule.kind == "return_rate_sku":
            return a.return_rate_by_sku(rule, await self.orders_placed(window), window)
        if rule.kind == "checkout_error_rate":
            return a.checkout_error_rate(rule, await self.sessions_started(window), window)
        if rule.kind == "conversion_drop":
            midnight = f.period_of(now.astimezone(BERLIN).date(), None, now).start
            today, last_week = a.same_span_last_week(now, midnight)
            return a.conversion_drop(
                rule,
                await self.sessions_started(today),
                await self.sessions_started(last_week),
                today,
            )
        orders = await self.orders_placed(window)
        return a.top_sellers_out_of_stock(rule, orders, await self.products(), window)

    # ---------------------------------------------------------------- figures

    async def orders_of(self, period: f.Period, only: f.Filter = NO_FILTER) -> list[f.OrderFact]:
        """The orders placed in the period, narrowed by the dashboard's filter."""
        orders = await self.orders_placed(period)
        if not only.active:
            return orders
        return only.orders(orders, await self.products() if only.category else {})

    async def sessions_of(self, period: f.Period, only: f.Filter = NO_FILTER) -> list[Session]:
        return only.sessions(await self.sessions_started(period))

    async def sales(self, period: f.Period, only: f.Filter = NO_FILTER) -> f.Sales:
        orders = await self.orders_of(period, only)
        firsts = await self.first_orders({o.customer for o in orders if o.customer})
        return f.sales(orders, period, firsts)

    async def returns(self, period: f.Period, only: f.Filter = NO_FILTER) -> f.Returns:
        return f.returns(await self.orders_of(period, only), await self.products())

    async def categories(self) -> list[str]:
        """Every product category the catalog announced (the dashboard's choices)."""
        return sorted(c for c in await self.db[FACT_PRODUCTS].distinct("category") if c)

    async def channels(self) -> list[str]:
        """Every sales channel an order came through (the dashboard's choices)."""
        return sorted(c for c in await self.db[FACT_ORDERS].distinct("channel") if c)

    async def fulfilment(self, period: f.Period) -> f.Fulfilment:
        return f.fulfilment(await self.orders_placed(period), self.promised_ship_hours)

    async def conversion(self, period: f.Period, only: f.Filter = NO_FILTER) -> f.Conversion:
        return f.conversion(await self.sessions_of(period, only))

    async def funnel(self, period: f.Period, only: f.Filter = NO_FILTER) -> f.Funnel:
        return f.funnel(await self.sessions_of(period, only))

    async def payments(self, period: f.Period) -> f.Payments:
        return f.payments(await self.invoices_issued(period))

    async def marketing(self, period: f.Period) -> m.Marketing:
        """Campaigns that went out in the period with everything attributed to them, and
        the coupons used on the orders placed in it (``domain/marketing.py``)."""
        campaigns, coupons = await self.campaigns(), await self.coupons()
        sent = [c for c in campaigns if c.went_out is not None and c.went_out in period]
        orders, purchases = await self.campaign_orders(sent, coupons)
        attributed = m.attribute(orders, campaigns, coupons, purchases)
        campaign_of = m.coupon_campaigns(campaigns, coupons)
        return m.Marketing(
            campaigns=m.campaign_results(sent, period, orders, attributed, campaign_of),
            coupons=m.coupon_use(await self.orders_placed(period), campaign_of),
        )

    async def customers(
        self, period: f.Period, now: datetime, *, top: int = 10, months: int = 12
    ) -> cu.Customers:
        """The period's customers, the cohorts of those whose first order is in it, and
        the top customers (``domain/customers.py``)."""
        in_period = await self.orders_placed(period)
        firsts: list[dict[str, Any]] = [
            {"$match": {"customer": {"$ne": None}, "rejected_at": None}},
            {"$match": {"placed_at": {"$lt": period.end}}},
            {"$group": {"_id": "$customer", "first": {"$min": "$placed_at"}}},
            {"$match": {"first": {"$gte": period.start}}},
        ]
        rows = await (await self.db[FACT_ORDERS].aggregate(firsts)).to_list(None)
        wanted = {row["_id"] for row in rows} | {o.customer for o in in_period if o.customer}
        found = self.db[FACT_ORDERS].find(
            {"customer": {"$in": sorted(wanted)}, "placed_at": {"$ne": None}}
        )
        theirs = await self._with_returns(await found.to_list(None))
        return cu.customers(in_period, theirs, period, now, top=top, months=months)

    async def assortment(self, now: datetime, days: int) -> f.Assortment:
        recent = f.Period(now - timedelta(days=days), now)
        return f.assortment(await self.orders_placed(recent), await self.products(), days)
