"""Kafka headers follow the CloudEvents Kafka binding (binary-mode attribute headers)."""

from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from kontor_contracts import Envelope
from kontor_contracts.events.orders import OrderDelivered
from kontor_contracts.wire import headers_dict, kafka_key, to_headers

pytestmark = pytest.mark.unit

CET = timezone(timedelta(hours=1))


def _envelope(causation_id: str | None) -> Envelope:
    return Envelope.wrap(
        OrderDelivered(order_id="ord_1", delivered_at=datetime(2025, 11, 26, 11, 48, tzinfo=CET)),
        producer="orders",
        aggregate_id="ord_1",
        correlation_id="corr-1",
        causation_id=causation_id,
        occurred_at=datetime(2025, 11, 26, 11, 52, 3, tzinfo=CET),
        event_id=UUID("6d3e0b5c-3a4f-4a8e-9a59-6a0c3f1d2e11"),
    )


def test_headers_carry_cloudevents_attributes() -> None:
    headers = to_headers(_envelope("cause-1"))
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in headers)
    assert headers_dict(headers) == {
        "ce_specversion": "1.0",
        "ce_id": "6d3e0b5c-3a4f-4a8e-9a59-6a0c3f1d2e11",
        "ce_type": "de.kontor.orders.OrderDelivered.v1",
        "ce_source": "/kontor/orders",
        "ce_time": "2025-11-26T10:52:03Z",
        "ce_subject": "ord_1",
        "content-type": "application/json",
        "kontor_correlation_id": "corr-1",
        "kontor_causation_id": "cause-1",
    }


def test_causation_header_only_when_set() -> None:
    names = [name for name, _ in to_headers(_envelope(None))]
    assert "kontor_causation_id" not in names
    assert len(names) == len(set(names))


def test_ce_time_is_rfc3339_and_parses_back_to_occurred_at() -> None:
    env = _envelope(None)
    ce_time = headers_dict(to_headers(env))["ce_time"]
    assert datetime.fromisoformat(ce_time) == env.occurred_at


def test_headers_dict_decodes_and_tolerates_odd_values() -> None:
    assert headers_dict([("a", b"x"), ("b", "y"), ("c", None), ("d", b"\xff")]) == {
        "a": "x",
        "b": "y",
        "c": "",
        "d": "\ufffd",
    }


def test_kafka_key_is_the_aggregate_id() -> None:
    assert kafka_key(_envelope(None)) == b"ord_1"
