"""What worked: attribution net of returns, ROI, and the best time to send. Pure.

- **Attribution**: an order is a campaign's if it used the campaign's coupon, else if
  the person clicked a link of the campaign within the window before ordering (the
  last click wins). The attributed revenue follows the order: a cancellation takes it
  back, a return's refund is subtracted (net revenue).
- **Send time**: the hour of the week (Monday 00-... Sunday 23, Berlin) a person opened
  or clicked most; without history of their own, the segment's; then the shop's. A
  campaign sent "at the best time" gives each person the best of the next 24 hours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

ZERO = Decimal("0")


@dataclass
class Conversion:
    order_id: str
    campaign_id: str
    email: str
    gross: Decimal
    at: datetime
    by: str  # coupon | click
    refunded: Decimal = ZERO
    cancelled: bool = False

    @property
    def net(self) -> Decimal:
        return ZERO if self.cancelled else self.gross - self.refunded

    @property
    def returned(self) -> bool:
        return self.refunded > 0


def hour_of_week(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


def best_send_time(
    now: datetime,
    *,
    own: Counter[int],
    segment: Counter[int],
    shop: Counter[int],
    zone: ZoneInfo,
) -> datetime:
    """The start of the best hour in the next 24 hours by the first history that has
    any engagement in that window; ``now`` when none has."""
    start = now.replace(minute=0, second=0, microsecond=0)
    candidates = [start + timedelta(hours=h) for h in range(1, 25)]
    for history in (own, segment, shop):
        scores = [(history[hour_of_week(c, zone)], -i, c) for i, c in enumerate(candidates)]
        best = max(scores)
        if best[0] > 0:
            return best[2]
    return now


def roi(net: Decimal, cost: Decimal) -> Decimal | None:
    """(net revenue - cost) / cost; None without a cost."""
    if cost <= 0:
        return None
    return ((net - cost) / cost).quantize(Decimal("0.0001"))


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def top_hours(hours: Counter[int], n: int = 5) -> list[tuple[str, int, int]]:
    """The ``n`` hours of the week with most engagement: (weekday, hour, count)."""
    ranked = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [(WEEKDAYS[h // 24], h % 24, count) for h, count in ranked]
