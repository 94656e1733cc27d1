"""Product advice's words: what a product is found by and what a query asks for."""

from __future__ import annotations

import pytest
from kontor_support.domain.products import MAX_QUERY_WORDS, query_words, search_words

pytestmark = pytest.mark.unit


def test_a_variant_is_found_by_its_words_and_its_attributes() -> None:
    words = search_words(
        "Kapuzenpulli Blau",
        "Baumwolle, warm",
        "Pullover",
        None,
        attributes={"color": "Blau", "size": "M"},
    )
    assert {"kapuzenpulli", "blau", "baumwolle", "warm", "pullover", "m"} <= set(words)
    assert {"color:blau", "size:m"} <= set(words)
    assert words == sorted(set(words))


def test_a_query_drops_filler_words_keeps_key_value_and_casefolds() -> None:
    assert query_words("Haben Sie das in BLAU und Größe M?") == ["blau", "m"]
    assert query_words("pulli size:M") == ["pulli", "size:m"]
    assert query_words("in") == ["in"]  # nothing else left: the filler is what was asked
    assert query_words("GRÖSSE Pulli") == ["pulli"]
    assert len(query_words(" ".join(f"w{i}" for i in range(20)))) == MAX_QUERY_WORDS
    assert query_words("") == []
