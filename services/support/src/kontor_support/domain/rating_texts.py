"""The words of the rating mail and its pages, in German and in English (ADR 0122).

The customer's language (:attr:`Ticket.language`, else German) chooses them; the link
carries it, so the page a customer opens speaks the mail's language. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kontor_servicekit.clock import BERLIN

from kontor_support.domain.rating import SCORES

__all__ = ["RATING_TEXTS", "RatingTexts", "rating_texts"]


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class RatingTexts:
    language: str
    scores: dict[int, str]  # 1 (worst) to 5
    subject: str  # "... [#T-...]" follows
    greeting: str  # followed by " <name>" when known, then ","
    solved: str  # {subject}, {ticket}
    question: str
    valid_until: str  # {until}
    anything_open: str
    signature: str
    page_title: str
    thanks: str  # {score_words}, {score}
    comment_label: str
    submit: str
    comment_title: str
    link_gone: str

    def until(self, at: datetime) -> str:
        """The day ``at`` falls on in Berlin, as this language writes a date."""
        day = at.astimezone(BERLIN)
        if self.language == "en":  # month names by hand: strftime's %B follows LC_TIME
            return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
        return day.strftime("%d.%m.%Y")

    def greeting_for(self, name: str | None) -> str:
        return f"{self.greeting}{' ' + name if name else ''},"


RATING_TEXTS: dict[str, RatingTexts] = {
    "de": RatingTexts(
        language="de",
        scores=SCORES,
        subject="Wie zufrieden waren Sie?",
        greeting="Guten Tag",
        solved="Ihre Anfrage „{subject}“ ({ticket}) ist gelöst.",
        question="Wie zufrieden waren Sie mit unserer Hilfe? Ein Klick genügt:",
        valid_until="Die Links gelten bis {until}.",
        anything_open="Ist noch etwas offen, antworten Sie einfach auf diese Mail.",
        signature="Ihr Kundenservice",
        page_title="Ihre Bewertung",
        thanks="Danke! Ihre Bewertung: {score_words} ({score} von 5).",
        comment_label="Möchten Sie uns noch etwas sagen?",
        submit="Absenden",
        comment_title="Danke für Ihre Worte",
        link_gone="Dieser Link gilt nicht mehr.",
    ),
    "en": RatingTexts(
        language="en",
        scores={
            1: "very dissatisfied",
            2: "dissatisfied",
            3: "neither satisfied nor dissatisfied",
            4: "satisfied",
            5: "very satisfied",
        },
        subject="How satisfied were you?",
        greeting="Hello",
        solved="Your request “{subject}” ({ticket}) has been solved.",
        question="How satisfied were you with our help? One click is enough:",
        valid_until="The links are valid until {until}.",
        anything_open="If anything is still open, simply reply to this e-mail.",
        signature="Your customer service",
        page_title="Your rating",
        thanks="Thank you! Your rating: {score_words} ({score} out of 5).",
        comment_label="Would you like to tell us anything else?",
        submit="Send",
        comment_title="Thank you for your words",
        link_gone="This link is no longer valid.",
    ),
}


def rating_texts(language: str | None) -> RatingTexts:
    """The texts of ``language``; German for anything else (the shop's language)."""
    return RATING_TEXTS.get(language or "de", RATING_TEXTS["de"])
