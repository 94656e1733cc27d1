"""The soak's JSON report survives what the shop records (tuple keys included)."""

from __future__ import annotations

import json

import pytest
from kontor_local.soak import _json_keys

pytestmark = pytest.mark.unit


def test_tuple_keys_become_strings_so_the_report_is_json() -> None:
    # what a real run recorded: an abandoned step keyed by (request, attempt)
    shop = {"abandoned": {("POST /orders/o-1/delivery", 1): 1}, "kills": [("billing", 3.9)]}
    assert json.loads(json.dumps(_json_keys(shop))) == {
        "abandoned": {"POST /orders/o-1/delivery 1": 1},
        "kills": [["billing", 3.9]],
    }
