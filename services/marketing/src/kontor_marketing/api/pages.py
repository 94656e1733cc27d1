"""What people read on the newsletter's public pages (confirm, unsubscribe). Presentation
only: plain HTML without script or inline style, German unless the browser prefers English."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Literal

Language = Literal["de", "en"]

_TEXT = {
    "de": {
        "confirmed": "Danke! Ihre Newsletter-Anmeldung ist bestätigt.",
        "confirmed_topics": "Themen",
        "refused": "Dieser Link hat nichts bewirkt",
        "unsubscribe_title": "Newsletter abbestellen",
        "unsubscribe_all": "Alle Newsletter abbestellen",
        "unsubscribe_topic": "Nur dieses Thema abbestellen",
        "unsubscribed": "Sie sind abgemeldet und erhalten keine Newsletter mehr zu",
        "nothing": "Es war nichts (mehr) abonniert.",
        "for": "für",
    },
    "en": {
        "confirmed": "Thank you! Your newsletter subscription is confirmed.",
        "confirmed_topics": "Topics",
        "refused": "This link did nothing",
        "unsubscribe_title": "Unsubscribe from the newsletter",
        "unsubscribe_all": "Unsubscribe from every newsletter",
        "unsubscribe_topic": "Unsubscribe from this topic only",
        "unsubscribed": "You are unsubscribed and receive no more newsletters on",
        "nothing": "Nothing was (still) subscribed.",
        "for": "for",
    },
}


def language_of(accept_language: str | None) -> Language:
    header = (accept_language or "").lower()
    en, de = header.find("en"), header.find("de")
    return "en" if en != -1 and (de == -1 or en < de) else "de"


def _page(lang: Language, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def confirmed_page(lang: Language, topics: Sequence[str]) -> str:
    t = _TEXT[lang]
    listed = ", ".join(topics) or "—"
    return _page(lang, t["confirmed"], f"<p>{t['confirmed_topics']}: {escape(listed)}</p>")


def refused_page(lang: Language, reason: str) -> str:
    return _page(lang, _TEXT[lang]["refused"], f"<p>{escape(reason)}</p>")


def unsubscribe_page(lang: Language, email: str, topics: Sequence[str], action: str) -> str:
    """One button for everything, one per topic (the preferences per topic)."""
    t = _TEXT[lang]
    forms = [
        f'<form method="post" action="{escape(action)}">'
        f'<button type="submit">{t["unsubscribe_all"]}</button></form>'
    ]
    for topic in topics:
        forms.append(
            f'<form method="post" action="{escape(action)}">'
            f'<input type="hidden" name="topic" value="{escape(topic)}">'
            f'<button type="submit">{t["unsubscribe_topic"]}: {escape(topic)}</button></form>'
        )
    head = f"<p>{t['for']} {escape(email)}</p>"
    return _page(lang, t["unsubscribe_title"], head + "".join(forms))


def unsubscribed_page(lang: Language, topics: Sequence[str]) -> str:
    t = _TEXT[lang]
    text = f"{t['unsubscribed']}: {', '.join(topics)}." if topics else t["nothing"]
    return _page(lang, t["unsubscribe_title"], f"<p>{escape(text)}</p>")
