"""Alert rules and the state of each rule's subjects (breached since when, which breach)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_analytics.domain.alerts import Rule

ALERT_RULES = "alert_rules"
ALERT_STATES = "alert_states"


def rule_document(rule: Rule, created_at: datetime) -> dict[str, Any]:
    return {
        "_id": rule.rule_id,
        "kind": rule.kind,
        "threshold": rule.threshold,
        "min_count": rule.min_count,
        "window_hours": rule.window_hours,
        "top": rule.top,
        "severity": rule.severity,
        "created_at": created_at,
    }


def rule_of(doc: dict[str, Any]) -> Rule:
    return Rule(
        rule_id=doc["_id"],
        kind=doc["kind"],
        threshold=Decimal(doc["threshold"]),
        min_count=doc["min_count"],
        window_hours=doc["window_hours"],
        top=doc["top"],
        severity=doc["severity"],
    )


class MongoAlertRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.rules = tx.db[ALERT_RULES]
        self.states = tx.db[ALERT_STATES]

    async def add_rule(self, rule: Rule, created_at: datetime) -> None:
        await self.rules.insert_one(rule_document(rule, created_at), session=self.tx.session)

    async def delete_rule(self, rule_id: str) -> bool:
        done = await self.rules.delete_one({"_id": rule_id}, session=self.tx.session)
        await self.states.delete_many({"rule_id": rule_id}, session=self.tx.session)
        return done.deleted_count == 1

    async def breached(self, key: str) -> bool:
        doc = await self.states.find_one({"_id": key}, session=self.tx.session)
        return bool(doc and doc["breached"])

    async def set_state(self, key: str, values: dict[str, Any]) -> None:
        await self.states.update_one(
            {"_id": key}, {"$set": values}, upsert=True, session=self.tx.session
        )
