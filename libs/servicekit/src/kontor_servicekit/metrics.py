"""Prometheus metrics of one service, on a registry of its own (no globals)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pymongo import monitoring
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServiceMetrics:
    """The figures an operations team scales and alerts on."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.http_latency = Histogram(
            "kontor_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.events_handled = Counter(
            "kontor_events_handled_total",
            "Consumed events by group, type and outcome",
            ["group", "event_type", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "kontor_dead_letters_total",
            "Messages dead-lettered: parked in dead_letters and, unless that publish "
            "failed, on the group's dead-letter topic",
            ["group", "topic"],
            registry=self.registry,
        )
        self.dead_letter_publish_failures = Counter(
            "kontor_dead_letter_publish_failures_total",
            "Dead letters the dead-letter topic refused (too large, broker error): kept "
            "in the dead_letters collection only",
            ["group", "dead_letter_topic", "error_type"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "kontor_events_published_total",
            "Outbox rows published to Kafka",
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "kontor_outbox_backlog",
            "Outbox rows committed but not yet published (pending, in flight or failed)",
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "kontor_outbox_failed",
            "Outbox rows whose last publish attempt failed (retrying or given up)",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "kontor_consumer_lag",
            "Messages behind the partition's high watermark",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.handle_seconds = Histogram(
            "kontor_event_handle_seconds",
            "Time from taking an event until its transaction (inbox, effect, outbox) "
            "committed, by group and type: the serial cost of one consumed event",
            ["group", "event_type"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.db_commands = Counter(
            "kontor_db_commands_total",
            "Database commands sent, by command and collection (cost per order in make bench)",
            ["command", "collection"],
            registry=self.registry,
        )
        self.db_command_seconds = Counter(
            "kontor_db_command_seconds_total",
            "Seconds database commands took, client side, by command",
            ["command"],
            registry=self.registry,
        )
        self.db_command_failures = Counter(
            "kontor_db_command_failures_total",
            "Database commands that failed, by command and server error code (112: a write "
            "conflict between transactions, retried; 251: a transaction the server aborted)",
            ["command", "code"],
            registry=self.registry,
        )
        self._refreshers: list[Callable[[], Awaitable[None]]] = []

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.events_handled.labels(group, event_type, outcome).inc()

    def observe_handling(self, group: str, event_type: str, seconds: float) -> None:
        self.handle_seconds.labels(group, event_type).observe(seconds)

    def dead_lettered(self, group: str, topic: str) -> None:
        self.dead_letters.labels(group, topic).inc()

    def dead_letter_publish_failed(self, group: str, topic: str, error_type: str) -> None:
        self.dead_letter_publish_failures.labels(group, topic, error_type).inc()

    def published(self, count: int) -> None:
        self.events_published.inc(count)

    def db_listener(self) -> monitoring.CommandListener:
        """A PyMongo listener (``event_listeners=[...]``) counting this client's commands."""
        return _DbCommandCounter(self)

    def add_refresher(self, refresher: Callable[[], Awaitable[None]]) -> None:
        """Register a coroutine that updates gauges right before a scrape."""
        self._refreshers.append(refresher)

    async def render(self) -> bytes:
        for refresher in self._refreshers:
            try:
                await refresher()
            except Exception:  # a scrape must not fail because one source is down
                continue
        return generate_latest(self.registry)


#: Commands that are the driver's own housekeeping, not the service's work.
_HOUSEKEEPING = frozenset(
    {
        "hello",
        "ismaster",
        "isMaster",
        "ping",
        "saslStart",
        "saslContinue",
        "endSessions",
        "buildInfo",
        "getMore",
    }
)


class _DbCommandCounter(monitoring.CommandListener):
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name in _HOUSEKEEPING:
            return
        target = event.command.get(name)
        collection = target if isinstance(target, str) else "-"
        self.metrics.db_commands.labels(name, collection).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in _HOUSEKEEPING:
            self.metrics.db_command_seconds.labels(event.command_name).inc(
                event.duration_micros / 1e6
            )

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name not in _HOUSEKEEPING:
            self.metrics.db_command_seconds.labels(event.command_name).inc(
                event.duration_micros / 1e6
            )
            code = event.failure.get("code") if isinstance(event.failure, dict) else None
            self.metrics.db_command_failures.labels(event.command_name, str(code or "-")).inc()


class HttpMetricsMiddleware:
    """Records the latency of every request under its route template, not its path.

    The outermost middleware: a request the edge refuses before routing (400 for
    non-standard JSON, 413 for an oversized body) is counted under the template of the
    route it was addressed to, like every other answer.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route: Any = scope.get("route") or _addressed_route(scope)
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.http_latency.labels(
                scope.get("method", ""), template, str(status["code"])
            ).observe(time.perf_counter() - started)


def _addressed_route(scope: Scope) -> Any:
    """The route a request refused before routing was addressed to (``None``: no route)."""
    app: Any = scope.get("app")
    router = getattr(app, "router", None)
    for route in iter_route_contexts(getattr(router, "routes", ())):  # included routers too
        if route.matches(scope)[0] is Match.FULL:
            return route
    return None
