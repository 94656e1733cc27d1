"""The pure rules of collection: addresses cut, sources read, sessions split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_analytics.domain.collect import Hit, Source, check_events, traffic_source, truncate_ip
from kontor_analytics.domain.sessions import ClientState, Session, session_key

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
THIRTY = timedelta(minutes=30)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::"),
        ("::ffff:10.1.2.3", "::"),
        ("not an address", None),
        (None, None),
    ],
)
def test_addresses_lose_their_host_part(given: str | None, kept: str | None) -> None:
    assert truncate_ip(given) == kept


def test_the_source_comes_from_campaign_params_utm_tags_or_a_foreign_referrer() -> None:
    assert traffic_source({"campaign_source": "Google", "campaign_medium": "CPC"}) == Source(
        "google", "cpc", None
    )
    page = "https://shop.example/?utm_source=nl&utm_medium=email&utm_campaign=x"
    assert traffic_source({"page_location": page}) == Source("nl", "email", "x")
    own = {"page_location": "https://shop.example/b", "page_referrer": "https://shop.example/a"}
    assert traffic_source(own) is None
    assert traffic_source({"page_referrer": "https://bing.com/s"}) == Source("bing.com", "referral")


def test_a_session_ends_after_the_timeout_unless_the_page_names_its_session() -> None:
    hit = Hit("page_view", T0, {})
    state = ClientState("c", "c:old", T0 - THIRTY)
    assert session_key("c", hit, state, timeout=THIRTY) == "c:old"
    later = Hit("page_view", T0 + timedelta(seconds=1), {})
    assert session_key("c", later, state, timeout=THIRTY).startswith("c:t")
    named = Hit("page_view", T0, {"session_id": 17})
    assert session_key("c", named, state, timeout=THIRTY) == "c:17"


def test_a_session_counts_steps_cart_value_and_one_purchase_per_transaction() -> None:
    session = Session.start("k", "c", Hit("page_view", T0, {}))
    item = {"item_id": "TEE", "price": "10.00", "quantity": 2, "item_category": "Shirts"}
    for name, params in (
        ("add_to_cart", {"items": [item]}),
        ("remove_from_cart", {"value": 5}),
        ("checkout_error", {"reason": "card_declined"}),
        ("purchase", {"transaction_id": "T1", "value": 15, "items": [item]}),
        ("purchase", {"transaction_id": "T1", "value": 15, "items": [item]}),
    ):
        session.apply(Hit(name, T0, params))
    assert session.cart_value == Decimal("15.00")
    assert session.purchase_value == Decimal("15")
    assert session.errors == ["card_declined"]
    assert session.steps == {"add_to_cart", "remove_from_cart", "purchase"}
    assert session.categories_purchased == {"Shirts"}


def test_names_parameters_and_times_follow_googles_limits() -> None:
    problems = check_events(
        [
            ("view_item", {"items": []}, T0),
            ("ga_custom", {}, T0),
            ("x" * 41, {}, T0),
            ("view_item", {f"p{i}": i for i in range(26)}, T0),
            ("view_item", {}, T0 - timedelta(hours=73)),
            ("view_item", {}, T0 + timedelta(hours=1)),
        ],
        T0,
    )
    assert [p.loc for p in problems] == [
        ("events", 1, "name"),
        ("events", 2, "name"),
        ("events", 3, "params"),
        ("events", 4, "timestamp_micros"),
        ("events", 5, "timestamp_micros"),
    ]


def test_a_late_request_keeps_its_hits_together() -> None:
    newest = ClientState("c", "c:new", T0 + timedelta(hours=2))
    first = Hit("page_view", T0, {})
    key = session_key("c", first, None, newest, timeout=THIRTY)
    recent = ClientState("c", key, T0)
    second = Hit("view_item", T0 + timedelta(minutes=2), {})
    assert session_key("c", second, recent, newest, timeout=THIRTY) == key


def test_allowed_origins_are_origins_or_the_wildcard() -> None:
    from kontor_analytics.settings import AnalyticsSettings
    from pydantic import ValidationError

    fine = ["https://shop.example", "http://127.0.0.1:8080", "*"]
    assert AnalyticsSettings(collect_allowed_origins=fine).collect_allowed_origins == fine
    for wrong in ("https://shop.example/", "shop.example", "ftp://shop.example", "https://"):
        with pytest.raises(ValidationError):
            AnalyticsSettings(collect_allowed_origins=[wrong])
