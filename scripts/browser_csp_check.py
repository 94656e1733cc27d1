"""A real browser against a running orders service: its pages work under their CSP.

``make test`` runs these checks itself (the browser tier, ``tests/browser/``); this
script points them at a service that is already running, by hand:

    ./scripts/ensure-browser.sh                      # Debian's chromium-headless-shell
    make run                                         # orders on 8002
    .venv/bin/python scripts/browser_csp_check.py http://127.0.0.1:8002

Submits the withdrawal form (an unknown order: the page shows the 404's detail),
renders /docs (Swagger UI) and /redoc, frames the form from another origin, and
prints what it saw: the Content-Security-Policy violations per page, requests to
other origins, console errors. Exit status 1 if a page did not render or a script or
style was refused.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from playwright.sync_api import sync_playwright

BROWSER = "/usr/bin/chromium-headless-shell"
RECORD_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', e => {"
    " (window.__v = window.__v || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
)


def check(url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        page = browser.new_page()
        console: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("request", lambda r: requests.append(r.url))
        page.add_init_script(RECORD_VIOLATIONS)

        page.goto(f"{url}/withdrawals")
        page.fill("input[name=order_number]", "B-2026-999999")
        page.fill("input[name=email]", "nobody@example.de")
        page.click("button[type=submit]")
        page.wait_for_selector("#result:not(:empty)", timeout=10_000)
        seen["withdrawal_result"] = page.inner_text("#result")
        seen["withdrawal_violations"] = page.evaluate("window.__v || []")

        page.goto(f"{url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        seen["docs_operations"] = page.locator(".opblock").count()
        seen["docs_violations"] = page.evaluate("window.__v || []")

        page.goto(f"{url}/redoc")
        page.wait_for_selector("h1", timeout=30_000)
        page.wait_for_timeout(1_500)
        seen["redoc_title"] = page.inner_text("h1")
        seen["redoc_violations"] = page.evaluate("window.__v || []")

        framing = browser.new_page()
        framing.set_content(f'<iframe src="{url}/withdrawals"></iframe>')
        framing.wait_for_timeout(2_000)
        framed = framing.frames[1].evaluate("document.body ? document.body.innerText : ''")
        seen["framed_text"] = framed[:40]

        seen["other_origins"] = sorted(
            {r for r in requests if not r.startswith((url, "data:", f"blob:{url}"))}
        )
        seen["console_errors"] = [c for c in console if c.startswith("error")]
        browser.close()
    return seen


def main() -> int:
    seen = check(sys.argv[1].rstrip("/"))
    print(json.dumps(seen, indent=1, ensure_ascii=False))
    refused = [
        v
        for key in ("withdrawal_violations", "docs_violations", "redoc_violations")
        for v in seen[key]
        if v.startswith(("script-src", "style-src", "connect-src"))
    ]
    rendered = seen["withdrawal_result"] and seen["docs_operations"] and seen["redoc_title"]
    return 0 if rendered and not refused and not seen["framed_text"] else 1


if __name__ == "__main__":
    sys.exit(main())
