"""The customer's language from what a client says: ``Accept-Language`` of a browser or a
mail client, ``Content-Language`` of a mail (RFC 9110 and RFC 3282 language lists), an
order's locale (``en-GB``). Pure: standard library only.

Kontor speaks German and English; :func:`preferred_language` picks the one a list
prefers (by ``q``, then by order), :func:`language_of_tag` reads one tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

__all__ = ["LANGUAGES", "Language", "language_of_tag", "normalized_locale", "preferred_language"]

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

_Q = re.compile(r"(0(\.\d{0,3})?|1(\.0{0,3})?)")
#: A BCP 47 tag as shops send it: language, then optional script/region/variant subtags.
_LOCALE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")


def normalized_locale(raw: str) -> str:
    """A locale in BCP 47's usual case (``de_de`` -> ``de-DE``, ``EN`` -> ``en``).

    Raises ValueError for anything else (it reaches an API's field as a 422)."""
    tag = raw.strip().replace("_", "-")
    if not _LOCALE.fullmatch(tag):
        raise ValueError("not a language tag (BCP 47), e.g. de-DE or en")
    first, *rest = tag.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script
        else:
            parts.append(part.lower())
    return "-".join(parts)


def language_of_tag(tag: str | None, supported: Sequence[str] = LANGUAGES) -> str | None:
    """The supported language of one tag (``en-GB`` -> ``en``, ``de_AT`` -> ``de``), else None."""
    primary = re.split(r"[-_]", (tag or "").strip().lower(), maxsplit=1)[0]
    return primary if primary in supported else None


def preferred_language(header: str | None, supported: Sequence[str] = LANGUAGES) -> str | None:
    """The supported language a list prefers (``en-GB,en;q=0.9,de;q=0.5`` -> ``en``):
    the highest ``q``, earlier tags winning ties; None when it names none of them (or
    only with ``q=0``)."""
    best: tuple[float, str | None] = (0.0, None)
    for index, part in enumerate((header or "").split(",")[:50]):
        tag, _, params = part.partition(";")
        language = language_of_tag(tag, supported)
        if language is None:
            continue
        score = _weight(params) - index * 1e-6  # browsers list them by preference
        if score > best[0]:
            best = (score, language)
    return best[1]


def _weight(params: str) -> float:
    """The ``q`` of a tag's parameters (1 if none, 0 if unreadable)."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            return float(value) if _Q.fullmatch(value.strip()) else 0.0
    return 1.0
