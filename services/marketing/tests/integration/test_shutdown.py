"""Marketing stops promptly while its mail sweeper is busy (a flaky CI failure: the
lifespan's shutdown exceeded 30 s). A relay that holds a mail's data keeps the sender
waiting; stopping the service cancels the send and closes the connection at once
instead of waiting the SMTP timeout for the answer to a QUIT (ADR 0054)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from kontor_servicekit.testing import holding_relay

pytestmark = pytest.mark.integration


async def test_the_service_stops_at_once_while_a_mail_is_held_by_the_relay(
    start_service: Any,
) -> None:
    async with holding_relay() as relay:
        settings = {**relay.smtp_settings(), "smtp_timeout_s": 30.0, "mail_sweep_interval_s": 0.1}
        async with start_service("marketing", **settings) as marketing:
            answer = await marketing.client.post(
                "/newsletter/subscriptions", json={"email": "anna@example.de", "topics": ["news"]}
            )
            assert answer.status_code == 202
            # the confirmation mail is stuck at the relay
            await asyncio.wait_for(relay.holding.wait(), 15)
            stopping_at = time.monotonic()
        assert time.monotonic() - stopping_at < 5.0
