"""Service levels: how long a ticket may wait for us, counted in business hours.

Per priority three targets (as Zammad and Zendesk know them): the **first response**
(from opening), the **next response** (from the customer's newest unanswered
message) and the **resolution** (from opening to solved). Only business hours count:
Monday to Friday, ``opens`` to ``closes`` Berlin time, without the public holidays of the
merchant's state (the calendar is given: ``application/sla.py`` builds it from the
``holidays`` package). A ticket's next deadline is the earliest target still open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kontor_servicekit.clock import BERLIN

__all__ = ["BusinessCalendar", "SlaPolicy", "SlaTargets", "next_deadline"]


@dataclass(frozen=True)
class BusinessCalendar:
    is_holiday: Callable[[date], bool]
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    zone: ZoneInfo = BERLIN

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def add(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` business minutes after ``start``."""
        local = start.astimezone(self.zone)
        left = timedelta(minutes=minutes)
        day = local.date()
        cursor = local
        for _ in range(3660):  # ten years of days: a policy never needs more
            if self.is_business_day(day):
                opens = datetime.combine(day, self.opens, self.zone)
                closes = datetime.combine(day, self.closes, self.zone)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if left <= available:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), self.zone)
        raise ValueError("no business hours within ten years")


@dataclass(frozen=True)
class SlaTargets:
    first_response_min: int
    next_response_min: int
    resolution_min: int


def _default_targets() -> dict[str, SlaTargets]:
    hour = 60
    return {
        "urgent": SlaTargets(1 * hour, 2 * hour, 8 * hour),
        "high": SlaTargets(4 * hour, 4 * hour, 20 * hour),
        "normal": SlaTargets(10 * hour, 10 * hour, 50 * hour),
        "low": SlaTargets(20 * hour, 20 * hour, 100 * hour),
    }


@dataclass(frozen=True)
class SlaPolicy:
    """Business minutes per priority (a business day is ten hours, 8 to 18)."""

    targets: dict[str, SlaTargets] = field(default_factory=_default_targets)


def next_deadline(
    *,
    priority: str,
    created_at: datetime,
    first_response_at: datetime | None,
    waiting_since: datetime | None,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> list[tuple[str, datetime]]:
    """The targets of a ticket still waiting for us with when each breaches, earliest first."""
    targets = policy.targets.get(priority, policy.targets["normal"])
    due: list[tuple[datetime, str]] = [
        (calendar.add(created_at, targets.resolution_min), "resolution")
    ]
    if first_response_at is None:
        due.append((calendar.add(created_at, targets.first_response_min), "first_response"))
    elif waiting_since is not None:
        due.append((calendar.add(waiting_since, targets.next_response_min), "next_response"))
    return [(target, at) for at, target in sorted(due)]
