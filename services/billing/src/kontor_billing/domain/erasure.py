"""Rules of what billing shows of a person it erased (issue 13, ADR 0037, 0075, 0113).

Pure: the store asks the questions (``store/erased_buyers.py``), these decide.

- A record is the erased person's old one when it was made on or before the erasure;
  one made later is their new one and shown as any other.
- A document counts from the first document of its order: a cancellation and a
  correction copy the buyer of the invoice they refer to, and a reissued invoice (Storno
  + new invoice, ADR 0025) copies the cancelled one's, so each is as restricted as the
  order's first invoice, however late it was issued (ADR 0113).
- A bank credit that paid nothing is the person's when its payer is one of the person's
  accounts or names, as billing knew them at the erasure (ADR 0114): the identities
  below, compared as keyed pseudonyms, never in clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from kontor_billing.domain.reconciliation import name_tokens

#: The fewest words a payer's name must have to identify a person ("Muster" alone does not).
MIN_NAME_WORDS = 2


def made_before_erasure(made_at: datetime, erased_at: datetime) -> bool:
    """Whether a record made at ``made_at`` is the person's old one (restricted)."""
    return made_at <= erased_at


def counted_from(issued_at: datetime, order_documents: Iterable[datetime]) -> datetime:
    """The moment a document is judged by: the first document of its order (itself when
    it is the first)."""
    return min([issued_at, *order_documents])


def normalised_iban(iban: str | None) -> str | None:
    """An IBAN as banks compare it: no spaces, upper case; None when there is none."""
    plain = "".join((iban or "").split()).upper()
    return plain or None


def normalised_name(name: str | None) -> str | None:
    """A person's name as a payer writes it in any order and spelling: its words folded
    (umlauts as banks spell them, titles dropped), sorted. None when it has fewer than
    :data:`MIN_NAME_WORDS` words: too little to say whose it is."""
    words = sorted(name_tokens(name))
    return " ".join(words) if len(words) >= MIN_NAME_WORDS else None


def payer_identities(iban: str | None, name: str | None) -> list[str]:
    """What identifies a payer: ``iban:<IBAN>`` and ``name:<words>`` (each when known),
    the inputs of the keyed pseudonyms kept for an erased person."""
    found = []
    if (plain := normalised_iban(iban)) is not None:
        found.append(f"iban:{plain}")
    if (words := normalised_name(name)) is not None:
        found.append(f"name:{words}")
    return found
