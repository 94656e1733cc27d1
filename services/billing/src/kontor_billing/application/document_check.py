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

from kontor_servicekit.domain_errors import Conflict, Unavailable

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

    Loading the renderers and compiling the rule sets takes seconds (more on a busy
    machine), longer than a transaction may wait (5 s, ADR 0010). The service starts the
    loading in the background when it starts (``loading_hook``) and, until it is done,
    a check raises ``Unavailable``: the consumer gets the event again a moment later, a
    route answers 503, and no transaction waits for an import. Without ``background``
    (the unit tests) the first check loads them itself.
    """

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        self.loaded = threading.Event()
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self.loaded.is_set():
                return
            from kontor_billing.documents.from_invoice import document_of
            from kontor_billing.documents.issue import broken_rules
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
            if self.background:
                raise Unavailable("the e-invoice rule sets are still loading", retry_after_s=2)
            await asyncio.to_thread(self.load)
        from kontor_billing.documents.from_invoice import EXAMPLE_SELLER, document_of
        from kontor_billing.documents.issue import broken_rules

        return await asyncio.to_thread(broken_rules, document_of(draft, EXAMPLE_SELLER))


def rules_check() -> RulesCheck:
    """The check for tests: loads the rule sets on first use."""
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
