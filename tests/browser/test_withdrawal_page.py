"""The public withdrawal page of orders (``GET /withdrawals``) in headless Chromium,
as a customer uses it (issue 10 point 16): server-rendered forms, so the whole flow
works with JavaScript switched off in the browser. Order number and e-mail,
"Vertrag widerrufen", the lines by product name, "Widerruf bestätigen", the receipt;
a second confirmation shows the same receipt; German or English by the browser's
Accept-Language. No CSP violation (with JavaScript off Chromium's own report: no
listener can run), no request to another origin, no console error; framed from
another origin it does not render (``frame-ancestors 'none'``)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Per browser language: the page's lang, its three buttons, and the receipt's words.
STEPS = {
    "de-DE": (
        "de",
        "Vertrag widerrufen",
        "Weiter",
        "Widerruf bestätigen",
        "Ihr Widerruf zur Bestellung {number} ist am ",
    ),
    "en-GB": (
        "en",
        "Withdraw from contract",
        "Next",
        "Confirm withdrawal",
        "Your withdrawal from order {number} was received on ",
    ),
}


@pytest.mark.parametrize("locale", list(STEPS))
def test_the_whole_withdrawal_works_without_javascript(
    locale: str, served: Any, watch: Any, anna_order: str, product_names: dict[str, str]
) -> None:
    lang, start, next_step, confirm, received = STEPS[locale]
    shirt, mug = product_names["TEE-RED-M"], product_names["MUG-1"]
    url = served.services["orders"].url
    watched = watch(java_script=False, locale=locale)  # Accept-Language: the locale
    page = watched.page
    page.goto(f"{url}/withdrawals")
    assert page.locator("html").get_attribute("lang") == lang
    page.fill("#order_number", anna_order)
    page.fill("#email", "ANNA@example.de")
    page.get_by_role("button", name=start).click()

    lines = page.inner_text("body")
    assert shirt in lines and mug in lines  # by product name
    page.fill("#quantity-1", "1")
    page.fill("#quantity-2", "0")  # keep the mug
    page.get_by_role("button", name=next_step).click()

    review = page.inner_text("body")
    assert shirt in review and mug not in review
    page.get_by_role("button", name=confirm).click()
    receipt = page.inner_text("body")
    assert received.format(number=anna_order) in receipt
    assert shirt in receipt and mug not in receipt

    page.go_back()  # the confirmation step again, and a second click
    page.get_by_role("button", name=confirm).click()
    assert page.inner_text("body") == receipt

    assert watched.violations() == []
    assert watched.other_origins(url) == []
    assert watched.console_errors == []


def test_an_unknown_order_is_answered_on_the_page(served: Any, watch: Any) -> None:
    """With JavaScript on too: the page's own securitypolicyviolation listener runs."""
    url = served.services["orders"].url
    watched = watch(locale="de-DE")
    watched.page.goto(f"{url}/withdrawals")
    watched.page.fill("#order_number", "B-2026-999999")
    watched.page.fill("#email", "nobody@example.de")
    watched.page.get_by_role("button", name="Vertrag widerrufen").click()
    assert "Wir finden keine Bestellung" in watched.page.inner_text("body")
    assert watched.page.input_value("#order_number") == "B-2026-999999"  # kept
    assert watched.violations() == []
    assert watched.other_origins(url) == []
    # The 404 of the unknown order is the answer, not an error of the page.
    assert [e for e in watched.console_errors if "404" not in e] == []


def test_framed_from_another_origin_it_does_not_render(served: Any, watch: Any) -> None:
    url = served.services["orders"].url
    framing = watch()
    framing.page.set_content(f'<iframe src="{url}/withdrawals"></iframe>')
    framing.page.wait_for_timeout(1_000)
    [frame] = framing.page.frames[1:]
    assert frame.evaluate("document.body ? document.body.innerText : ''") == ""
    assert any(issue.startswith("frame-ancestors") for issue in framing.csp_issues)
