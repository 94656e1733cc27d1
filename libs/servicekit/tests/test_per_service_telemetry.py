"""Two services in one process: each one's spans and log lines carry its own name."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Request
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import Transaction
from kontor_servicekit.testing import eventually
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

pytestmark = pytest.mark.integration

log = logging.getLogger("kontor.test.whoami")


def _whoami_router(service: str) -> APIRouter:
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        log.info("whoami %s", service)
        await request.app.state.kit.store.db["whoami"].find_one({})
        return {"service": service}

    return router


def _app(settings: ServiceSettings) -> Any:
    name = settings.service_name
    return create_service_app(
        ServiceDefinition(
            settings=settings, title=name, description=name, routers=[_whoami_router(name)]
        )
    )


def _names(spans: list[ReadableSpan]) -> set[str]:
    return {str(s.resource.attributes["service.name"]) for s in spans}


async def test_each_service_traces_and_logs_under_its_own_name(
    kit_settings_for: Callable[[str], ServiceSettings], capsys: pytest.CaptureFixture[str]
) -> None:
    orders_app, billing_app = _app(kit_settings_for("orders")), _app(kit_settings_for("billing"))
    orders_kit: Kit = orders_app.state.kit
    billing_kit: Kit = billing_app.state.kit
    exporters = {"orders": InMemorySpanExporter(), "billing": InMemorySpanExporter()}
    for name, kit in (("orders", orders_kit), ("billing", billing_kit)):
        kit.tracer_provider.add_span_processor(SimpleSpanProcessor(exporters[name]))

    async with (
        LifespanManager(orders_app, startup_timeout=60) as orders,
        LifespanManager(billing_app, startup_timeout=60) as billing,
    ):
        clients = {
            name: httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t")
            for name, m in (("orders", orders), ("billing", billing))
        }
        for _ in range(2):  # interleaved
            for name, client in clients.items():
                assert (await client.get("/whoami")).json() == {"service": name}
        for client in clients.values():
            await client.aclose()

        async def emit(tx: Transaction) -> None:
            envelope = order_placed_envelope()
            tx.emit(envelope.payload_model(), aggregate_id=envelope.aggregate_id)

        await orders_kit.store.transaction(emit)
        await eventually(lambda: _backlog_is_zero(orders_kit), timeout=15)
        for kit in (orders_kit, billing_kit):
            await kit.store.client.drop_database(kit.store.db.name)

    for name, exporter in exporters.items():
        spans = list(exporter.get_finished_spans())
        assert _names(spans) == {f"kontor-{name}"}, name
        servers = [s for s in spans if s.kind == SpanKind.SERVER]
        assert len([s for s in servers if s.name == "GET /whoami"]) == 2, name
        mongo = [
            s
            for s in spans
            if s.kind == SpanKind.CLIENT
            and (s.attributes or {}).get("db.mongodb.collection") == "whoami"
        ]
        assert len(mongo) == 2, name  # the service's own client, traced by its own provider
        assert {(s.attributes or {}).get("db.name") for s in mongo} == {
            (orders_kit if name == "orders" else billing_kit).store.db.name
        }
    producers = [s for s in exporters["orders"].get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert len(producers) == 1  # the outbox relay traces with the orders provider
    assert not [s for s in exporters["billing"].get_finished_spans() if s.kind == SpanKind.PRODUCER]

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    whoami = [(line["msg"], line["service"]) for line in lines if line["msg"].startswith("whoami")]
    assert whoami == [
        ("whoami orders", "orders"),
        ("whoami billing", "billing"),
        ("whoami orders", "orders"),
        ("whoami billing", "billing"),
    ]
    lifecycle = {
        (line["msg"].split()[0], line["service"])
        for line in lines
        if line["logger"] == "kontor_servicekit.service"
    }
    # started and stopping, logged from each lifespan under its own name
    assert lifecycle == {("orders", "orders"), ("billing", "billing")}


async def _backlog_is_zero(kit: Kit) -> bool:
    return await kit.relay.backlog() == 0
