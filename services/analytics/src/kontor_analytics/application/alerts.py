"""Alerts: rules through the admin routes; each breach announced once (KpiThresholdBreached).

The sweeper observes every rule's figure per subject and settles the observations in one
transaction per rule: a subject that became breached gets a state and the event (they
commit together, so a breach is announced exactly once); one that recovered loses its
breach, so the next crossing is announced again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from kontor_contracts.events.analytics import KpiThresholdBreached
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork
from kontor_analytics.domain.alerts import Observation, Rule


async def add_rule(
    transactor: Transactor[AnalyticsUnitOfWork], rule: Rule, *, now: datetime
) -> Rule:
    async def work(uow: AnalyticsUnitOfWork) -> Rule:
        await uow.alerts.add_rule(rule, now)
        return rule

    return await transactor.run(work)


async def delete_rule(transactor: Transactor[AnalyticsUnitOfWork], rule_id: str) -> None:
    async def work(uow: AnalyticsUnitOfWork) -> None:
        if not await uow.alerts.delete_rule(rule_id):
            raise NotFound("alert rule", rule_id)

    await transactor.run(work)


def state_key(rule: Rule, observation: Observation) -> str:
    return f"{rule.rule_id}:{observation.subject or '*'}"


async def settle(
    transactor: Transactor[AnalyticsUnitOfWork],
    rule: Rule,
    observations: Sequence[Observation],
    *,
    now: datetime,
) -> list[KpiThresholdBreached]:
    """Announce the breaches that began, forget the ones that ended; what was announced."""

    async def work(uow: AnalyticsUnitOfWork) -> list[KpiThresholdBreached]:
        announced = []
        for seen in observations:
            key = state_key(rule, seen)
            was = await uow.alerts.breached(key)
            if seen.breached and not was:
                breach_id = str(uuid.uuid4())
                event = KpiThresholdBreached(
                    kpi=seen.kpi,
                    value=seen.value,
                    threshold=rule.threshold,
                    direction=seen.direction,
                    window_start=seen.window.start,
                    window_end=seen.window.end,
                    unit=seen.unit,
                    severity=rule.severity,
                    rule_id=rule.rule_id,
                    subject=seen.subject,
                    breach_id=breach_id,
                )
                uow.emit(event, aggregate_id=seen.kpi)
                await uow.alerts.set_state(
                    key,
                    {
                        "rule_id": rule.rule_id,
                        "subject": seen.subject,
                        "kpi": seen.kpi,
                        "breached": True,
                        "breach_id": breach_id,
                        "since": now,
                        "value": seen.value,
                    },
                )
                announced.append(event)
            elif was and seen.breached:  # still the same breach: keep its value current
                await uow.alerts.set_state(key, {"value": seen.value})
            elif was and not seen.breached:
                await uow.alerts.set_state(
                    key, {"breached": False, "recovered_at": now, "value": seen.value}
                )
        return announced

    return await transactor.run(work)


async def sweep_alerts(
    transactor: Transactor[AnalyticsUnitOfWork],
    rules: Callable[[], Awaitable[list[Rule]]],
    observe: Callable[[Rule, datetime], Awaitable[list[Observation]]],
    *,
    clock: Callable[[], datetime],
) -> int:
    """One round: every rule observed and settled; how many breaches were announced."""
    now = clock()
    count = 0
    for rule in await rules():
        count += len(await settle(transactor, rule, await observe(rule, now), now=now))
    return count
