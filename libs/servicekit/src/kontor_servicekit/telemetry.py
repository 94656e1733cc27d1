"""OpenTelemetry: one trace from an HTTP request through the outbox and Kafka.

HTTP spans come from the FastAPI instrumentation, Mongo spans from the PyMongo
instrumentation (command listeners, which the async client uses too), producer
spans from the outbox relay (which injects W3C ``traceparent``), and consumer
spans from FastStream's Kafka telemetry middleware (which extracts it).
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

log = logging.getLogger(__name__)

_pymongo_instrumented = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """The process's tracer provider; exports over OTLP/HTTP only when configured.

    Without an endpoint spans are still created, so trace ids reach the logs and
    the Kafka headers, they are just not exported.
    """
    global _pymongo_instrumented
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=Resource.create({"service.name": f"kontor-{service}"}))
        trace.set_tracer_provider(provider)
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        log.info("exporting traces to %s", endpoint)
    if not _pymongo_instrumented:
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument(tracer_provider=provider)
        _pymongo_instrumented = True
    return provider
