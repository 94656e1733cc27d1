"""breaking_changes() catches every kind of change that breaks a consumer of the same major."""

from typing import Any, Literal

import pytest
from kontor_contracts.compat import breaking_changes
from kontor_contracts.money import Amount
from pydantic import BaseModel, Field

pytestmark = pytest.mark.unit


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


class Line(BaseModel):
    sku: str
    quantity: int


class Base(BaseModel):
    order_id: str
    note: str | None = None
    status: Literal["open", "closed"]
    total: Amount
    lines: list[Line]


def _changes(new: type[BaseModel]) -> list[str]:
    return breaking_changes(schema(Base), schema(new))


def test_identical_schema_is_compatible() -> None:
    assert breaking_changes(schema(Base), schema(Base)) == []


def test_added_optional_field_is_compatible() -> None:
    class New(Base):
        carrier: str | None = None
        tags: list[str] = Field(default_factory=list)

    assert _changes(New) == []


def test_docs_only_changes_are_compatible() -> None:
    class New(BaseModel):
        """Now with a docstring."""

        order_id: str = Field(description="The order", title="Order")
        note: str | None = Field(default=None, examples=["x"])
        status: Literal["open", "closed"]
        total: Amount
        lines: list[Line]

    assert _changes(New) == []


def test_removed_property_is_breaking() -> None:
    class New(BaseModel):
        order_id: str
        status: Literal["open", "closed"]
        total: Amount
        lines: list[Line]

    assert _changes(New) == ["$.note: property removed"]


def test_new_required_property_is_breaking() -> None:
    class New(Base):
        carrier: str

    assert _changes(New) == ["$.carrier: new required property"]


def test_property_that_became_required_is_breaking() -> None:
    class New(Base):
        note: str | None  # no default any more

    assert _changes(New) == ["$.note: property became required"]


def test_changed_type_is_breaking() -> None:
    class New(Base):
        order_id: int  # type: ignore[assignment]

    assert _changes(New) == ["$.order_id: type changed from string to integer"]


def test_nullability_change_is_breaking_both_ways() -> None:
    class Nullable(Base):
        order_id: str | None  # type: ignore[assignment]

    class NotNullable(Base):
        note: str = ""

    assert _changes(Nullable) == ["$.order_id: became nullable"]
    assert _changes(NotNullable) == ["$.note: is no longer nullable"]


def test_narrowed_enum_is_breaking() -> None:
    class New(Base):
        status: Literal["open"]

    assert _changes(New) == ["$.status: enum narrowed, ['closed'] removed"]


def test_widened_enum_is_breaking_for_old_consumers() -> None:
    class New(Base):
        status: Literal["open", "closed", "archived"]  # type: ignore[assignment]

    (reason,) = _changes(New)
    assert reason.startswith("$.status: enum widened, ['archived'] added")


def test_free_string_turned_enum_is_narrowing() -> None:
    class New(Base):
        order_id: Literal["a", "b"]

    assert _changes(New) == ["$.order_id: enum narrowed from any value to ['a', 'b']"]


def test_changes_inside_referenced_definitions_are_found_with_their_path() -> None:
    class NewLine(BaseModel):
        sku: str
        quantity: str  # was int
        warehouse: str  # new and required

    class New(Base):
        lines: list[NewLine]  # type: ignore[assignment]

    assert sorted(_changes(New)) == [
        "$.lines[].quantity: type changed from integer to string",
        "$.lines[].warehouse: new required property",
    ]


def test_constraint_change_is_breaking() -> None:
    class New(Base):
        order_id: str = Field(max_length=10)

    assert _changes(New) == ["$.order_id: constraint maxLength changed from (none) to 10"]


def test_money_as_float_instead_of_string_is_breaking() -> None:
    class New(Base):
        total: float  # type: ignore[assignment]

    assert "$.total: type changed from string to number" in _changes(New)


def test_array_item_type_change_is_breaking() -> None:
    class New(Base):
        lines: list[str]  # type: ignore[assignment]

    assert _changes(New) == ["$.lines[]: type changed from object to string"]


def test_raw_schemas_with_local_refs_and_optional_refs() -> None:
    old = {
        "$defs": {"A": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "type": "object",
        "properties": {"a": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}},
    }
    new = {
        "$defs": {"A2": {"type": "object", "properties": {}}},
        "type": "object",
        "properties": {"a": {"anyOf": [{"$ref": "#/$defs/A2"}, {"type": "null"}]}},
    }
    assert breaking_changes(old, new) == ["$.a.x: property removed"]


def test_recursive_models_terminate() -> None:
    class Node(BaseModel):
        name: str
        children: list["Node"] = Field(default_factory=list)

    class Node2(BaseModel):
        name: str
        children: list["Node2"] = Field(default_factory=list)
        extra: int | None = None

    assert breaking_changes(schema(Node), schema(Node2)) == []


def test_unresolvable_ref_is_an_error_not_a_silent_pass() -> None:
    broken = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}
    with pytest.raises(ValueError, match="Missing"):
        breaking_changes(schema(Base) | broken, broken)
