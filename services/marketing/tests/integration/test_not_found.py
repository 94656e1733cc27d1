"""A 404 of a lookup by e-mail does not repeat the address (issue 13, ADR 0139):
``GET /profiles/{email}``, ``GET /consents?email=`` and ``DELETE /suppressions/{email}``
say what was not found, the ``instance`` shows the route's placeholder; status, type and
title stay what other systems rely on."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_servicekit.testing import not_found_without

pytestmark = pytest.mark.integration

ASKED = "Nobody.Known@Example.de"


async def test_the_404s_of_lookups_by_e_mail_do_not_repeat_the_address(
    start_service: Any,
) -> None:
    async with start_service("marketing") as marketing:
        client = marketing.client
        for answer, detail, instance in [
            (
                await client.get(f"/profiles/{ASKED}"),
                "no profile of this e-mail address",
                "/profiles/{email}",
            ),
            (
                await client.get("/consents", params={"email": ASKED}),
                "no consent of this e-mail address",
                "/consents",
            ),
            (
                await client.delete(f"/suppressions/{ASKED}"),
                "no suppression of this e-mail address",
                "/suppressions/{email}",
            ),
        ]:
            problem = not_found_without(answer, ASKED)
            assert (problem["detail"], problem["instance"]) == (detail, instance)
