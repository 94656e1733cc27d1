"""Through a real uvicorn socket, served as ``run_service`` serves: a made-up
X-Forwarded-For does not dodge the withdrawal rate limit, and hostile JSON is a 400.

Before (issue 9) the services ran with uvicorn's ``proxy_headers`` on and its default
``forwarded_allow_ips`` of 127.0.0.1, so every local client could choose its address:
30 of 30 requests with made-up values passed while the real address was limited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from kontor_local.runtime import free_port
from kontor_servicekit.testing import serve_on_socket
from kontor_servicekit.testing import test_settings as isolated_settings

pytestmark = pytest.mark.security

LIMIT = 3
BODY = {"order_number": "B-2026-999999", "email": "nobody@example.de"}


@asynccontextmanager
async def served(
    service: str, infra: Any, namespace: str, public_key: str, **overrides: Any
) -> AsyncIterator[str]:
    settings = isolated_settings(
        service,
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        namespace=namespace,
        public_key=public_key,
        idempotent=infra.idempotent_producer,
        http_port=free_port(),
        **overrides,
    )
    async with serve_on_socket(service, settings) as running:
        yield running.url


async def forged_posts(url: str, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        return [
            (
                await client.post(
                    "/withdrawals", json=BODY, headers={"X-Forwarded-For": f"203.0.113.{i}"}
                )
            ).status_code
            for i in range(count)
        ]


async def test_a_made_up_forwarded_for_does_not_dodge_the_rate_limit(
    infra: Any, namespace: str, auth_keys: Any
) -> None:
    async with served(
        "orders", infra, namespace, auth_keys.public_pem, withdrawal_rate_limit=LIMIT
    ) as url:
        statuses = await forged_posts(url, LIMIT + 5)
    assert statuses[:LIMIT] == [404] * LIMIT  # no such order: admitted and answered
    assert statuses[LIMIT:] == [429] * 5  # every made-up address is still the socket's


async def test_a_configured_proxy_is_believed(infra: Any, namespace: str, auth_keys: Any) -> None:
    """The control: with loopback configured as the proxy (as before, by uvicorn's default),
    each forwarded address counts on its own, so the test above can tell the two apart."""
    async with served(
        "orders",
        infra,
        namespace,
        auth_keys.public_pem,
        withdrawal_rate_limit=LIMIT,
        trusted_proxies="127.0.0.1",
    ) as url:
        statuses = await forged_posts(url, LIMIT + 5)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            same = [
                (
                    await client.post(
                        "/withdrawals", json=BODY, headers={"X-Forwarded-For": "198.51.100.7"}
                    )
                ).status_code
                for _ in range(LIMIT + 1)
            ]
    assert statuses == [404] * (LIMIT + 5)
    assert same == [404] * LIMIT + [429]  # the forwarded address is what is limited


async def test_hostile_json_over_a_socket_is_a_400(
    infra: Any, namespace: str, auth_keys: Any
) -> None:
    async with (
        served("orders", infra, namespace, auth_keys.public_pem) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        answers = []
        for raw in (
            b'{"order_number": "B-2026-000001", "email": NaN}',
            b'{"order_number": 1e400, "email": "a@b.de"}',
            b'{"order_number": "\\ud800", "email": "a@b.de"}',
            b'{"order_number": "\xff\xfe", "email": "a@b.de"}',
        ):
            response = await client.post(
                "/withdrawals", content=raw, headers={"content-type": "application/json"}
            )
            answers.append((response.status_code, response.headers["content-type"]))
            assert response.headers["x-frame-options"] == "DENY"
    assert answers == [(400, "application/problem+json")] * 4
