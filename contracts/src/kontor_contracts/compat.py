"""Is a new JSON schema of an event still compatible with the committed one?

Within a major topic version, two kinds of reader must keep working:

* consumers built against the *old* schema reading events produced with the new one
  (they run until they are redeployed), and
* consumers built against the *new* schema reading events produced with the old one
  (a read-model rebuild replays the topic from the earliest offset).

So only additive, optional changes are allowed. :func:`breaking_changes` reports:

* a removed property,
* a new property that is required, or an existing property that became required,
* a changed type (including becoming or ceasing to be nullable),
* a narrowed enum (a replayed old event may carry the dropped value) and a widened
  enum (an old consumer's ``Literal`` rejects the new value),
* a changed validation constraint (pattern, format, length, bounds), for the same
  two reasons.

Titles, descriptions, defaults and examples may change freely, and so may marking a
field personal (``x-personal``, :mod:`kontor_contracts.personal`): a reader ignores the
keyword. Dropping the mark is reported: the field's values would then be published
unsealed and survive a customer's erasure (ADR 0034). The schemas are
pydantic's output: ``$ref`` into ``$defs``, ``anyOf`` for unions and ``Optional``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["breaking_changes"]

Schema = Mapping[str, Any]

_CONSTRAINTS = (
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
)


def breaking_changes(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Human-readable reasons why ``new_schema`` would break a consumer of ``old_schema``.

    An empty list means the change is compatible. Each reason starts with the JSON
    path of the affected value (``$`` is the payload, ``[]`` an array item).
    """
    return _Comparison(old_schema, new_schema).run()


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []

    def run(self) -> list[str]:
        self.compare(self.old_root, self.new_root, "$", frozenset())
        return self.problems

    # --- resolving -------------------------------------------------------------------

    @staticmethod
    def _resolve(node: Schema, root: Schema) -> tuple[Schema, tuple[str, ...]]:
        """Follow ``$ref`` chains; sibling keywords of a ``$ref`` override the target's."""
        refs: list[str] = []
        while "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or ref in refs:
                break
            refs.append(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise ValueError(f"unresolvable $ref {ref!r}")
                target = target[part]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings}
        return node, tuple(refs)

    def _branches(self, node: Schema, root: Schema) -> list[tuple[Schema, tuple[str, ...]]]:
        """The alternatives a value may take: anyOf/oneOf flattened, type lists split."""
        resolved, refs = self._resolve(node, root)
        for key in ("anyOf", "oneOf"):
            if key in resolved:
                out: list[tuple[Schema, tuple[str, ...]]] = []
                for sub in resolved[key]:
                    for branch, sub_refs in self._branches(sub, root):
                        out.append((branch, refs + sub_refs))
                return out
        types = resolved.get("type")
        if isinstance(types, list):
            return [({**resolved, "type": t}, refs) for t in types]
        return [(resolved, refs)]

    @staticmethod
    def _kind(node: Schema) -> str:
        kind = node.get("type")
        if isinstance(kind, str):
            return kind
        if "properties" in node:
            return "object"
        if "enum" in node or "const" in node:
            return "enum"
        return "any"

    # --- comparing -------------------------------------------------------------------

    def compare(self, old: Schema, new: Schema, path: str, seen: frozenset[Any]) -> None:
        if old.get("x-personal") and not new.get("x-personal"):
            self.problems.append(
                f"{path}: no longer marked personal (x-personal): its values would be "
                "published unsealed and survive an erasure"
            )
        old_branches = self._branches(old, self.old_root)
        new_branches = self._branches(new, self.new_root)
        old_by_kind = _group(old_branches, self._kind)
        new_by_kind = _group(new_branches, self._kind)

        if set(old_by_kind) != set(new_by_kind):
            old_kinds, new_kinds = set(old_by_kind), set(new_by_kind)
            if old_kinds - {"null"} == new_kinds - {"null"}:
                change = "became nullable" if "null" in new_kinds else "is no longer nullable"
                self.problems.append(f"{path}: {change}")
            else:
                self.problems.append(
                    f"{path}: type changed from {_kinds(old_kinds)} to {_kinds(new_kinds)}"
                )
        for kind in sorted(set(old_by_kind) & set(new_by_kind)):
            olds, news = old_by_kind[kind], new_by_kind[kind]
            if len(olds) == 1 and len(news) == 1:
                pairs = [(olds[0], news[0])]
            else:  # several alternatives of one kind (e.g. a union of models): match by title
                new_titles = {branch.get("title"): (branch, refs) for branch, refs in news}
                pairs = []
                for branch, refs in olds:
                    match = new_titles.get(branch.get("title"))
                    if match is None:
                        self.problems.append(
                            f"{path}: alternative {branch.get('title') or kind!r} was removed"
                        )
                    else:
                        pairs.append(((branch, refs), match))
                old_titles = {branch.get("title") for branch, _ in olds}
                for branch, _ in news:
                    if branch.get("title") not in old_titles:
                        self.problems.append(
                            f"{path}: alternative {branch.get('title') or kind!r} was added"
                        )
            for (old_branch, old_refs), (new_branch, new_refs) in pairs:
                key = (old_refs, new_refs)
                if (old_refs or new_refs) and key in seen:
                    continue  # a recursive model: this pair is being compared already
                self._compare_branch(old_branch, new_branch, path, seen | {key})

    def _compare_branch(self, old: Schema, new: Schema, path: str, seen: frozenset[Any]) -> None:
        self._compare_enum(old, new, path)
        for keyword in _CONSTRAINTS:
            if old.get(keyword) != new.get(keyword):
                self.problems.append(
                    f"{path}: constraint {keyword} changed from "
                    f"{_show(old.get(keyword))} to {_show(new.get(keyword))}"
                )
        if "properties" in old or "properties" in new:
            self._compare_object(old, new, path, seen)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            self.compare(old_extra, new_extra, f"{path}.*", seen)
        elif new_extra is False and old_extra is not False:
            self.problems.append(f"{path}: no longer allows additional properties")
        elif isinstance(old_extra, Mapping) != isinstance(new_extra, Mapping):
            self.problems.append(f"{path}: type of the map values changed")
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            self.compare(old_items, new_items, f"{path}[]", seen)
        elif isinstance(old_items, Mapping) != isinstance(new_items, Mapping):
            self.problems.append(f"{path}[]: type of the items changed")

    def _compare_enum(self, old: Schema, new: Schema, path: str) -> None:
        old_values, new_values = _enum(old), _enum(new)
        if old_values is None and new_values is None:
            return
        if old_values is None:
            self.problems.append(f"{path}: enum narrowed from any value to {_show(new_values)}")
            return
        if new_values is None:
            self.problems.append(
                f"{path}: enum widened from {_show(old_values)} to any value "
                "(consumers of the old schema reject the new values)"
            )
            return
        removed = [v for v in old_values if v not in new_values]
        added = [v for v in new_values if v not in old_values]
        if removed:
            self.problems.append(f"{path}: enum narrowed, {_show(removed)} removed")
        if added:
            self.problems.append(
                f"{path}: enum widened, {_show(added)} added "
                "(consumers of the old schema reject the new values)"
            )

    def _compare_object(self, old: Schema, new: Schema, path: str, seen: frozenset[Any]) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name in old_props:
            if name not in new_props:
                self.problems.append(f"{path}.{name}: property removed")
        for name in new_props:
            if name not in old_props:
                if name in new_required:
                    self.problems.append(f"{path}.{name}: new required property")
                continue
            if name in new_required and name not in old_required:
                self.problems.append(f"{path}.{name}: property became required")
            self.compare(old_props[name], new_props[name], f"{path}.{name}", seen)


def _group(
    branches: list[tuple[Schema, tuple[str, ...]]], kind: Callable[[Schema], str]
) -> dict[str, list[tuple[Schema, tuple[str, ...]]]]:
    grouped: dict[str, list[tuple[Schema, tuple[str, ...]]]] = {}
    for branch in branches:
        grouped.setdefault(kind(branch[0]), []).append(branch)
    return grouped


def _enum(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    values = node.get("enum")
    return list(values) if isinstance(values, list) else None


def _kinds(kinds: set[str]) -> str:
    return "|".join(sorted(kinds)) or "nothing"


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value)
