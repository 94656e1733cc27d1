"""E-invoice rules checked before a number is taken (ADR 0025).

A number, once taken, must never be lost (GoBD, §14 Abs. 4 Nr. 4 UStG): an invoice
numbered and then found to break EN 16931 or BR-DE could only be cancelled, leaving a
number with a useless document behind. So the document's data is checked *before* the
number is drawn: the draft (the same invoice with a provisional number) is turned into
its CII XML and validated; when a rule fails, no number is taken and the order waits
un-numbered in billing's order book with the rule ids (``GET /documents/failed``),
to be issued when the data is fixed (``PUT /seller`` and ``POST /documents/failed/retry``
try every waiting order again).

The check itself is injected (``BillingPolicy.check_documents``): the service passes a
:class:`RulesCheck` (saxonche, in a worker thread); unit tests pass their own or none.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime

from kontor_servicekit.domain_errors import Conflict

from kontor_billing.domain.invoice import Invoice, document_number, numbering_year

DocumentCheck = Callable[[Invoice], Awaitable[list[str]]]
"""The rule ids a document would break (empty: it may be issued)."""

#: The sequence a draft carries in place of its number: the rules never look at it.
PROVISIONAL_SEQUENCE = 999_999


def provisional_number(prefix: str, issued_at: datetime) -> str:
    return document_number(prefix, numbering_year(issued_at), PROVISIONAL_SEQUENCE)


class RulesCheck:
    """The real check: the draft's CII XML against XSD, EN 16931 and (with a Leitweg-ID)
    BR-DE, in a worker thread so the event loop keeps serving.

    Importing drafthorse and saxonche and compiling the two rule sets takes about 1.5 s
    (more on a busy machine). The service starts that in a daemon thread when it starts
    (``loading_hook``); a check that comes earlier waits for it in its worker thread, so
    only the first documents after a start wait, for what is left of the loading. (Tried
    and measured worse: refusing with ``Unavailable`` until loaded, so the consumer gets
    the event again after its pause; see ADR 0025.)
    """

    def __init__(self) -> None:
        self.loaded = threading.Event()
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self.loaded.is_set():
                return
            from kontor_billing.documents.check import broken_rules
            from kontor_billing.documents.from_invoice import document_of
            from kontor_billing.documents.validation import STYLES, check_rules

            for name in STYLES:  # compiles each rule set (the XSD loads in milliseconds)
                check_rules(b"<warm-up/>", name)
            del document_of, broken_rules
            self.loaded.set()

    def loading_hook(self) -> Callable[[object], Awaitable[None]]:
        """An ``on_started`` hook: loads in a daemon thread, returns at once."""

        async def start(_kit: object) -> None:
            threading.Thread(target=self.load, name="e-invoice-rules", daemon=True).start()

        return start

    async def __call__(self, draft: Invoice) -> list[str]:
        if not self.loaded.is_set():
            await asyncio.to_thread(self.load)  # waits for the loading thread, if running
        from kontor_billing.documents.check import broken_rules
        from kontor_billing.documents.from_invoice import EXAMPLE_SELLER, document_of

        return await asyncio.to_thread(broken_rules, document_of(draft, EXAMPLE_SELLER))


def rules_check() -> RulesCheck:
    """A check that loads the rule sets on first use (the tests')."""
    return RulesCheck()


async def refused(check: DocumentCheck | None, draft: Invoice) -> list[str]:
    """The rule ids ``draft`` breaks; none when no check is configured."""
    return [] if check is None else await check(draft)


def refusal(kind: str, rule_ids: list[str]) -> Conflict:
    """Why a cancellation or correction is not issued (no number was taken)."""
    return Conflict(
        f"the {kind} breaks e-invoice rules and is not issued (no number taken): "
        + ", ".join(rule_ids),
        details={"rule_ids": rule_ids},
    )


def waiting_reason(rule_ids: list[str]) -> str:
    return (
        "its documents break e-invoice rules: " + ", ".join(rule_ids) + " (fix the data, then "
        "PUT /seller or POST /documents/failed/retry)"
    )
