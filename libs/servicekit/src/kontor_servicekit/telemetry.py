"""OpenTelemetry: one trace from an HTTP request through the outbox and Kafka.

HTTP spans come from the FastAPI instrumentation, Mongo spans from the PyMongo
instrumentation's command listener (registered on the service's own client, which
the async client uses too), producer spans from the outbox relay (which injects W3C
``traceparent``), and consumer spans from FastStream's Kafka telemetry middleware
(which extracts it).

Every service app has a tracer provider of its own (``service.name`` =
``kontor-<service>``), given explicitly to each of those four, so several services
in one process (tests, the benchmark) keep their spans apart. The first provider made
in a process also becomes the global one, for code that asks OpenTelemetry for "the"
tracer; with one service per process, as deployed, that is the service's own.
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pymongo import monitoring

log = logging.getLogger(__name__)


def configure_tracing(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """A new tracer provider for ``service``; exports over OTLP/HTTP only when configured.

    Without an endpoint spans are still created, so trace ids reach the logs and
    the Kafka headers, they are just not exported.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": f"kontor-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        log.info("exporting traces to %s", endpoint)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)  # the process default (set once, first wins)
    return provider


def mongo_command_tracer(provider: trace.TracerProvider) -> monitoring.CommandListener:
    """The PyMongo instrumentation's listener, for one client (``event_listeners=[...]``).

    ``PymongoInstrumentor`` registers one listener for every client of the process,
    with the provider of whoever called it first; this one traces into ``provider``.
    """
    from opentelemetry.instrumentation._semconv import (
        _OpenTelemetrySemanticConventionStability,
        _OpenTelemetryStabilitySignalType,
    )
    from opentelemetry.instrumentation.pymongo import CommandTracer
    from opentelemetry.instrumentation.pymongo.version import __version__

    _OpenTelemetrySemanticConventionStability._initialize()  # type: ignore[no-untyped-call]
    mode = _OpenTelemetrySemanticConventionStability._get_opentelemetry_stability_opt_in_mode(
        _OpenTelemetryStabilitySignalType.DATABASE
    )
    tracer = provider.get_tracer("opentelemetry.instrumentation.pymongo", __version__)
    return CommandTracer(tracer, semconv_opt_in_mode=mode)
