"""Subscription on analytics' alerts: a breached figure of a product opens or updates a
ticket (ADR 0045)."""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.analytics import KpiThresholdBreached
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription

from kontor_support.application.alerts import on_kpi_threshold_breached
from kontor_support.store.unit_of_work import MongoSupportUnitOfWork


def tickets_from_alerts(clock: Clock) -> Subscription:
    return Subscription(
        purpose="kpi-alerts",
        description="A key figure of a product past its threshold (a return rate, a top "
        "seller out of stock) opens a product ticket, or adds to the open one",
        handlers={KpiThresholdBreached: partial(on_kpi_threshold_breached, clock=clock)},
        unit_of_work=MongoSupportUnitOfWork,
    )
