"""Product advice: the words a product is found by, and the words of an agent's query.

"Haben Sie das in Blau, Größe M?" is answered by one query: every word the agent types
must be among a product's search words, which are the words of its name, description,
category and brand, its variant attributes' values, and ``key:value`` for each
attribute (``size:m``). Case and accents of the query do not matter as far as
``casefold`` reaches (``Größe`` = ``grösse``); text indexes are not used (the embedded
database has none), the words are an indexed array.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MAX_QUERY_WORDS", "query_words", "search_words"]

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 8
_FILLER = frozenset(
    word.casefold()
    for word in (
        "in",
        "und",
        "and",
        "the",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "ein",
        "eine",
        "a",
        "size",
        "größe",
        "haben",
        "sie",
        "gibt",
        "es",
        "auch",
        "noch",
        "do",
        "you",
        "have",
        "it",
    )
)


def _words(text: str | None) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text or "")]


def search_words(*texts: str | None, attributes: Mapping[str, str] | None = None) -> list[str]:
    """The sorted, distinct words a product is found by."""
    found: set[str] = set()
    for text in texts:
        found.update(_words(text))
    for key, value in (attributes or {}).items():
        for word in _words(value):
            found.add(word)
            found.add(f"{key.casefold()}:{word}")
    return sorted(found)


def query_words(query: str) -> list[str]:
    """The words of an agent's query that must all match (``size:m`` kept whole; filler
    words such as "in", "und" dropped unless nothing else is left)."""
    tokens: list[str] = []
    for raw in query.split():
        key, sep, value = raw.partition(":")
        if sep and key and value:
            tokens.extend(f"{key.casefold()}:{v}" for v in _words(value))
        else:
            tokens.extend(_words(raw))
    meaningful = [t for t in tokens if t not in _FILLER]
    chosen = meaningful or tokens
    return list(dict.fromkeys(chosen))[:MAX_QUERY_WORDS]
