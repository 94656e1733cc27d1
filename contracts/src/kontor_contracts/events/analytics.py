"""Events owned by the analytics service: key figures that need attention."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import Event
from ..money import Amount, Currency

__all__ = ["KpiThresholdBreached"]


# --- analytics.kpi.v1 (key: kpi) ---------------------------------------------------


class KpiThresholdBreached(Event):
    """A key figure crossed its threshold in a time window."""

    event_type = "KpiThresholdBreached"

    kpi: str = Field(min_length=1, description="e.g. return_rate, conversion_rate, revenue")
    value: Amount = Field(description="Observed value (decimal string)")
    threshold: Amount
    direction: Literal["above", "below"] = Field(
        description="above: value rose above threshold; below: fell below it"
    )
    window_start: AwareDatetime
    window_end: AwareDatetime
    unit: str | None = Field(default=None, description="e.g. ratio, EUR, count, hours")
    currency: Currency | None = Field(default=None, description="For monetary KPIs")
    severity: str | None = Field(default=None, description="info, warning or critical")
    rule_id: str | None = Field(
        default=None, description="The alert rule that fired (analytics' /alerts/rules)"
    )
    subject: str | None = Field(
        default=None,
        description="What the figure is of, e.g. sku:TEE-RED-M; none for the whole shop",
    )
    breach_id: str | None = Field(
        default=None,
        description="Names this breach: one event per breach, until the figure recovers",
    )
