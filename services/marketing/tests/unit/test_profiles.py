"""Profiles from orders' events: revenue and orders net of cancellations and returns,
return rate, AOV, RFM; segment rules with AND/OR nesting, refused at their path when
malformed; membership follows the events and the consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import OrderCancelled, ReturnCompleted
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.profiles import (
    create_segment,
    on_order_cancelled,
    on_order_placed,
    on_return_completed,
    preview_segment,
)
from kontor_marketing.domain.profile import Profile, check_rule, matches, profile_email, rfm
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def test_figures_are_net_of_cancellations_and_returns() -> None:
    profile = Profile(email="anna@example.de")
    profile.order_placed("o1", Decimal("100.00"), AT - timedelta(days=40))
    profile.order_placed("o2", Decimal("50.00"), AT - timedelta(days=10))
    profile.order_placed("o3", Decimal("80.00"), AT - timedelta(days=5))
    profile.order_ended("o3", "cancelled")
    profile.refunded("o1", Decimal("30.00"), AT)
    figures = profile.figures(AT)
    assert (figures["orders"], figures["revenue"], figures["aov"]) == (
        2,
        Decimal("120.00"),
        Decimal("60.00"),
    )
    assert figures["return_rate"] == Decimal("0.5000") and figures["cancelled"] == 1
    assert figures["days_since_last_order"] == 10 and figures["rfm"] == "523"
    assert rfm(None, 0, Decimal("0")) == (0, 0, 0) and rfm(400, 12, Decimal("900")) == (1, 5, 5)


RULE = {
    "all": [
        {"field": "orders", "op": "gte", "value": 2},
        {
            "any": [
                {"field": "return_rate", "op": "lt", "value": "0.2"},
                {"field": "consent", "op": "eq", "value": "confirmed"},
            ]
        },
    ]
}


def test_rules_nest_and_and_or() -> None:
    assert check_rule(RULE) == 3
    base = {"orders": 2, "return_rate": Decimal("0.5"), "consent": "none"}
    assert not matches(RULE, base)
    assert matches(RULE, {**base, "consent": "confirmed"})
    assert matches(RULE, {**base, "return_rate": Decimal("0.1")})
    assert not matches(RULE, {**base, "orders": 1, "consent": "confirmed"})


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"all": []}, ("rule",)),
        ({"all": [{"field": "shoe_size", "op": "eq", "value": 1}]}, ("rule", "all", 0, "field")),
        ({"any": [{"field": "orders", "op": "like", "value": 1}]}, ("rule", "any", 0, "op")),
        ({"field": "orders", "op": "gte", "value": "many"}, ("rule", "value")),
        ({"field": "consent", "op": "gt", "value": "x"}, ("rule", "op")),
    ],
)
def test_a_malformed_rule_is_refused_at_its_path(rule: Any, path: tuple[Any, ...]) -> None:
    with pytest.raises(Invalid) as refused:
        check_rule(rule)
    assert refused.value.field == path


async def test_membership_follows_the_events() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    placed = [order_placed_envelope(number=n) for n in (1, 2)]
    for envelope in placed:
        await transactor.deliver(on_order_placed, envelope.payload_model(), envelope)
    loyal = await create_segment(
        transactor, "Stammkunden", {"field": "orders", "op": "gte", "value": 2}, clock=lambda: AT
    )
    assert loyal.size == 1
    assert (
        await preview_segment(
            transactor, {"field": "orders", "op": "gte", "value": 3}, clock=lambda: AT
        )
    ).size == 0
    cancelled = OrderCancelled(order_id=placed[0].aggregate_id, reason="customer")
    await transactor.deliver(on_order_cancelled, cancelled, envelope_of(cancelled))
    [profile] = transactor.db.rows("profiles")
    assert profile.segments == ()  # one order left: out of the segment at once
    refund = ReturnCompleted(
        return_id="r-1",
        order_id=placed[1].aggregate_id,
        refund_amount=Decimal("10.00"),
        currency="EUR",
        includes_shipping=False,
    )
    await transactor.deliver(on_return_completed, refund, envelope_of(refund))
    [profile] = transactor.db.rows("profiles")
    gross = placed[1].payload_model().gross_total  # type: ignore[attr-defined]
    assert profile.figures(AT)["revenue"] == gross - Decimal("10.00")


async def test_an_erased_persons_events_replayed_fold_into_no_profile() -> None:
    """ADR 0128: after an erasure her replayed events open to the placeholder e-mail;
    a rebuild of the profiles must not give her history a profile again."""
    assert profile_email(" Zoe.Walk@Example.de") == "zoe.walk@example.de"
    assert profile_email("p-6a9fce546100dae65f13beb562009d0a@pseudonym.invalid") is None
    assert profile_email("—") is None
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    erased = Customer(email="p-6a9fce546100dae65f13beb562009d0a@pseudonym.invalid", name="—")
    for envelope in (
        order_placed_envelope(number=1, customer=erased),
        order_placed_envelope(number=2),
    ):
        await transactor.deliver(on_order_placed, envelope.payload_model(), envelope)
    assert [p.email for p in transactor.db.rows("profiles")] == ["anna@example.de"]
