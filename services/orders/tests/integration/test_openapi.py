"""Every orders endpoint is documented: a scope, problem responses, request examples."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

OPERATIONAL = {"/health/live", "/health/ready", "/metrics", "/asyncapi.json"}
#: The electronic withdrawal function is public by law: no token, so no 401/403; so is a
#: customer's own privacy request (confirmed by a mailed link, ADR 0037).
PUBLIC = ("/withdrawals", "/privacy/public-requests")


def _has_examples(spec: dict[str, Any], body: dict[str, Any]) -> bool:
    for media in body["content"].values():
        if media.get("examples") or media.get("example"):
            return True
        ref = media.get("schema", {}).get("$ref")
        if ref and spec["components"]["schemas"][ref.rsplit("/", 1)[1]].get("examples"):
            return True
    return False


async def test_every_endpoint_has_scope_problems_and_examples(start_service: Any) -> None:
    async with start_service("orders") as orders:
        spec = (await orders.client.get("/openapi.json")).json()
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path not in OPERATIONAL and not path.startswith("/admin")
        for method, op in item.items()
    ]
    assert len(operations) >= 20
    missing = []
    for path, method, op in operations:
        responses = op["responses"]
        if not path.startswith(PUBLIC) and not {"401", "403"} <= set(responses):
            missing.append(f"{method} {path}: no 401/403")
        if "requestBody" in op and not _has_examples(spec, op["requestBody"]):
            missing.append(f"{method} {path}: request without examples")
        if "{" in path and "404" not in responses:
            missing.append(f"{method} {path}: no 404")
        if method in {"post", "put", "patch"} and "422" not in responses:
            missing.append(f"{method} {path}: no 422")
    assert missing == []
    assert {
        "/orders",
        "/orders/{order_id}",
        "/orders/{order_id}/cancel",
        "/orders/{order_id}/shipments",
        "/orders/to-ship",
        "/carts",
        "/returns",
        "/complaints",
        "/complaint-photos",
        "/withdrawals",
    } <= set(spec["paths"])
    withdrawal = spec["paths"]["/withdrawals"]["post"]
    assert "Vertrag widerrufen" in withdrawal["summary"] + withdrawal.get("description", "")
    assert "security" not in withdrawal or withdrawal["security"] == []
