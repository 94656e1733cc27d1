"""Every service: the browser's defences on every HTML page (and every other answer),
/docs from the package with no other origin, and a 405 whose Allow lists every method."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.security.openapi_routes import SERVICES, matches, methods_by_path, operations

pytestmark = pytest.mark.security

#: Pages opened from a signed link in a mail: a made-up token gets the page that says the
#: link did nothing, with this status (and every defence of a page).
SIGNED_LINK_PAGES = {
    "/newsletter/confirmations/{token}": 400,
    "/newsletter/unsubscribe/{token}": 400,
}

EXTERNAL = re.compile(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def assert_defended(response: Any, where: str) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "default-src 'none'" in policy, where
    assert "'unsafe-eval'" not in policy, where
    assert not re.search(r"script-src[^;]*'unsafe-inline'", policy), where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where


@pytest.mark.parametrize("name", SERVICES)
async def test_every_html_page_and_answer_carries_the_browser_defences(
    name: str, start_service: Any
) -> None:
    async with start_service(name) as service:
        client = service.client
        document = (await client.get("/openapi.json")).json()
        html_routes = [
            (op.url(), SIGNED_LINK_PAGES.get(op.template, 200))
            for op in operations(document)
            if op.method == "GET"
            and "text/html" in op.spec["responses"].get("200", {}).get("content", {})
        ]
        if name == "orders":
            summary = "/privacy/requests/probe-0/summary"
            assert sorted(html_routes) == sorted([("/withdrawals", 200), (summary, 200)])
            asked = await client.post(
                "/privacy/requests", json={"kind": "export", "email": "anna@example.de"}
            )
            html_routes = [
                (u.replace("probe-0", asked.json()["id"]), code) for u, code in html_routes
            ]
        pages = 0
        for url, expected in [*html_routes, ("/docs", 200), ("/redoc", 200)]:
            page = await client.get(url)
            assert page.status_code == expected, url
            assert page.headers["content-type"].startswith("text/html"), url
            assert_defended(page, url)
            assert not EXTERNAL.search(page.text), url  # nothing from another origin
            for asset in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
                served = await client.get(asset)
                assert served.status_code == 200, asset
                assert served.headers["x-content-type-options"] == "nosniff"
            pages += 1
        others = [
            await client.get("/openapi.json"),
            await client.get("/health/live"),
            await client.get("/metrics"),
            await client.get("/nowhere"),
            await client.get("/admin/outbox", headers={"Authorization": "Bearer nope"}),
        ]
        for response in others:
            assert_defended(response, str(response.url))
        print(f"{name}: {pages} HTML pages, {len(others)} other answers checked")


async def test_the_withdrawal_pages_run_no_script_and_post_only_to_their_origin(
    start_service: Any,
) -> None:
    """The withdrawal page works without JavaScript (issue 10 point 16): its policy
    allows no script at all (no inline hash), its one stylesheet and its form posts from
    the same origin only, also on a step after a form post."""
    async with start_service("orders", token=None) as orders:
        first = await orders.client.get("/withdrawals")
        step = await orders.client.post(
            "/withdrawals/page/lines", data={"order_number": "B-1", "email": "a@b.de"}
        )
        assert step.status_code == 404  # no such order: the first step again, in German
        for page in (first, step):
            policy = page.headers["content-security-policy"]
            assert "<script" not in page.text and "style=" not in page.text
            assert re.findall(r"'sha256-[^']+'", policy) == []  # nothing inline to allow
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy
            assert "style-src 'self'" in policy and "form-action 'self'" in policy
            assert re.findall(r'action="([^"]+)"', page.text) == ["/withdrawals/page/lines"]


@pytest.mark.parametrize("name", SERVICES)
async def test_405_allow_lists_every_method_of_the_path(name: str, start_service: Any) -> None:
    async with start_service(name) as service:
        document = (await service.client.get("/openapi.json")).json()
        by_path = methods_by_path(document)
        probed = 0
        for template in by_path:
            path = re.sub(r"\{[^}]+\}", "probe-0", template)
            expected = set().union(*(m for t, m in by_path.items() if matches(t, path)))
            missing = [m for m in ("DELETE", "PUT", "PATCH", "POST", "GET") if m not in expected]
            if not missing:
                continue
            response = await service.client.request(missing[0], path)
            assert response.status_code == 405, (template, missing[0])
            allow = {m.strip() for m in response.headers["allow"].split(",")}
            assert allow == expected, (template, allow, expected)
            assert response.headers["content-type"] == "application/problem+json"
            probed += 1
        assert probed == len(by_path)
        print(f"{name}: 405 Allow checked on {probed} paths")
