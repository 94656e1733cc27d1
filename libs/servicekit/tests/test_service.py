"""create_service_app's parts: the producer holder, the kit's wiring, the typed context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from kontor_servicekit.context import (
    CONTEXT_ATTRIBUTE,
    attach_context,
    context_dependency,
    context_of,
)
from kontor_servicekit.service import Kit, ProducerHolder, ServiceDefinition, create_service_app
from kontor_servicekit.settings import settings_for

pytestmark = pytest.mark.unit


@dataclass
class OrdersContext:
    greeting: str


@dataclass
class OtherContext:
    value: int


async def test_the_holder_refuses_to_send_before_the_producer_is_started() -> None:
    holder = ProducerHolder()
    assert holder.started is False
    with pytest.raises(RuntimeError, match="not started"):
        await holder.send("t", value=b"x")
    with pytest.raises(RuntimeError, match="not started"):
        await holder.send_and_wait("t", value=b"x")
    await holder.stop()  # stopping what never started is harmless


def test_relay_and_consumers_share_one_producer_holder_and_nothing_is_patched_later() -> None:
    settings = settings_for("orders", mongo_url="mongodb://127.0.0.1:1/?connectTimeoutMS=100")
    app = create_service_app(ServiceDefinition(settings=settings, title="t", description="d"))
    kit: Kit = app.state.kit
    assert kit.relay.producer is kit.producers
    assert kit.consumers.producer is kit.producers
    with pytest.raises(RuntimeError, match="not started"):
        _ = kit.producer  # only inside the lifespan
    paths = set(app.openapi()["paths"])
    assert {"/health/ready", "/metrics", "/admin/outbox/failures"} <= paths
    assert "/admin/dead-letters" not in paths  # no subscriptions, no dead letters


async def test_a_route_gets_the_attached_context_typed() -> None:
    app = FastAPI()

    @app.get("/hello")
    async def hello(
        context: Annotated[OrdersContext, Depends(context_dependency(OrdersContext))],
    ) -> dict[str, str]:
        return {"greeting": context.greeting}

    attach_context(app, OrdersContext("moin"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/hello")
    assert response.json() == {"greeting": "moin"}
    assert getattr(app.state, CONTEXT_ATTRIBUTE).greeting == "moin"
    assert context_of(app, OrdersContext).greeting == "moin"


def test_asking_for_a_context_that_is_missing_or_of_another_class_fails_loudly() -> None:
    app = FastAPI()
    with pytest.raises(RuntimeError, match="no service context attached"):
        context_of(app, OrdersContext)
    attach_context(app, OtherContext(1))
    with pytest.raises(RuntimeError, match="is a OtherContext, not a OrdersContext"):
        context_of(app, OrdersContext)


async def test_a_services_own_readiness_checks_are_listed_and_a_raising_one_is_named() -> None:
    settings = settings_for("orders", mongo_url="mongodb://127.0.0.1:1/?connectTimeoutMS=100")

    async def incomplete(kit: Kit) -> str:
        return "seller master data lacks city"

    async def broken(kit: Kit) -> str:
        raise RuntimeError("boom")

    definition = ServiceDefinition(
        settings=settings,
        title="t",
        description="d",
        readiness={"seller": incomplete, "other": broken},
    )
    app = create_service_app(definition)
    transport = httpx.ASGITransport(app=app)  # no lifespan: database and broker are down
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["seller"] == "seller master data lacks city"
    assert checks["other"] == "failed: RuntimeError"
