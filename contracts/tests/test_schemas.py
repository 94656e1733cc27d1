"""The committed JSON schemas match the models, and `write` refuses breaking changes."""

import json
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from kontor_contracts import REGISTRY, Event
from kontor_contracts.registry import EventSpec, Registry, TopicSpec
from kontor_contracts.schemas import (
    ENVELOPE_SCHEMA,
    SCHEMAS_DIR,
    check,
    main,
    render,
    schema_path,
    write,
)

pytestmark = pytest.mark.unit


def test_schemas_dir_is_next_to_src_not_the_cwd() -> None:
    assert Path(__file__).resolve().parents[1] / "schemas" == SCHEMAS_DIR


def test_every_registered_event_has_a_committed_schema() -> None:
    for spec in REGISTRY.all_events():
        path = SCHEMAS_DIR / schema_path(spec)
        assert path.is_file(), f"missing {path}; run make contracts-update"
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$id"].endswith(f"{spec.topic}/{spec.type}.v{spec.version}.json")
        assert schema["title"] == spec.type
    assert (SCHEMAS_DIR / ENVELOPE_SCHEMA).is_file()


def test_committed_schemas_are_up_to_date() -> None:
    assert check() == []


def test_check_command_passes_from_any_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0


# --- write/check against a scratch directory and a scratch registry -------------------


class ThingV1(Event):
    event_type: ClassVar[str] = "ThingHappened"
    order_id: str
    status: Literal["open", "closed"]


class ThingAdded(Event):
    event_type: ClassVar[str] = "ThingHappened"
    order_id: str
    status: Literal["open", "closed"]
    note: str | None = None


class ThingBroken(Event):
    event_type: ClassVar[str] = "ThingHappened"
    order_id: int
    status: Literal["open"]


def _registry(model: type[Event]) -> Registry:
    topic = TopicSpec(name="orders.thing.v1", owner="orders", aggregate="thing")
    return Registry([topic], [EventSpec("ThingHappened", 1, model, topic.name, "orders")])


THING = "orders.thing.v1/ThingHappened.v1.json"


def test_write_creates_files_and_check_then_passes(tmp_path: Path) -> None:
    result = write(tmp_path, _registry(ThingV1))
    assert result.refused == []
    assert sorted(result.written) == [ENVELOPE_SCHEMA, THING]
    text = (tmp_path / THING).read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "$id"' in text  # 2-space indent, trailing newline
    assert check(tmp_path, _registry(ThingV1)) == []
    assert write(tmp_path, _registry(ThingV1)).written == []  # idempotent


def test_write_accepts_an_added_optional_field(tmp_path: Path) -> None:
    write(tmp_path, _registry(ThingV1))
    assert check(tmp_path, _registry(ThingAdded)) == [
        f"stale: {THING} (differs from the models; compatible)"
    ]
    result = write(tmp_path, _registry(ThingAdded))
    assert (result.refused, result.written) == ([], [THING])


def test_write_refuses_breaking_changes_and_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path, _registry(ThingV1))
    before = (tmp_path / THING).read_text(encoding="utf-8")
    result = write(tmp_path, _registry(ThingBroken))
    assert result.written == []
    assert result.refused == [
        f"{THING}: $.order_id: type changed from string to integer",
        f"{THING}: $.status: enum narrowed, ['closed'] removed",
    ]
    assert (tmp_path / THING).read_text(encoding="utf-8") == before
    (problem,) = check(tmp_path, _registry(ThingBroken))
    assert problem.startswith(f"stale: {THING}") and "BREAKING" in problem


def test_write_refuses_to_drop_a_registered_event(tmp_path: Path) -> None:
    write(tmp_path, _registry(ThingV1))
    empty = Registry([], [])
    result = write(tmp_path, empty)
    assert result.written == []
    assert len(result.refused) == 1 and result.refused[0].startswith(THING)


def test_check_names_missing_stale_and_orphaned_files(tmp_path: Path) -> None:
    write(tmp_path, _registry(ThingV1))
    (tmp_path / ENVELOPE_SCHEMA).unlink()
    (tmp_path / THING).write_text(render({"title": "old"}), encoding="utf-8")
    (tmp_path / "orders.thing.v1" / "Gone.v1.json").write_text("{}\n", encoding="utf-8")
    problems = check(tmp_path, _registry(ThingV1))
    assert [p.split(":")[0] + ":" + p.split(":")[1].split(" (")[0] for p in problems] == [
        f"missing: {ENVELOPE_SCHEMA}",
        f"stale: {THING}",
        "orphaned: orders.thing.v1/Gone.v1.json",
    ]


def test_main_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "missing: envelope.v1.json" in err
    assert "missing: catalog.product.v1/ProductCreated.v1.json" in err
    assert main(["write", "--dir", str(tmp_path)]) == 0
    assert main(["check", "--dir", str(tmp_path)]) == 0
    # a committed schema that the models would break: write refuses, exit 1
    path = tmp_path / "orders.order.v1" / "OrderPlaced.v1.json"
    committed = json.loads(path.read_text(encoding="utf-8"))
    committed["properties"]["legacy_field"] = {"type": "string"}
    path.write_text(render(committed), encoding="utf-8")
    capsys.readouterr()
    assert main(["write", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "OrderPlaced.v1.json: $.legacy_field: property removed" in err
