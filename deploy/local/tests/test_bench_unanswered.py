"""A POST the bench gets no answer to is a counted failure, not the end of the bench.

The open loop offers more than the pipeline takes (50/s against ~11/s on 2026-12-04), so
some POSTs outlive the client's timeout; one ``ReadTimeout`` ended ``make bench`` with a
traceback and no report. Such a POST may have been accepted, so it is not retried.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kontor_local.bench import Flow, Placing

pytestmark = pytest.mark.unit


async def test_a_post_without_an_answer_is_counted_by_kind_and_not_retried() -> None:
    sent: list[str] = []

    def orders(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(201, json={"id": f"o-{len(sent)}"})

    flow = Flow({"billing": "http://billing"}, "token", platform=None)  # type: ignore[arg-type]
    client = httpx.AsyncClient(base_url="http://orders", transport=httpx.MockTransport(orders))
    order: dict[str, Any] = {"lines": []}
    async with client, Placing(flow, readers=1, count=2) as placing:
        await placing.post(client, order, index=1, sent=0.0, sample_every=0)
        await placing.post(client, order, index=2, sent=0.0, sample_every=0)
    assert placing.failures == {"no answer: ReadTimeout (may have been accepted)": 1}
    assert [p.order_id for p in placing.placed] == ["o-2"]
    assert sent == ["/orders", "/orders"]  # the unanswered one was not sent again
