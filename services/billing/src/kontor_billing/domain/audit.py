"""The audit trail (GoBD): an append-only hash chain per number range.

Every issued document and every change of a document's state is an entry of the
chain of its number range (``RE-2026``, ``ST-2026``, ``KR-2026``). An entry holds the
SHA-256 of its document (as stored) and the SHA-256 of the entry before it, and is
sealed by the SHA-256 over all of that, so changing a stored document, an entry, or
removing an entry breaks the chain at that point; :func:`first_broken` names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64
#: The action of a tombstone: the document was deleted after its retention period.
PURGED = "purged"


@dataclass(frozen=True)
class AuditEntry:
    chain: str
    seq: int
    number: str
    action: str
    """issued, cancelled (the invoice, by a cancellation), corrected (by a correction),
    purged (deleted after its retention period: a tombstone, ADR 0027)"""
    document_sha256: str
    previous_sha256: str
    at: datetime
    detail: str | None = None
    entry_sha256: str = ""

    def seal(self) -> str:
        text = "|".join(
            [
                self.chain,
                str(self.seq),
                self.number,
                self.action,
                self.document_sha256,
                self.previous_sha256,
                self.at.isoformat(timespec="milliseconds"),
                self.detail or "",
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


def next_entry(
    previous: AuditEntry | None,
    *,
    chain: str,
    seq: int,
    number: str,
    action: str,
    document_sha256: str,
    at: datetime,
    detail: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        chain=chain,
        seq=seq,
        number=number,
        action=action,
        document_sha256=document_sha256,
        previous_sha256=previous.entry_sha256 if previous else GENESIS,
        at=at,
        detail=detail,
    )
    return AuditEntry(**{**vars(entry), "entry_sha256": entry.seal()})


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    seq: int
    number: str | None
    reason: str


def first_broken(
    entries: Sequence[AuditEntry], documents: Mapping[str, str | None]
) -> BrokenLink | None:
    """The first broken link of one chain (``entries`` in seq order), or None.

    ``documents`` maps each number to the SHA-256 of the document as stored now (None:
    gone). Checked per entry: no entry missing before it, its seal, its link to the
    one before, and that its document is still what was recorded.
    """
    # a document deleted after its retention period leaves a tombstone (ADR 0027): the
    # entry ``purged`` with the SHA-256 of what was deleted; its earlier entries must
    # match that hash instead of a stored document
    tombstones = {e.number: e.document_sha256 for e in entries if e.action == PURGED}
    previous: AuditEntry | None = None
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            return BrokenLink(entry.chain, expected, None, f"entry {expected} is missing")
        if entry.seal() != entry.entry_sha256:
            return BrokenLink(entry.chain, entry.seq, entry.number, "entry was altered")
        wanted = previous.entry_sha256 if previous else GENESIS
        if entry.previous_sha256 != wanted:
            return BrokenLink(
                entry.chain, entry.seq, entry.number, "link to the previous entry broken"
            )
        current = documents.get(entry.number)
        if current is None and entry.number in tombstones:
            current = tombstones[entry.number]
        if current is None:
            return BrokenLink(entry.chain, entry.seq, entry.number, "document is missing")
        if current != entry.document_sha256:
            return BrokenLink(
                entry.chain, entry.seq, entry.number, "document differs from the one issued"
            )
        previous = entry
    return None
