"""The typed service container reaches the routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from kontor_servicekit.context import attach_context, context_dependency, context_of

pytestmark = pytest.mark.unit


@dataclass
class Things:
    greeting: str


async def test_a_route_gets_the_attached_container_typed() -> None:
    app = FastAPI()
    attach_context(app, Things("moin"))

    @app.get("/")
    async def hello(ctx: Annotated[Things, Depends(context_dependency(Things))]) -> str:
        return ctx.greeting

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/")).json() == "moin"


def test_asking_for_a_container_of_another_type_fails_loudly() -> None:
    app = FastAPI()
    attach_context(app, "not things")
    with pytest.raises(RuntimeError, match="no Things attached"):
        context_of(app, Things)
