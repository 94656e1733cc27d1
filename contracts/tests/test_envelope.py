"""The envelope wraps, serializes and unwraps events without losing anything."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from kontor_contracts import Envelope, UnknownEventType
from kontor_contracts.events.catalog import ProductDiscontinued, ProductPriceChanged
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def _price_changed() -> ProductPriceChanged:
    return ProductPriceChanged(
        sku="SM-2001",
        old_price_net="21.00",
        new_price_net="20.16",
        price_gross="23.99",
        vat_class="standard",
        vat_rate="0.19",
        currency="EUR",
        effective_at=datetime(2025, 11, 24, tzinfo=timezone(timedelta(hours=1))),
    )


def test_wrap_fills_defaults() -> None:
    before = datetime.now(UTC)
    env = Envelope.wrap(_price_changed(), producer="catalog", aggregate_id="SM-2001")
    assert env.type == "ProductPriceChanged"
    assert env.version == 1
    assert env.correlation_id == str(env.id)  # a new flow starts with its own id
    assert env.causation_id is None
    assert before <= env.occurred_at <= datetime.now(UTC)
    assert env.occurred_at.tzinfo is not None
    assert env.payload["price_gross"] == "23.99"  # JSON mode: decimals as strings


def test_wrap_keeps_given_ids_and_time() -> None:
    event_id, at = uuid4(), datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    env = Envelope.wrap(
        ProductDiscontinued(sku="FT-0310"),
        producer="catalog",
        aggregate_id="FT-0310",
        correlation_id="flow-1",
        causation_id="cause-1",
        occurred_at=at,
        event_id=event_id,
    )
    assert (env.id, env.occurred_at, env.correlation_id, env.causation_id) == (
        event_id,
        at,
        "flow-1",
        "cause-1",
    )


def test_bytes_round_trip_is_lossless_and_compact() -> None:
    env = Envelope.wrap(
        _price_changed(), producer="catalog", aggregate_id="SM-2001", causation_id="c"
    )
    data = env.to_bytes()
    assert b" " not in data.replace(b"SM-2001", b"")  # compact separators
    again = Envelope.from_bytes(data)
    assert again == env
    event = again.payload_model()
    assert event == _price_changed()
    assert isinstance(event, ProductPriceChanged)
    assert event.price_gross == Decimal("23.99")


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'{"id": "x"}',
        b'{"id":"6d3e0b5c-3a4f-4a8e-9a59-6a0c3f1d2e11","type":"X","version":1,'
        b'"occurred_at":"2025-11-24T09:00:00","producer":"p","aggregate_id":"a",'
        b'"correlation_id":"c","payload":{}}',  # naive time
    ],
)
def test_from_bytes_raises_validation_error_on_junk(junk: bytes) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_bytes(junk)


def test_envelope_ignores_unknown_fields() -> None:
    env = Envelope.wrap(ProductDiscontinued(sku="A"), producer="catalog", aggregate_id="A")
    data = env.model_dump(mode="json") | {"tenant": "future-field"}
    assert Envelope.model_validate(data) == env


def test_payload_model_ignores_additive_payload_fields() -> None:
    env = Envelope.wrap(ProductDiscontinued(sku="A"), producer="catalog", aggregate_id="A")
    data = env.model_dump(mode="json")
    data["payload"]["added_in_a_later_release"] = 42
    assert Envelope.model_validate(data).payload_model() == ProductDiscontinued(sku="A")


def test_payload_model_unknown_type_raises_unknown_event_type() -> None:
    env = Envelope(
        id=uuid4(),
        type="SomethingElse",
        version=1,
        occurred_at=datetime.now(UTC),
        producer="orders",
        aggregate_id="x",
        correlation_id="x",
        payload={},
    )
    with pytest.raises(UnknownEventType, match=r"SomethingElse\.v1"):
        env.payload_model()
    # also for a known type in an unknown version
    with pytest.raises(ValueError):  # UnknownEventType is a ValueError (dead-letter it)
        env.model_copy(update={"type": "ProductDiscontinued", "version": 9}).payload_model()
    with pytest.raises(KeyError):  # ... and a failed lookup
        env.payload_model()


def test_payload_model_invalid_payload_raises_validation_error() -> None:
    env = Envelope(
        id=UUID("6d3e0b5c-3a4f-4a8e-9a59-6a0c3f1d2e11"),
        type="ProductPriceChanged",
        version=1,
        occurred_at=datetime.now(UTC),
        producer="catalog",
        aggregate_id="SM-2001",
        correlation_id="x",
        payload=_price_changed().model_dump(mode="json") | {"price_gross": 23.99},
    )
    with pytest.raises(ValidationError):
        env.payload_model()


def test_events_are_immutable() -> None:
    event = ProductDiscontinued(sku="A")
    with pytest.raises(ValidationError):
        event.sku = "B"  # type: ignore[misc]


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Envelope.wrap(
            ProductDiscontinued(sku="A"),
            producer="catalog",
            aggregate_id="A",
            occurred_at=datetime(2025, 1, 1),  # noqa: DTZ001 - the point of the test
        )
