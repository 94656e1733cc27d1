"""One trace from an HTTP request through the outbox and Kafka into the consumer.

``POST /orders`` (HTTP server span) -> the order's Mongo writes -> the outbox relay's
producer span (``traceparent`` header) -> billing's FastStream consumer span -> the
invoice's Mongo writes: all in the same trace.
"""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import eventually, wait_for_assignment
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

pytestmark = pytest.mark.integration


async def test_one_trace_from_http_through_kafka_to_the_consumers_mongo_calls(
    start_service: Any,
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        # each service traces with a provider of its own: one exporter listens to all three
        exporter = InMemorySpanExporter()
        for service in (catalog, orders, billing):
            service.kit.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def place() -> Any:
            response = await orders.client.post("/orders", json=ORDER)
            return response if response.status_code == 201 else None

        order = (await eventually(place, timeout=30, interval=0.2)).json()

        async def invoiced() -> Any:
            response = await billing.client.get("/invoices", params={"order_id": order["id"]})
            return response.json()["items"]

        await eventually(invoiced, timeout=30)

        def spans_of_trace() -> list[ReadableSpan]:
            spans = exporter.get_finished_spans()
            servers = [
                s
                for s in spans
                if s.kind == SpanKind.SERVER
                and s.attributes
                and s.attributes.get("http.route") == "/orders"
                and s.attributes.get("http.request.method", s.attributes.get("http.method"))
                == "POST"
            ]
            if not servers:
                return []
            trace_id = servers[-1].context.trace_id
            return [s for s in spans if s.context.trace_id == trace_id]

        async def complete_trace() -> list[ReadableSpan] | None:
            spans = spans_of_trace()
            kinds = {s.kind for s in spans}
            names = " ".join(s.name for s in spans)
            wanted = {SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER}
            has_invoice_write = any(
                s.kind == SpanKind.CLIENT
                and (s.attributes or {}).get("db.mongodb.collection") == "invoices"
                and (s.attributes or {}).get("db.statement") == "insert"
                for s in spans
            )
            return (
                spans
                if wanted <= kinds and "orders.order.v1" in names and has_invoice_write
                else None
            )

        spans = await eventually(complete_trace, timeout=15)
        producer = next(
            s for s in spans if s.kind == SpanKind.PRODUCER and "orders.order.v1" in s.name
        )
        # The invoice insert happens inside a consumer span of orders.order.v1 (billing's;
        # the catalog's reservation consumer handles the same event in the same trace),
        # and that consumer span continues the producer's (W3C traceparent over Kafka).
        invoice_insert = next(
            s for s in spans if (s.attributes or {}).get("db.mongodb.collection") == "invoices"
        )
        assert invoice_insert.parent is not None
        by_id = {s.context.span_id: s for s in spans}
        consumer = by_id[invoice_insert.parent.span_id]
        assert consumer.kind == SpanKind.CONSUMER
        assert "orders.order.v1" in consumer.name
        assert consumer.context.trace_id == producer.context.trace_id
        assert {s.context.trace_id for s in spans} == {producer.context.trace_id}
        # and every span says which service made it
        assert _service_of(producer) == "kontor-orders"
        assert _service_of(consumer) == _service_of(invoice_insert) == "kontor-billing"
        server = next(s for s in spans if s.kind == SpanKind.SERVER)
        assert _service_of(server) == "kontor-orders"


def _service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])
