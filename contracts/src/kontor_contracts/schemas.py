"""Generate, check and (compatibly) update the committed JSON schemas.

    python -m kontor_contracts.schemas check   # exit 1 if any file is stale, missing, orphaned
    python -m kontor_contracts.schemas write   # regenerate; refuses breaking changes

Layout: ``contracts/schemas/<topic>/<Type>.v<version>.json`` per event (the payload
schema) and ``contracts/schemas/envelope.v1.json``. The directory is found relative
to this package (``contracts/src/kontor_contracts`` -> ``contracts/schemas``), not
the working directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compat import breaking_changes
from .envelope import Envelope
from .personal import Sealed, personal_fields
from .registry import REGISTRY, EventSpec, Registry

__all__ = [
    "ENVELOPE_SCHEMA",
    "SCHEMAS_DIR",
    "WriteResult",
    "check",
    "envelope_schema",
    "event_schema",
    "expected_files",
    "main",
    "render",
    "schema_path",
    "write",
]

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
ENVELOPE_SCHEMA = "envelope.v1.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "urn:kontor:schema:"


def schema_path(spec: EventSpec) -> str:
    """The path of an event's schema, relative to the schemas directory."""
    return f"{spec.topic}/{spec.type}.v{spec.version}.json"


def event_schema(spec: EventSpec) -> dict[str, Any]:
    """The JSON schema of an event's payload, as committed."""
    schema = spec.model.model_json_schema(mode="serialization")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = f"{ID_BASE}{schema_path(spec)}"
    schema["x-kontor"] = {
        "type": spec.type,
        "version": spec.version,
        "topic": spec.topic,
        "owner": spec.owner,
    }
    if personal_fields(spec.model):
        _declare_sealed(schema)
    return schema


def _declare_sealed(schema: dict[str, Any]) -> None:
    """The optional ``sealed`` property of an event with personal fields (ADR 0034).

    Not a model field: a producer seals the payload after the model dumped it, and a
    v1 model ignores it (``extra="ignore"``). The schema describes the wire.
    """
    schema.setdefault("$defs", {})["Sealed"] = Sealed.model_json_schema(mode="serialization")
    schema["properties"]["sealed"] = {
        "anyOf": [{"$ref": "#/$defs/Sealed"}, {"type": "null"}],
        "default": None,
        "description": "The personal fields' real values, encrypted for the person "
        "(kontor_servicekit.privacy); the fields marked x-personal then hold placeholders",
    }


def envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema(mode="serialization")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = f"{ID_BASE}{ENVELOPE_SCHEMA}"
    return schema


def render(schema: dict[str, Any]) -> str:
    """Sorted keys, 2-space indent, trailing newline: stable diffs."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files(registry: Registry = REGISTRY) -> dict[str, dict[str, Any]]:
    """Relative path -> schema, for every file the schemas directory must contain."""
    files = {schema_path(spec): event_schema(spec) for spec in registry.all_events()}
    files[ENVELOPE_SCHEMA] = envelope_schema()
    return files


def _committed(schemas_dir: Path) -> set[str]:
    if not schemas_dir.is_dir():
        return set()
    return {p.relative_to(schemas_dir).as_posix() for p in schemas_dir.rglob("*.json")}


def check(schemas_dir: Path = SCHEMAS_DIR, registry: Registry = REGISTRY) -> list[str]:
    """Every problem with the committed schemas; empty when they match the code."""
    expected = expected_files(registry)
    problems: list[str] = []
    for rel, schema in sorted(expected.items()):
        path = schemas_dir / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        else:
            text = path.read_text(encoding="utf-8")
            if text != render(schema):
                problems.append(
                    f"stale: {rel} (differs from the models{_breaking_note(text, schema)})"
                )
    for rel in sorted(_committed(schemas_dir) - set(expected)):
        problems.append(f"orphaned: {rel} (no registered event has this schema)")
    return problems


def _breaking_note(committed: str, new: dict[str, Any]) -> str:
    try:
        reasons = breaking_changes(json.loads(committed), new)
    except ValueError:
        return "; the committed file is unreadable"
    return f"; BREAKING: {'; '.join(reasons)}" if reasons else "; compatible"


@dataclass
class WriteResult:
    refused: list[str] = field(default_factory=list)
    """Why nothing was written (breaking changes, orphaned or unreadable files)."""
    written: list[str] = field(default_factory=list)


def write(schemas_dir: Path = SCHEMAS_DIR, registry: Registry = REGISTRY) -> WriteResult:
    """Regenerate all schema files, unless any change would break a consumer.

    All or nothing: if one schema has a breaking change, no file is written.
    """
    expected = expected_files(registry)
    result = WriteResult()
    for rel, new in sorted(expected.items()):
        path = schemas_dir / rel
        if not path.is_file():
            continue
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            result.refused.append(f"{rel}: committed schema is unreadable ({exc})")
            continue
        try:
            reasons = breaking_changes(old, new)
        except ValueError as exc:
            result.refused.append(f"{rel}: cannot compare with the committed schema ({exc})")
            continue
        result.refused.extend(f"{rel}: {reason}" for reason in reasons)
    for rel in sorted(_committed(schemas_dir) - set(expected)):
        result.refused.append(
            f"{rel}: the event is no longer registered; removing an event breaks replays of "
            "its topic. If the whole topic is retired in favour of a new major, delete its "
            "directory by hand."
        )
    if result.refused:
        return result
    for rel, schema in sorted(expected.items()):
        path = schemas_dir / rel
        text = render(schema)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.written.append(rel)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kontor_contracts.schemas",
        description="Check or regenerate Kontor's committed event JSON schemas.",
    )
    parser.add_argument("command", choices=["check", "write"])
    parser.add_argument(
        "--dir", type=Path, default=SCHEMAS_DIR, help=f"schemas directory (default {SCHEMAS_DIR})"
    )
    args = parser.parse_args(argv)
    schemas_dir: Path = args.dir
    if args.command == "check":
        problems = check(schemas_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                f"{len(problems)} schema problem(s); run "
                "`uv run python -m kontor_contracts.schemas write` (make contracts-update)",
                file=sys.stderr,
            )
            return 1
        print(f"schemas up to date ({len(expected_files())} files in {schemas_dir})")
        return 0
    result = write(schemas_dir)
    if result.refused:
        print("refusing to write: these changes would break consumers:", file=sys.stderr)
        for reason in result.refused:
            print(f"  {reason}", file=sys.stderr)
        print(
            "Within a major version only additive, optional changes are allowed. "
            "Make the change compatible, or publish the event on a new major topic "
            "(<service>.<aggregate>.v2); see contracts/README.md.",
            file=sys.stderr,
        )
        return 1
    for rel in result.written:
        print(f"wrote {rel}")
    print(f"{len(result.written)} file(s) written, schemas up to date in {schemas_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
