"""The public withdrawal page of orders (``GET /withdrawals``) in headless Chromium,
as a customer uses it: fill the form, submit, read the answer. The page keeps to its
Content-Security-Policy (no violation, no request to another origin, no console error)
and does not render inside a frame of another origin (``frame-ancestors 'none'``)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_an_unknown_order_is_answered_on_the_page(served: Any, watch: Any) -> None:
    url = served.services["orders"].url
    watched = watch()
    watched.page.goto(f"{url}/withdrawals")
    watched.page.fill("input[name=order_number]", "B-2026-999999")
    watched.page.fill("input[name=email]", "nobody@example.de")
    watched.page.click("button[type=submit]")
    watched.page.wait_for_selector("#result:not(:empty)", timeout=10_000)
    assert "B-2026-999999" in watched.page.inner_text("#result")
    assert watched.violations() == []
    assert watched.other_origins(url) == []
    # The 404 of the unknown order is the answer, not an error of the page.
    assert [e for e in watched.console_errors if "404" not in e] == []


def test_a_delivered_order_is_withdrawn_on_the_page(
    served: Any, watch: Any, anna_order: str
) -> None:
    url = served.services["orders"].url
    watched = watch()
    watched.page.goto(f"{url}/withdrawals")
    watched.page.fill("input[name=order_number]", anna_order)
    watched.page.fill("input[name=email]", "ANNA@example.de")
    watched.page.get_by_role("button", name="Weiter").click()
    watched.page.wait_for_selector("#summary:not(:empty)", timeout=10_000)
    assert watched.page.inner_text("#summary") == "Widerruf für 2 x TEE-RED-M, 1 x MUG-1"
    watched.page.get_by_role("button", name="Vertrag widerrufen").click()
    watched.page.wait_for_selector("#result:not(:empty)", timeout=10_000)
    receipt = watched.page.inner_text("#result")
    assert receipt.startswith(f"Ihr Widerruf zur Bestellung {anna_order} ist am ")
    assert receipt.endswith(" Uhr eingegangen.")
    assert watched.violations() == []
    assert watched.other_origins(url) == []
    assert watched.console_errors == []


def test_framed_from_another_origin_it_does_not_render(served: Any, watch: Any) -> None:
    url = served.services["orders"].url
    framing = watch()
    framing.page.set_content(f'<iframe src="{url}/withdrawals"></iframe>')
    framing.page.wait_for_timeout(1_000)
    [frame] = framing.page.frames[1:]
    assert frame.evaluate("document.body ? document.body.innerText : ''") == ""
    assert any(issue.startswith("frame-ancestors") for issue in framing.csp_issues)
