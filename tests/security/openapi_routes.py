"""Every operation of a service, read from its OpenAPI document, and bodies for them.

The security tests iterate these instead of a hand-kept list, so a route added to a
service is probed without anyone remembering to add it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SERVICES = ("catalog", "orders", "billing", "support", "marketing", "analytics")
METHODS = ("get", "put", "post", "delete", "patch")

#: What is injected, one at a time, at every value of a body: as JSON text.
HOSTILE_VALUES = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e400": "1e400",
    "-1e400": "-1e400",
    "lone high surrogate": '"\\ud800"',
    "lone low surrogate": '"ab\\udfffcd"',
}
_MARK = "\u2603HOSTILE\u2603"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]

    def url(self) -> str:
        """The path with every parameter filled in (a made-up id: nothing must exist)."""
        return re.sub(r"\{[^}]+\}", "probe-0", self.template)

    @property
    def json_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return None if media is None else dict(media.get("schema", {}))


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for template, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield Operation(method.upper(), template, item[method])


def methods_by_path(document: dict[str, Any]) -> dict[str, set[str]]:
    return {
        template: {m.upper() for m in METHODS if m in item}
        for template, item in document.get("paths", {}).items()
    }


def matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, path) is not None


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def instance(schema: dict[str, Any], document: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value of ``schema`` with every property present (one item per array)."""
    schema = _resolve(schema, document)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, document).get("type") != "null"]
            return instance(options[0] if options else schema[key][0], document, depth)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        if depth > 6:
            return {}
        return {
            name: instance(sub, document, depth + 1)
            for name, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [instance(schema.get("items", {}), document, depth + 1)] if depth <= 6 else []
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(kind, "x")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path  # the value itself: a whole object can be replaced too
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _replaced(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return _MARK
    copy = json.loads(json.dumps(value))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = _MARK
    return copy


def hostile_bodies(base: Any) -> Iterator[tuple[str, str, bytes]]:
    """(JSON pointer, what, body text) for every value of ``base`` and every hostile value,
    plus a member name that is a lone surrogate."""
    for path in _leaves(base):
        text = json.dumps(_replaced(base, path))
        pointer = "/" + "/".join(str(p) for p in path)
        for name, literal in HOSTILE_VALUES.items():
            yield pointer, name, text.replace(json.dumps(_MARK), literal).encode()
    if isinstance(base, dict):
        key = json.dumps({**base, _MARK: 1}).replace(json.dumps(_MARK), '"k\\udc80"')
        yield "/", "lone surrogate member name", key.encode()
