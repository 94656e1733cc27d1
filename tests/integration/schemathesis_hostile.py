"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``): hostile JSON in one body of three.

Schemathesis generates only what JSON can carry (its floats exclude NaN and infinity,
its strings exclude surrogates), and its HTTP client refuses NaN. This ``map_body`` hook
takes one generated JSON body in three (chosen by a hash of the body, so a run stays
reproducible) and writes one of its values, chosen the same way, as ``NaN``,
``Infinity``, ``-Infinity``, ``1e400``, ``-1e400`` or a lone surrogate; the body is
sent as those bytes. The kit must answer 400 problem+json, which the OpenAPI documents
for every operation with a body, so the conformance checks hold too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import schemathesis

HOSTILE = ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", '"\\ud800"', '"a\\udfffb"')
_MARK = "\u2603hostile\u2603"


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _json_only(context: Any) -> bool:
    operation = getattr(context, "operation", None)
    bodies = list(getattr(operation, "body", None) or [])
    types = {getattr(body, "media_type", "") for body in bodies}
    return bool(types) and types <= {"application/json"}


def hostile(body: Any) -> bytes | None:
    """``body`` with one value made hostile, or None for the two bodies in three left be."""
    try:
        text = json.dumps(body, sort_keys=True, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    if digest % 3:
        return None
    paths = list(_paths(body))
    path = paths[(digest // 3) % len(paths)]
    literal = HOSTILE[(digest // 7) % len(HOSTILE)]
    if not path:
        return literal.encode()
    copy = json.loads(text)
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = _MARK
    return json.dumps(copy).replace(json.dumps(_MARK), literal).encode()


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if not _json_only(context):
        return body
    made = hostile(body)
    return body if made is None else made
