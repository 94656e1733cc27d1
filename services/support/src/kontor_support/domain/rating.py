"""Customer satisfaction: after a ticket is solved, the customer rates our help once.

A :class:`Rating` is asked for when a ticket is first solved (one per ticket; a ticket
solved again after the customer wrote is not asked twice) and names the agent and the
channel it is counted for. The customer rates by one click on a link in the mail
(1: very dissatisfied ... 5: very satisfied) and may add a comment; a later click
before the link expires changes the score (a change of mind, or a second click).

:func:`summarise` turns counts of scores per agent and channel into the figures a
support lead looks at: how many were asked, how many answered, the average score and
the CSAT share (4 and 5 of all scores, as the usual CSAT formula counts).
Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from kontor_servicekit.domain_errors import IllegalTransition, Invalid

__all__ = [
    "SCORES",
    "Rating",
    "RatingCount",
    "RatingFigures",
    "RatingSummary",
    "summarise",
]

#: The scores a customer can give, worst first, with the words the mail shows.
SCORES: dict[int, str] = {
    1: "sehr unzufrieden",
    2: "unzufrieden",
    3: "teils, teils",
    4: "zufrieden",
    5: "sehr zufrieden",
}

#: The scores that count as satisfied in the CSAT share.
SATISFIED = frozenset({4, 5})

MAX_COMMENT = 2000


@dataclass
class Rating:
    ticket_id: str
    agent: str  # the ticket's assignee when solved, else who solved it
    channel: str
    requested_at: datetime
    expires_at: datetime
    score: int | None = None
    rated_at: datetime | None = None
    comment: str | None = None
    language: str = "de"  # the mail's and the page's (ADR 0122)

    def rate(self, score: int, at: datetime) -> bool:
        """Record ``score``; False when it is the score already given (nothing changes)."""
        self._refuse_if_expired(at)
        if score not in SCORES:
            raise Invalid("a score is 1, 2, 3, 4 or 5", field=("score",))
        if score == self.score:
            return False
        self.score, self.rated_at = score, at
        return True

    def add_comment(self, text: str, at: datetime) -> None:
        """The customer's words to their score (only once they have given one)."""
        self._refuse_if_expired(at)
        if self.score is None:
            raise IllegalTransition(f"rating of {self.ticket_id}", "comment on", "not rated")
        text = text.strip()
        if not text:
            raise Invalid("the comment is empty", field=("comment",))
        if len(text) > MAX_COMMENT:
            raise Invalid(f"a comment has at most {MAX_COMMENT} characters", field=("comment",))
        self.comment = text

    def _refuse_if_expired(self, at: datetime) -> None:
        if at >= self.expires_at:
            raise IllegalTransition(f"rating of {self.ticket_id}", "rate", "expired")


@dataclass(frozen=True)
class RatingCount:
    """How many ratings of ``agent`` on ``channel`` have ``score`` (None: not answered)."""

    agent: str
    channel: str
    score: int | None
    count: int


@dataclass(frozen=True)
class RatingFigures:
    requested: int = 0
    rated: int = 0
    scores: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))

    @property
    def average(self) -> float | None:
        if not self.rated:
            return None
        return round(sum(s * n for s, n in self.scores.items()) / self.rated, 2)

    @property
    def satisfied_share(self) -> float | None:
        """The CSAT share: scores of 4 and 5 among all scores given."""
        if not self.rated:
            return None
        return round(sum(self.scores[s] for s in SATISFIED) / self.rated, 4)

    @property
    def response_rate(self) -> float | None:
        if not self.requested:
            return None
        return round(self.rated / self.requested, 4)

    def plus(self, score: int | None, count: int) -> RatingFigures:
        scores = dict(self.scores)
        if score is not None:
            scores[score] = scores.get(score, 0) + count
        rated = self.rated + (count if score is not None else 0)
        return RatingFigures(self.requested + count, rated, scores)


@dataclass(frozen=True)
class RatingSummary:
    overall: RatingFigures
    by_agent: dict[str, RatingFigures]
    by_channel: dict[str, RatingFigures]


def summarise(counts: Iterable[RatingCount]) -> RatingSummary:
    """The figures overall, per agent and per channel (each sorted by its name)."""
    overall = RatingFigures()
    by_agent: dict[str, RatingFigures] = {}
    by_channel: dict[str, RatingFigures] = {}
    for row in counts:
        if row.score is not None and row.score not in SCORES:
            continue  # a stored score outside the scale is no figure of ours
        overall = overall.plus(row.score, row.count)
        by_agent[row.agent] = by_agent.get(row.agent, RatingFigures()).plus(row.score, row.count)
        by_channel[row.channel] = by_channel.get(row.channel, RatingFigures()).plus(
            row.score, row.count
        )
    return RatingSummary(
        overall,
        dict(sorted(by_agent.items())),
        dict(sorted(by_channel.items())),
    )
