"""The kit's answer types: one written form of a moment, one list shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kontor_servicekit.apitypes import Instant, PageOut
from kontor_servicekit.clock import BERLIN, iso_utc
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.unit


class Shown(BaseModel):
    at: Instant
    maybe: Instant | None = None


class ShownPage(PageOut[Shown]):
    pass


def test_a_moment_of_any_zone_is_written_in_utc_with_z() -> None:
    end_of_day = datetime(2026, 6, 15, 23, 59, 59, 999000, tzinfo=BERLIN)
    shown = Shown(at=end_of_day, maybe=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert shown.model_dump(mode="json") == {
        "at": "2026-06-15T21:59:59.999000Z",
        "maybe": "2026-12-01T09:30:00Z",
    }
    assert shown.at == end_of_day  # the value itself is unchanged, only its written form
    assert iso_utc(end_of_day) == "2026-06-15T21:59:59.999000Z"


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Shown(at=datetime(2026, 12, 1, 9, 30))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        iso_utc(datetime(2026, 12, 1, 9, 30))  # noqa: DTZ001


def test_a_page_has_items_and_where_it_is() -> None:
    page = ShownPage(
        items=[Shown(at=datetime(2026, 1, 1, tzinfo=UTC))], page=2, page_size=1, total=3
    )
    assert page.model_dump(mode="json") == {
        "items": [{"at": "2026-01-01T00:00:00Z", "maybe": None}],
        "page": 2,
        "page_size": 1,
        "total": 3,
    }
    schema = ShownPage.model_json_schema()
    assert schema["title"] == "ShownPage"
    assert set(schema["required"]) == {"items", "page", "page_size", "total"}
    with pytest.raises(ValidationError):
        ShownPage(items=[], page=0, page_size=1, total=0)
