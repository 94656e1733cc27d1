"""In-memory stand-ins for the unit of work, for use-case unit tests without a database.

A :class:`FakeDatabase` holds named tables of *copies* (what a repository saves is
copied in, what it loads is copied out, as a database would), the sequences, the
inbox and the events of committed units. A :class:`FakeTransactor` runs a block of
work on a private copy of the database and swaps it in only when the block
returns: a block that raises leaves nothing behind, as a rolled-back transaction.

A service's fake unit of work subclasses :class:`FakeUnitOfWork` and builds its
in-memory repositories on :meth:`FakeUnitOfWork.table`::

    class FakeBillingUnitOfWork(FakeUnitOfWork):
        def __init__(self, db: FakeDatabase) -> None:
            super().__init__(db)
            self.invoices = FakeInvoiceRepository(self.table("invoices", key=lambda i: i.id))

    transactor = FakeTransactor(FakeBillingUnitOfWork)
    await transactor.run(lambda uow: issue_invoice(uow, command, clock))
    assert transactor.db.event_types() == ["InvoiceIssued"]
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from kontor_contracts.envelope import Envelope, Event

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.privacy.keys import UNKEYED_PSEUDONYMS
from kontor_servicekit.store import AlreadyHandled

__all__ = [
    "EmittedEvent",
    "FakeDatabase",
    "FakeTransactor",
    "FakeUnitOfWork",
    "InMemoryBlobs",
    "InMemoryTable",
    "envelope_of",
]

T = TypeVar("T")
U = TypeVar("U", bound="FakeUnitOfWork")
Row = TypeVar("Row")


@dataclass(frozen=True)
class EmittedEvent:
    """An event a committed unit of work handed to the outbox."""

    event: Event
    aggregate_id: str

    @property
    def type(self) -> str:
        return type(self.event).__name__


@dataclass
class FakeDatabase:
    """Everything a fake unit of work can read and write."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    inbox: set[str] = field(default_factory=set)
    outbox: list[EmittedEvent] = field(default_factory=list)
    commits: int = 0

    def events(self, kind: type[T] | None = None) -> list[Any]:
        """The committed events, in order; only those of ``kind`` if given."""
        found = [e.event for e in self.outbox]
        return found if kind is None else [e for e in found if isinstance(e, kind)]

    def event_types(self) -> list[str]:
        return [e.type for e in self.outbox]

    def rows(self, table: str) -> list[Any]:
        """Copies of what ``table`` holds, in insertion order."""
        return [copy.deepcopy(row) for row in self.tables.get(table, {}).values()]


def _stored(row: Any) -> Any:
    """The copy a database would keep: never an aggregate's unpulled domain events."""
    kept = copy.deepcopy(row)
    if hasattr(kept, "__dict__"):
        kept.__dict__.pop("_recorded_events", None)
    return kept


class InMemoryTable(Generic[Row]):
    """One table of a :class:`FakeDatabase`: rows keyed by ``key(row)``, stored as copies."""

    def __init__(self, rows: dict[str, Any], key: Callable[[Row], str]) -> None:
        self._rows = rows
        self._key = key

    def get(self, key: str) -> Row | None:
        row = self._rows.get(key)
        return None if row is None else copy.deepcopy(row)

    def insert(self, row: Row) -> None:
        """Add a new row; an existing key is a :class:`Conflict` (a unique index)."""
        key = self._key(row)
        if key in self._rows:
            raise Conflict(f"duplicate key {key!r}")
        self._rows[key] = _stored(row)

    def put(self, row: Row) -> None:
        """Insert or replace the row with this key."""
        self._rows[self._key(row)] = _stored(row)

    def delete(self, key: str) -> bool:
        return self._rows.pop(key, None) is not None

    def __iter__(self) -> Iterator[Row]:
        return iter([copy.deepcopy(row) for row in self._rows.values()])

    def __len__(self) -> int:
        return len(self._rows)

    def where(self, predicate: Callable[[Row], bool]) -> list[Row]:
        return [row for row in self if predicate(row)]


class FakeUnitOfWork:
    """Base of a service's fake unit of work (the counterpart of ``MongoUnitOfWork``)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.pending: list[EmittedEvent] = []

    def table(self, name: str, *, key: Callable[[Any], str]) -> InMemoryTable[Any]:
        return InMemoryTable(self.db.tables.setdefault(name, {}), key)

    def emit(self, event: Event, *, aggregate_id: str) -> None:
        self.pending.append(EmittedEvent(event, aggregate_id))

    async def next_sequence(self, key: str) -> int:
        self.db.sequences[key] = self.db.sequences.get(key, 0) + 1
        return self.db.sequences[key]

    def subject_id(self, email: str) -> str:
        return UNKEYED_PSEUDONYMS.subject_id(email)


class FakeTransactor(Generic[U]):
    """Runs work in fake units of work over one :class:`FakeDatabase` (``self.db``)."""

    def __init__(self, unit_of_work: Callable[[FakeDatabase], U], db: FakeDatabase | None = None):
        self.unit_of_work = unit_of_work
        self.db = db or FakeDatabase()

    async def run(
        self,
        work: Callable[[U], Awaitable[T]],
        *,
        correlation_id: str | None = None,
        inbox_key: str | None = None,
    ) -> T:
        working = copy.deepcopy(self.db)
        if inbox_key is not None:
            if inbox_key in working.inbox:
                raise AlreadyHandled(inbox_key)
            working.inbox.add(inbox_key)
        uow = self.unit_of_work(working)
        result = await work(uow)  # raises: `working` is dropped, nothing is kept
        working.outbox.extend(uow.pending)
        working.commits += 1
        self.db.__dict__.update(working.__dict__)
        return result

    async def deliver(
        self,
        handler: Callable[[Any, U, Envelope], Awaitable[None]],
        event: Event,
        envelope: Envelope | None = None,
    ) -> bool:
        """Hand ``event`` to a consumer handler as the kit's consumer would: in one unit
        with the inbox record. Returns False for a redelivery (already handled)."""
        env = envelope or envelope_of(event)
        try:
            await self.run(lambda uow: handler(event, uow, env), inbox_key=str(env.id))
        except AlreadyHandled:
            return False
        return True


def envelope_of(event: Event, *, aggregate_id: str | None = None, **fields: Any) -> Envelope:
    """An envelope around ``event`` as another service would have sent it."""
    return Envelope.wrap(
        event,
        producer=fields.pop("producer", "test"),
        aggregate_id=aggregate_id or str(uuid.uuid4()),
        **fields,
    )


class InMemoryBlobs:
    """A :class:`~kontor_servicekit.blobs.BlobWriter` in memory (the unit tests' GridFS):
    ``files`` maps each id to its bytes, content type and metadata."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, dict[str, Any]]] = {}
        self._count = 0

    async def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        self._count += 1
        blob_id = f"blob-{self._count}"
        self.files[blob_id] = (data, content_type, {"filename": filename, **(metadata or {})})
        return blob_id

    async def delete(self, blob_id: str) -> None:
        self.files.pop(blob_id, None)
