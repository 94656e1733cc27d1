"""A 404 of a lookup by e-mail does not repeat the address (issue 13, ADR 0139): the
detail says what was not found, the ``instance`` shows the route's placeholder; status,
type and title stay what other systems rely on."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_servicekit.testing import not_found_without

pytestmark = pytest.mark.integration

ASKED = "Nobody.Known@Example.de"


async def test_an_unknown_customer_s_404_does_not_repeat_the_address(
    start_service: Any,
) -> None:
    async with start_service("support") as support:
        problem = not_found_without(await support.client.get(f"/customers/{ASKED}"), ASKED)
        assert problem["detail"] == "no customer with this e-mail address"
        assert problem["instance"] == "/customers/{email}"
