"""The Kafka binding: CloudEvents-style headers around the Kontor envelope.

Headers follow the CloudEvents Kafka protocol binding (binary content mode,
``ce_`` prefix), so generic tooling (Kafka UIs, routers, tracing) can read an
event's id, type, source and time without parsing the value. The value itself
stays the full Kontor :class:`~kontor_contracts.envelope.Envelope` JSON, so a
consumer never depends on headers surviving a hop (mirror tools, DLT replays).
Where header and body disagree, the body wins.

Trace context (W3C ``traceparent``/``tracestate``) is added by the telemetry
middleware, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from .envelope import Envelope

__all__ = [
    "CE_SPECVERSION",
    "CONTENT_TYPE",
    "ce_source",
    "ce_type",
    "headers_dict",
    "kafka_key",
    "to_headers",
]

CE_SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
CE_TYPE_PREFIX = "de.kontor"


def ce_type(producer: str, event_type: str, version: int) -> str:
    """``de.kontor.<producer>.<Type>.v<version>``, e.g. ``de.kontor.orders.OrderPlaced.v1``."""
    return f"{CE_TYPE_PREFIX}.{producer}.{event_type}.v{version}"


def ce_source(producer: str) -> str:
    """``/kontor/<producer>``: a URI-reference naming the producing service."""
    return f"/kontor/{producer}"


def _rfc3339(env: Envelope) -> str:
    """The event time in UTC with a ``Z`` suffix (RFC 3339)."""
    return env.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_headers(env: Envelope) -> list[tuple[str, bytes]]:
    """Kafka headers for ``env`` (names str, values UTF-8 bytes, as aiokafka expects)."""
    headers: list[tuple[str, str]] = [
        ("ce_specversion", CE_SPECVERSION),
        ("ce_id", str(env.id)),
        ("ce_type", ce_type(env.producer, env.type, env.version)),
        ("ce_source", ce_source(env.producer)),
        ("ce_time", _rfc3339(env)),
        ("ce_subject", env.aggregate_id),
        ("content-type", CONTENT_TYPE),
        ("kontor_correlation_id", env.correlation_id),
    ]
    if env.causation_id is not None:
        headers.append(("kontor_causation_id", env.causation_id))
    return [(name, value.encode()) for name, value in headers]


def headers_dict(headers: Iterable[tuple[str, bytes | str | None]]) -> dict[str, str]:
    """Decode Kafka headers into a dict (last value wins; undecodable bytes replaced)."""
    out: dict[str, str] = {}
    for name, value in headers:
        if value is None:
            out[name] = ""
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = value.decode("utf-8", errors="replace")
    return out


def kafka_key(env: Envelope) -> bytes:
    """The Kafka message key: the aggregate id, so one aggregate's events stay in order."""
    return env.aggregate_id.encode()
