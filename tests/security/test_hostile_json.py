"""NaN, Infinity, 1e400 and lone surrogates at every value of every JSON route of every
service: a 400 problem+json before any handler, nothing stored, one log line each.

Before the kit's StrictJsonMiddleware these answered 500 with a 5 kB traceback (issue
9: 21 of 21 and 6 of 6 routes tried), the public ``POST /withdrawals`` included.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.security.openapi_routes import SERVICES, hostile_bodies, instance, operations

pytestmark = pytest.mark.security

BROWSER_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


async def stored_documents(service: Any) -> dict[str, int]:
    db = service.kit.store.db
    return {name: await db[name].count_documents({}) for name in await db.list_collection_names()}


@pytest.mark.parametrize("name", SERVICES)
async def test_hostile_json_is_refused_at_every_route_and_nothing_is_stored(
    name: str, start_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with start_service(name) as service:
        document = (await service.client.get("/openapi.json")).json()
        before = await stored_documents(service)
        routes, tries, answers = 0, 0, {}
        with caplog.at_level(logging.WARNING):
            for operation in operations(document):
                schema = operation.json_schema
                # a route without a JSON body gets the hostile values as its whole body
                base = None if schema is None else instance(schema, document)
                routes += schema is not None
                for pointer, what, body in hostile_bodies(base):
                    tries += 1
                    response = await service.client.request(
                        operation.method,
                        operation.url(),
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    where = f"{operation.method} {operation.template} {pointer} {what}"
                    answers[response.status_code] = answers.get(response.status_code, 0) + 1
                    assert response.status_code == 400, (where, response.text[:300])
                    assert response.headers["content-type"] == "application/problem+json"
                    assert response.json()["errors"], where
                    assert all(h in response.headers for h in BROWSER_HEADERS), where
        assert await stored_documents(service) == before
        tracebacks = [r for r in caplog.records if r.exc_info is not None]
        assert tracebacks == []
        refused = [r for r in caplog.records if "refused non-standard JSON" in r.getMessage()]
        assert len(refused) == tries
        print(f"{name}: {routes} JSON routes, {tries} tries, answers {answers}")
        if name in ("catalog", "orders"):
            assert routes > 0  # the services with JSON routes were probed


async def test_the_public_withdrawal_form_refuses_hostile_json_without_a_token(
    start_service: Any,
) -> None:
    async with start_service("orders", token=None) as orders:
        before = await stored_documents(orders)
        body = {"order_number": "B-2026-000001", "email": "anna@example.de"}
        for _, what, text in hostile_bodies(body):
            response = await orders.client.post(
                "/withdrawals", content=text, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400, (what, response.text)
        assert await stored_documents(orders) == before
