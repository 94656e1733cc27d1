"""Every query parameter of every GET of every service takes exactly what its OpenAPI
says (issue 9): ``page=1.0``, ``1_000``, `` 1``, ``+1``, Arabic-Indic digits, ``yes``
for a boolean, a timestamp for a date are a 422 problem+json naming ``query.<name>``,
never a lax reading. The parameters are read from the OpenAPI, so a new one is probed
without anyone listing it."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from kontor_servicekit.testing import Keys
from kontor_servicekit.testing import test_settings as isolated_settings

from tests.security.openapi_routes import SERVICES, operations

pytestmark = pytest.mark.security

#: Spellings a lax parser reads as the number 1; the OpenAPI says "integer".
BAD_INTEGERS = ("1.0", "1_000", " 1", "1 ", "+1", "01", "\u0661", "true", "1e3", "0x1")
BAD_BOOLEANS = ("yes", "on", "1", "t", "True", " true")
BAD_DATES = ("2026-12-01T00:00:00", "1700000000", "20261201", " 2026-12-01", "2026-12-01 ")
BAD_MOMENTS = ("1700000000", "2026-12-01 09:00:00+00:00", "2026-12-01T09:00:00", " 2026-12-01")


def _kinds(schema: dict[str, Any]) -> set[str]:
    """'integer', 'boolean', 'date', 'moment' (date or date-time) for a parameter schema."""
    options = schema.get("anyOf", [schema])
    formats = {o.get("format") for o in options}
    types = {o.get("type") for o in options}
    if {"date", "date-time"} <= formats:
        return {"moment"}
    if "date" in formats:
        return {"date"}
    return types & {"integer", "boolean"}


BAD = {"integer": BAD_INTEGERS, "boolean": BAD_BOOLEANS, "date": BAD_DATES}
BAD["moment"] = BAD_MOMENTS


@asynccontextmanager
async def unstarted(name: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    """The service's app without its lifespan: no broker, no database. A query parameter
    is refused before the route runs, so nothing is reached that would need them."""
    settings = isolated_settings(
        name,
        kafka_bootstrap="127.0.0.1:9",
        mongo_url="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100",
        namespace="query-params",
        public_key=keys.public_pem,
        idempotent=False,
    )
    app = importlib.import_module(f"kontor_{name}.main").create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://{name}",
        headers={"Authorization": f"Bearer {keys.token()}"},
    ) as client:
        yield client


@pytest.mark.parametrize("name", SERVICES)
async def test_query_parameters_take_only_what_the_openapi_says(name: str, auth_keys: Keys) -> None:
    async with unstarted(name, auth_keys) as client:
        document = (await client.get("/openapi.json")).json()
        probed, tries = set(), 0
        for operation in operations(document):
            if operation.method != "GET":
                continue
            for parameter in operation.spec.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for kind in _kinds(parameter["schema"]):
                    probed.add(kind)
                    for value in BAD[kind]:
                        tries += 1
                        params = {
                            p["name"]: "2026-12-01"
                            for p in operation.spec["parameters"]
                            if p.get("required") and p["in"] == "query"
                        }
                        params[parameter["name"]] = value
                        response = await client.get(operation.url(), params=params)
                        where = f"GET {operation.template}?{parameter['name']}={value!r}"
                        assert response.status_code == 422, (where, response.text[:300])
                        assert response.headers["content-type"] == "application/problem+json"
                        locs = [e["loc"] for e in response.json()["errors"]]
                        assert ["query", parameter["name"]] in locs, (where, locs)
        print(f"{name}: {tries} tries of {sorted(probed)} query parameters, all 422")
        assert "integer" in probed  # every service has the kit's paged admin lists
        if name == "orders":
            assert "moment" in probed
        if name == "billing":
            assert "date" in probed
        if name == "catalog":
            assert "boolean" in probed


async def test_the_canonical_spellings_still_pass(start_service: Any) -> None:
    async with start_service("orders") as orders:
        for query in (
            "page=1&page_size=200",
            "from=2026-12-01&to=2026-12-01T09:00:00Z",
            "from=2026-12-01T09:00:00%2B01:00",
        ):
            response = await orders.client.get(f"/orders?{query}")
            assert response.status_code == 200, (query, response.text[:300])
        response = await orders.client.get("/admin/dead-letters?status=parked&page=2")
        assert response.status_code == 200, response.text[:300]
