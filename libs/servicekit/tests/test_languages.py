"""The customer's language from Accept-Language, Content-Language and locales."""

from __future__ import annotations

import pytest
from kontor_servicekit.languages import language_of_tag, normalized_locale, preferred_language

pytestmark = pytest.mark.unit


def test_a_tag_s_language() -> None:
    assert language_of_tag("en-GB") == "en"
    assert language_of_tag(" de_AT ") == "de"
    assert language_of_tag("fr-FR") is None
    assert language_of_tag(None) is None
    assert language_of_tag("") is None


def test_the_preferred_of_a_list() -> None:
    assert preferred_language("en-GB,en;q=0.9,de;q=0.5") == "en"
    assert preferred_language("de-DE,de;q=0.9,en;q=0.8") == "de"
    assert preferred_language("fr-FR, en;q=0.4, de;q=0.7") == "de"
    assert preferred_language("en, de") == "en"  # a tie: the first listed
    assert preferred_language("de;q=0.5, en;q=0.6") == "en"


def test_nothing_supported_is_none() -> None:
    assert preferred_language(None) is None
    assert preferred_language("") is None
    assert preferred_language("fr, it") is None
    assert preferred_language("en;q=0") is None
    assert preferred_language("en;q=abc") is None  # an unreadable weight counts nothing


@pytest.mark.parametrize(
    ("raw", "tag"),
    [("de-DE", "de-DE"), ("en_gb", "en-GB"), (" EN ", "en"), ("zh-hant-tw", "zh-Hant-TW")],
)
def test_a_locale_is_normalised_to_bcp_47_case(raw: str, tag: str) -> None:
    assert normalized_locale(raw) == tag


@pytest.mark.parametrize("raw", ["", "Deutsch!", "d", "de--DE", "de-DE-x-1-2-3-4"])
def test_what_is_no_language_tag_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="BCP 47"):
        normalized_locale(raw)
