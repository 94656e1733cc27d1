"""Matching an incoming credit to open receivables (issue 12, ADR 0030). Pure.

:func:`decide` books a credit only when it is sure:

- the remittance text names invoice or order numbers (as people type them: ``RE 2026
  000012``, ``2026-000012``, ``re2026000012``, ``B-2026-000012``): one named item takes
  the whole amount (a partial payment, or an over-payment the ledger keeps as a credit);
  several named items are paid when the amount is exactly what they have open together;
- no number, but exactly one open item asks exactly this amount from this payer (the
  buyer's name, or an IBAN that paid this customer before).

Anything else waits for a person with ranked :class:`Suggestion` s (score and why).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kontor_billing.domain.bank_statements import Allocation, StatementLine
from kontor_billing.domain.receivables import Receivable

ZERO = Decimal("0")
SEPARATORS = r"[\s\-_./:#]*"
# letters, year, and a six-digit sequence; or a shorter sequence when a prefix says
# what it is and no further digit follows (a text cut "RE 2026 0001 01" is not RE-2026-000001)
_SPACED = re.compile(
    rf"(?<![A-Z0-9])(?:([A-Z]{{1,4}}){SEPARATORS})?(20\d{{2}}){SEPARATORS}"
    rf"(?:(\d{{6}})(?!\d)|(\d{{1,5}})(?!{SEPARATORS}\d))"
)
_SQUEEZED = re.compile(r"(?:(?<![A-Z])([A-Z]{1,4}))?(?<!\d)(20\d{2})(\d{6})(?!\d)")
_NUMBER = re.compile(r"^([A-Z]*)-?(\d{4})-(\d{1,6})$")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NAME_NOISE = frozenset({"herr", "frau", "dr", "prof", "und", "u", "gmbh", "ag", "kg", "ug", "eg"})

MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class Reference:
    """A document number as found in a text: its letters if written, year and sequence."""

    letters: str | None
    key: str
    """Year and six-digit sequence: ``2026000012``."""


@dataclass(frozen=True)
class OpenItem:
    """What matching needs of a receivable."""

    invoice_number: str
    order_id: str
    order_number: str | None
    customer_name: str
    customer_email: str
    currency: str
    open_amount: Decimal
    status: str

    @classmethod
    def of(cls, receivable: Receivable) -> OpenItem:
        return cls(
            invoice_number=receivable.invoice_number,
            order_id=receivable.order_id,
            order_number=receivable.order_number,
            customer_name=receivable.customer_name,
            customer_email=receivable.customer_email,
            currency=receivable.currency,
            open_amount=receivable.open_amount,
            status=receivable.status,
        )

    @property
    def payable(self) -> bool:
        return self.status != "cancelled" and self.open_amount > ZERO


def number_reference(number: str) -> Reference | None:
    """``RE-2026-000012`` as a :class:`Reference` (None for a number of another shape)."""
    found = _NUMBER.match(number.strip().upper())
    if found is None:
        return None
    letters, year, seq = found.groups()
    return Reference(letters or None, year + seq.zfill(6))


def references_in(text: str) -> list[Reference]:
    """The document numbers a remittance text names, in the order written, once each."""
    upper = unicodedata.normalize("NFKC", text).upper()
    found: list[Reference] = []
    for m in _SPACED.finditer(upper):
        letters, year, six, short = m.groups()
        if six is None and letters is None:
            continue  # "2026 12": a year and a short number, without a prefix, say nothing
        found.append(Reference(letters, year + (six or short).zfill(6)))
    squeezed = re.sub(r"[\s\-_./:#]+", "", upper)
    for m in _SQUEEZED.finditer(squeezed):
        letters, year, seq = m.groups()
        found.append(Reference(letters, year + seq))
    unique: dict[str, Reference] = {}
    for ref in found:
        kept = unique.get(ref.key)
        if kept is None or (kept.letters is None and ref.letters is not None):
            unique[ref.key] = ref
    return sorted(unique.values(), key=lambda r: _first_position(found, r.key))


def _first_position(found: list[Reference], key: str) -> int:
    return next(i for i, r in enumerate(found) if r.key == key)


def refers_to(ref: Reference, item: OpenItem) -> str | None:
    """``invoice`` or ``order`` if ``ref`` names the item's invoice or order, else None.

    The sequence must be the item's; letters, when written, only choose between an
    invoice and an order with the same digits (a wrong or missing prefix is forgiven).
    """
    kinds = []
    for kind, number in (("invoice", item.invoice_number), ("order", item.order_number)):
        own = number_reference(number) if number else None
        if own is not None and own.key == ref.key:
            kinds.append((kind, own.letters))
    if not kinds:
        return None
    for kind, letters in kinds:
        if ref.letters is not None and ref.letters == letters:
            return kind
    return kinds[0][0]


def name_tokens(name: str | None) -> frozenset[str]:
    folded = unicodedata.normalize("NFKC", name or "").casefold().translate(_UMLAUTS)
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return frozenset(t for t in re.split(r"[^a-z0-9]+", plain) if len(t) > 1) - _NAME_NOISE


def names_match(payer: str | None, buyer: str | None) -> bool:
    """Whether the account holder is the buyer: every word of the buyer's name (folded,
    umlauts as banks spell them, in any order) is in the payer's."""
    buyer_words, payer_words = name_tokens(buyer), name_tokens(payer)
    return bool(buyer_words) and buyer_words <= payer_words


@dataclass(frozen=True)
class Suggestion:
    invoice_number: str
    order_id: str
    order_number: str | None
    customer_name: str
    open_amount: Decimal
    currency: str
    score: Decimal
    """0 to 1: how sure the rules are."""
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    allocations: tuple[Allocation, ...]
    """Non-empty: book these; empty: wait for a person (``reason`` says why)."""
    reason: str | None
    suggestions: tuple[Suggestion, ...]


def _allocation(item: OpenItem, amount: Decimal) -> Allocation:
    return Allocation(
        invoice_number=item.invoice_number,
        amount=amount,
        order_id=item.order_id,
        customer_email=item.customer_email,
    )


def _referenced(line: StatementLine, items: list[OpenItem]) -> list[list[OpenItem]]:
    """Per reference in the text, the items it names (several: ambiguous digits)."""
    named = []
    for ref in references_in(line.match_text):
        hits = [i for i in items if refers_to(ref, i) is not None]
        if hits:
            named.append(hits)
    return named


def suggestions(
    line: StatementLine, items: Iterable[OpenItem], payer_emails: frozenset[str] = frozenset()
) -> tuple[Suggestion, ...]:
    """The items a person might match ``line`` to, best first, each with why."""
    refs = references_in(line.match_text)
    ranked = []
    for item in {i.invoice_number: i for i in items}.values():
        score, reasons = Decimal("0"), []
        kinds = {refers_to(ref, item) for ref in refs} - {None}
        if kinds:
            score += Decimal("0.5")
            reasons.append(f"{' and '.join(sorted(str(k) for k in kinds))} number in the text")
        if item.currency != line.currency:
            reasons.append(f"in {item.currency}, the booking is in {line.currency}")
        elif not item.payable:
            reasons.append(f"nothing open ({item.status})")
        elif item.open_amount == line.amount:
            score += Decimal("0.3")
            reasons.append("amount equals the open amount")
        elif line.amount < item.open_amount:
            score += Decimal("0.1")
            reasons.append(f"less than the open {item.open_amount} (a partial payment?)")
        if names_match(line.counterparty_name, item.customer_name):
            score += Decimal("0.2")
            reasons.append("payer's name is the buyer's")
        if item.customer_email in payer_emails:
            score += Decimal("0.2")
            reasons.append("this IBAN paid the customer's invoices before")
        if score > 0:
            ranked.append(
                Suggestion(
                    invoice_number=item.invoice_number,
                    order_id=item.order_id,
                    order_number=item.order_number,
                    customer_name=item.customer_name,
                    open_amount=item.open_amount,
                    currency=item.currency,
                    score=min(score, Decimal("1")),
                    reasons=tuple(reasons),
                )
            )
    ranked.sort(key=lambda s: (-s.score, s.invoice_number))
    return tuple(ranked[:MAX_SUGGESTIONS])


def _by_reference(line: StatementLine, named: list[list[OpenItem]]) -> tuple[Allocation, ...] | str:
    chosen: list[OpenItem] = []
    for hits in named:
        if len(hits) > 1:
            same_payer = [i for i in hits if names_match(line.counterparty_name, i.customer_name)]
            if len(same_payer) != 1:
                numbers = ", ".join(i.invoice_number for i in hits)
                return f"a number in the text fits several invoices ({numbers})"
            hits = same_payer
        if hits[0] not in chosen:
            chosen.append(hits[0])
    if any(i.currency != line.currency for i in chosen):
        return f"the invoices named are not in {line.currency}"
    payable = [i for i in chosen if i.payable]
    if not payable:
        numbers = ", ".join(f"{i.invoice_number} ({i.status})" for i in chosen)
        return f"nothing is open on the invoices named: {numbers}"
    if len(payable) == 1:
        return (_allocation(payable[0], line.amount),)
    open_total = sum((i.open_amount for i in payable), ZERO)
    if open_total != line.amount:
        return (
            f"{line.amount} {line.currency} for {len(payable)} invoices with "
            f"{open_total} open together: say how much pays which"
        )
    return tuple(_allocation(i, i.open_amount) for i in payable)


def _by_amount_and_payer(
    line: StatementLine, items: list[OpenItem], payer_emails: frozenset[str]
) -> tuple[Allocation, ...] | str:
    exact = [
        i
        for i in items
        if i.payable and i.currency == line.currency and i.open_amount == line.amount
    ]
    if not exact:
        return "no number in the text and no open item of this amount"
    same_payer = [
        i
        for i in exact
        if names_match(line.counterparty_name, i.customer_name) or i.customer_email in payer_emails
    ]
    if len(same_payer) == 1:
        return (_allocation(same_payer[0], line.amount),)
    if not same_payer:
        return f"{len(exact)} open item(s) of this amount, none of this payer"
    return f"{len(same_payer)} open items of this amount from this payer"


def decide(
    line: StatementLine, items: list[OpenItem], payer_emails: frozenset[str] = frozenset()
) -> Decision:
    """Book ``line`` (a credit) to ``items`` if the rules are sure, else say why not.

    ``items`` are the candidates the caller found (named in the text, of this amount, of
    this payer); ``payer_emails`` the customers the counterparty's IBAN paid before.
    """
    if line.direction != "credit":
        return Decision((), "a debit pays no invoice", ())
    named = _referenced(line, items)
    outcome = (
        _by_reference(line, named) if named else _by_amount_and_payer(line, items, payer_emails)
    )
    if isinstance(outcome, str):
        return Decision((), outcome, suggestions(line, items, payer_emails))
    return Decision(outcome, None, ())
