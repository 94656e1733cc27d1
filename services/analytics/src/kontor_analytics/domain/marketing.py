"""Campaign ROI and coupon use, from marketing's and orders' facts. Pure.

- **Attribution** (as marketing's, ADR 0053, from what analytics sees): an order is a
  campaign's when it used a coupon of that campaign (``CouponDefined.campaign_id``, the
  campaign's ``coupon_code``, or for a coupon pool's code the campaign its
  ``CouponRedeemed`` names, ADR 0118), the first such code of the order; else when the storefront
  session that bought it (its ``purchase`` with the order's number or id as
  ``transaction_id``) came with ``utm_campaign`` set to the campaign's id or name, the
  latest such session. Marketing's own click tracking in its mails is not among
  analytics's facts; a mail link that carries ``utm_campaign`` is.
- **Revenue net of returns**: the gross of the attributed orders (rejected ones left out)
  less the cancelled ones' gross and the refunds of completed returns; ROI = (that - cost)
  / cost, none without a cost.
- **Coupon use**: per code, the orders placed in the period with it, the discount it gave
  and their revenue net of returns; the share of orders with any coupon.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_analytics.domain.figures import ZERO, OrderFact, Period, ratio


@dataclass(frozen=True)
class CampaignFact:
    campaign_id: str
    name: str
    channel: str | None = None
    coupon_code: str | None = None
    cost: Decimal | None = None
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    recipients: int | None = None

    @property
    def went_out(self) -> datetime | None:
        """When it was sent, else when it is (was) scheduled for."""
        return self.sent_at or self.scheduled_for


@dataclass(frozen=True)
class SessionPurchase:
    """A storefront session's purchase: its transaction id and the session's campaign."""

    transaction_id: str
    campaign: str
    at: datetime


def coupon_campaigns(
    campaigns: Iterable[CampaignFact], coupons: Mapping[str, str | None]
) -> dict[str, str]:
    """code -> campaign id: the coupon's own campaign, else a campaign that names it."""
    found = {c.coupon_code: c.campaign_id for c in campaigns if c.coupon_code}
    found.update({code: cid for code, cid in coupons.items() if cid})
    return found


def attribute(
    orders: Iterable[OrderFact],
    campaigns: Sequence[CampaignFact],
    coupons: Mapping[str, str | None],
    purchases: Iterable[SessionPurchase],
) -> dict[str, tuple[str, str]]:
    """order id -> (campaign id, ``coupon`` | ``session``) for every attributed order."""
    by_code = coupon_campaigns(campaigns, coupons)
    by_key = {c.name: c.campaign_id for c in campaigns} | {
        c.campaign_id: c.campaign_id for c in campaigns
    }
    latest: dict[str, SessionPurchase] = {}
    for p in purchases:
        if p.campaign in by_key and (
            p.transaction_id not in latest or latest[p.transaction_id].at <= p.at
        ):
            latest[p.transaction_id] = p
    found: dict[str, tuple[str, str]] = {}
    for order in orders:
        if order.rejected:
            continue
        code = next((c for c in order.coupons if c in by_code), None)
        if code is not None:
            found[order.order_id] = (by_code[code], "coupon")
            continue
        bought = latest.get(order.number or "") or latest.get(order.order_id)
        if bought is not None:
            found[order.order_id] = (by_key[bought.campaign], "session")
    return found


@dataclass(frozen=True)
class CampaignResult:
    campaign: CampaignFact
    orders: int
    by_coupon: int
    by_session: int
    revenue_gross: Decimal
    cancelled_gross: Decimal
    refunded_gross: Decimal
    discount_gross: Decimal

    @property
    def revenue_after_cancellations_and_returns(self) -> Decimal:
        return self.revenue_gross - self.cancelled_gross - self.refunded_gross

    @property
    def roi(self) -> float | None:
        """(revenue net of cancellations and returns - cost) / cost; None without a cost."""
        cost = self.campaign.cost
        if not cost:
            return None
        return ratio(self.revenue_after_cancellations_and_returns - cost, cost)

    @property
    def conversion_rate(self) -> float | None:
        """Attributed orders per recipient."""
        return ratio(self.orders, self.campaign.recipients or 0)


def campaign_results(
    campaigns: Sequence[CampaignFact],
    period: Period,
    orders: Iterable[OrderFact],
    attributed: Mapping[str, tuple[str, str]],
    campaign_of: Mapping[str, str],
) -> list[CampaignResult]:
    """The campaigns that went out in the period, each with every order attributed to it
    (whenever placed), newest campaign first. ``campaign_of``: code -> campaign, so a
    campaign's discount is that of its own codes."""
    mine: dict[str, list[tuple[OrderFact, str]]] = defaultdict(list)
    for order in orders:
        if order.order_id in attributed:
            campaign_id, by = attributed[order.order_id]
            mine[campaign_id].append((order, by))
    found = []
    for c in campaigns:
        if c.went_out is None or c.went_out not in period:
            continue
        hits = mine.get(c.campaign_id, [])
        found.append(
            CampaignResult(
                campaign=c,
                orders=len(hits),
                by_coupon=sum(1 for _, by in hits if by == "coupon"),
                by_session=sum(1 for _, by in hits if by == "session"),
                revenue_gross=sum((o.gross for o, _ in hits), start=ZERO),
                cancelled_gross=sum((o.cancelled_gross for o, _ in hits), start=ZERO),
                refunded_gross=sum((o.refunded_gross for o, _ in hits), start=ZERO),
                discount_gross=sum(
                    (
                        o.discount_of(code)
                        for o, _ in hits
                        for code in dict.fromkeys(o.coupons)
                        if campaign_of.get(code) == c.campaign_id
                    ),
                    start=ZERO,
                ),
            )
        )
    return sorted(found, key=lambda r: (r.campaign.went_out, r.campaign.campaign_id), reverse=True)


@dataclass(frozen=True)
class CouponRow:
    code: str
    campaign_id: str | None
    orders: int
    discount_gross: Decimal
    revenue_gross: Decimal
    revenue_after_cancellations_and_returns: Decimal


@dataclass(frozen=True)
class CouponUse:
    orders: int
    orders_with_coupon: int
    discount_gross: Decimal
    by_code: list[CouponRow]

    @property
    def rate(self) -> float | None:
        """Share of the period's orders that used a coupon."""
        return ratio(self.orders_with_coupon, self.orders)


def coupon_use(orders: Iterable[OrderFact], campaign_of: Mapping[str, str]) -> CouponUse:
    """The orders placed in the period (not rejected) and their coupons."""
    placed = [o for o in orders if not o.rejected]
    used: dict[str, list[OrderFact]] = defaultdict(list)
    for order in placed:
        for code in dict.fromkeys(order.coupons):
            used[code].append(order)
    rows = [
        CouponRow(
            code=code,
            campaign_id=campaign_of.get(code),
            orders=len(hit),
            discount_gross=sum((o.discount_of(code) for o in hit), start=ZERO),
            revenue_gross=sum((o.gross for o in hit), start=ZERO),
            revenue_after_cancellations_and_returns=sum((o.kept_gross for o in hit), start=ZERO),
        )
        for code, hit in used.items()
    ]
    return CouponUse(
        orders=len(placed),
        orders_with_coupon=sum(1 for o in placed if o.coupons),
        discount_gross=sum((r.discount_gross for r in rows), start=ZERO),
        by_code=sorted(rows, key=lambda r: (-r.orders, r.code)),
    )


@dataclass(frozen=True)
class Marketing:
    campaigns: list[CampaignResult]
    coupons: CouponUse

    @property
    def cost(self) -> Decimal:
        return sum((r.campaign.cost or ZERO for r in self.campaigns), start=ZERO)

    @property
    def revenue_after_cancellations_and_returns(self) -> Decimal:
        return sum((r.revenue_after_cancellations_and_returns for r in self.campaigns), start=ZERO)

    @property
    def roi(self) -> float | None:
        """Over the campaigns with a cost."""
        costed = [r for r in self.campaigns if r.campaign.cost]
        cost = sum((r.campaign.cost or ZERO for r in costed), start=ZERO)
        back = sum((r.revenue_after_cancellations_and_returns for r in costed), start=ZERO)
        return None if not cost else ratio(back - cost, cost)
