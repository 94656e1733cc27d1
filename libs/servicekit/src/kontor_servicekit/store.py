"""MongoDB access: the client, transactions with outbox and inbox, sequences.

Every write that matters runs in :meth:`Store.transaction`: the business change, the
outgoing events (outbox) and, for a consumer, the id of the event being handled
(inbox) commit together with a journaled write concern, or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bson import ObjectId, decode, encode
from bson.codec_options import TypeRegistry
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.registry import REGISTRY
from opentelemetry import propagate
from pymongo import AsyncMongoClient, ReplaceOne, ReturnDocument, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.monitoring import CommandListener
from pymongo.read_concern import ReadConcern

from kontor_servicekit.codecs import DECIMAL_CODEC
from kontor_servicekit.privacy.keys import UNKEYED_PSEUDONYMS

if TYPE_CHECKING:  # the participant imports the store: no cycle at run time
    from kontor_servicekit.privacy.participant import ExportParts

log = logging.getLogger(__name__)

T = TypeVar("T")

Document = dict[str, Any]

OUTBOX = "outbox"
INBOX = "inbox"
SEQUENCES = "sequences"
IDEMPOTENCY = "idempotency_keys"

#: Journaled: a kill -9 right after the acknowledgement must not lose the write.
JOURNALED = WriteConcern(w=1, j=True)


class OutboxSealer(Protocol):
    """What the outbox write passes every event through (``kontor_servicekit.privacy``)."""

    async def seal(self, envelope: Envelope) -> Envelope: ...


class AlreadyHandled(Exception):
    """The inbox already holds this event: the redelivery has no second effect."""


class TransactionAborted(Exception):
    """A transaction kept conflicting for the whole retry budget and was given up.

    Transient: typically another writer holds the same document, or a crashed
    process left a transaction open that the server aborts after its lifetime
    limit (``transactionLifetimeLimitSeconds``: 60 s by default on MongoDB and
    SecantusDB, 5 s as Kontor runs them, ADR 0010). Callers retry later; it is never
    a reason to dead-letter a message.
    """


@dataclass
class Transaction:
    """One unit of work: the session every repository call must pass on.

    Events recorded with :meth:`emit` are written to the outbox in the same
    transaction as the business change.
    """

    db: AsyncDatabase[Document]
    session: AsyncClientSession
    producer: str
    correlation_id: str | None = None
    causation_id: str | None = None
    pending: list[Envelope] = field(default_factory=list)
    memo: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    """Documents read or written in this transaction, as BSON (see :meth:`remember`)."""
    deferred: dict[str, dict[str, Document]] = field(default_factory=dict)
    """Documents to write by ``_id`` when the work is done, per collection (see
    :meth:`replace_later`)."""
    traces: dict[str, dict[str, str]] = field(default_factory=dict)
    """The trace context each pending event was emitted in (W3C headers by event id): a
    consumer handling several events in one transaction emits each in its own trace."""
    subject_ids: Callable[[str], str] | None = None
    export_parts: ExportParts | None = None
    """Where an export's part too large for an event goes (ADR 0142; the kit's, from
    :attr:`Store.export_parts`)."""

    def subject_id(self, email: str) -> str:
        """The person's pseudonymous subject id (``subj_<hex>``, ADR 0034): the key of
        an event that must not carry the e-mail outside its sealed payload (ADR 0056)."""
        if self.subject_ids is not None:
            return self.subject_ids(email)
        return UNKEYED_PSEUDONYMS.subject_id(email)

    def emit(self, event: Event, *, aggregate_id: str) -> Envelope:
        """Record ``event`` for publication once this transaction commits."""
        REGISTRY.spec_of(type(event))  # unknown event types fail here, not in the relay
        envelope = Envelope.wrap(
            event,
            producer=self.producer,
            aggregate_id=aggregate_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )
        if self.correlation_id is None:
            self.correlation_id = envelope.correlation_id
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        self.traces[str(envelope.id)] = carrier
        self.pending.append(envelope)
        return envelope

    def remember(self, collection: str, key: str, doc: Document | None) -> None:
        """Keep ``doc`` as this transaction's version of ``collection``/``key`` (None: it
        does not exist), for :meth:`recall` by a later read in the same transaction:
        the handlers of several events share one (ADR 0110), and the second event of an
        order need not read again what the first wrote. Kept as BSON, so a recall gives
        what the database would (milliseconds, UTC, Decimal) as a fresh copy. A
        repository that remembers a document must write it only through itself. Gone
        with the transaction, also when a conflict runs the work again."""
        options = self.db[collection].codec_options
        self.memo[(collection, key)] = None if doc is None else encode(doc, codec_options=options)

    def replace_later(self, collection: str, doc: Document) -> None:
        """Write ``doc`` (replace by ``_id``, or insert) when the work is done, with the
        other documents of ``collection`` written so, one command for all (ADR 0151): a
        batch's events save the same kind of document one after the other, and a
        document saved twice is written once. It is remembered (:meth:`remember`) at
        once, so a read through the same repository sees it; a query of the collection
        must :meth:`flush` first. A conflict it meets shows when the transaction ends,
        and runs the whole work again as any other."""
        key = str(doc["_id"])
        self.deferred.setdefault(collection, {})[key] = doc
        self.remember(collection, key, doc)

    async def flush(self, collection: str | None = None) -> None:
        """Write what :meth:`replace_later` holds (of ``collection``, or all)."""
        names = [collection] if collection is not None else list(self.deferred)
        for name in names:
            docs = self.deferred.pop(name, None)
            if docs:
                await self.db[name].bulk_write(
                    [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs.values()],
                    ordered=True,
                    session=self.session,
                )

    async def read_ahead(self, collection: str, ids: Iterable[str]) -> None:
        """Read the documents of ``collection`` with these ``_id`` s in one query and
        :meth:`remember` each (an absent one as absent), for a batch's handlers that
        will :meth:`recall` them one by one (ADR 0150). Ids known already are skipped."""
        unknown = [i for i in dict.fromkeys(ids) if (collection, i) not in self.memo]
        if not unknown:
            return
        found = {
            doc["_id"]: doc
            async for doc in self.db[collection].find(
                {"_id": {"$in": unknown}}, session=self.session
            )
        }
        for key in unknown:
            self.remember(collection, key, found.get(key))

    def forget(self, collection: str, key: str) -> None:
        """Drop what :meth:`remember` kept of ``collection``/``key``: a write that does not
        give the new version (an ``update_one``) makes the next read go to the database."""
        self.memo.pop((collection, key), None)

    def recall(self, collection: str, key: str) -> tuple[bool, Document | None]:
        """``(True, doc)`` when :meth:`remember` kept ``collection``/``key`` (``doc`` None:
        it does not exist), else ``(False, None)``: read it from the database."""
        if (collection, key) not in self.memo:
            return False, None
        raw = self.memo[(collection, key)]
        if raw is None:
            return True, None
        return True, decode(raw, codec_options=self.db[collection].codec_options)

    async def next_sequence(self, key: str) -> int:
        """The next number of a gap-free sequence.

        The counter is incremented inside this transaction: if it aborts, the
        number is not used up, and two transactions taking the same counter
        conflict (one retries), so the numbers have neither gaps nor duplicates.
        ``find_one_and_update`` is fine here: the collection holds one tiny
        document per sequence.
        """
        doc = await self.db[SEQUENCES].find_one_and_update(
            {"_id": key},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=self.session,
        )
        assert doc is not None
        return int(doc["value"])


DEAD_LETTERS = "dead_letters"
DAY_S = 24 * 3600


@dataclass(frozen=True)
class KitRetention:
    """How long the kit's own collections keep a row (seconds; settings ``*_keep_days``)."""

    outbox_sent_s: int = 7 * DAY_S
    inbox_s: int = 30 * DAY_S
    dead_letters_s: int = 28 * DAY_S
    """As long as the dead-letter topics keep them (``deploy/k8s``: 28 days)."""


async def ensure_ttl_index(
    collection: AsyncCollection[Document], field_name: str, name: str, seconds: int
) -> None:
    """A TTL index ``name`` on ``field_name`` that expires after ``seconds``, changed in
    place (``collMod``) when it exists with another TTL: a setting that changes must not
    make the start fail on the old index."""
    try:
        await collection.create_index(field_name, name=name, expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code not in (85, 86):  # IndexOptionsConflict, IndexKeySpecsConflict
            raise
        try:
            await collection.database.command(
                "collMod", collection.name, index={"name": name, "expireAfterSeconds": seconds}
            )
        except OperationFailure:  # a server without collMod of TTLs: build it anew
            await collection.drop_index(name)
            await collection.create_index(field_name, name=name, expireAfterSeconds=seconds)


def _only_duplicates(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(error.get("code") == 11000 for error in errors)


def is_transient(exc: PyMongoError) -> bool:
    return exc.has_error_label("TransientTransactionError") or exc.has_error_label(
        "UnknownTransactionCommitResult"
    )


class Store:
    """The service's own database with transactional outbox and inbox."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        producer: str,
        conflict_budget_s: float = 10.0,
    ) -> None:
        self.client = client
        self.db: AsyncDatabase[Document] = client[database]
        self.producer = producer
        self.conflict_budget_s = conflict_budget_s
        self._commit_listeners: list[Callable[[], None]] = []
        self.sealer: OutboxSealer | None = None
        """Seals the personal fields of every event as it is written to the outbox (the
        kit sets it when a privacy master key is configured, ADR 0036)."""
        self.subject_ids: Callable[[str], str] | None = None
        """E-mail -> subject id under the master key (set with :attr:`sealer`)."""
        self.export_parts: ExportParts | None = None
        """The shared bucket for export parts too large for an event (set with
        :attr:`sealer`; every transaction carries it, ADR 0142)."""

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit that wrote outbox rows."""
        self._commit_listeners.append(listener)

    async def ensure_indexes(self, retention: KitRetention | None = None) -> None:
        """Indexes of the kit's own collections, with the TTLs of ``retention``."""
        keep = retention or KitRetention()
        await self.db[OUTBOX].create_index([("status", 1), ("seq", 1)], name="pending_in_order")
        await ensure_ttl_index(self.db[OUTBOX], "sent_at", "sent_ttl", keep.outbox_sent_s)
        await ensure_ttl_index(self.db[INBOX], "handled_at", "handled_ttl", keep.inbox_s)
        # parked messages hold whole payloads (sealed, but still): they go after a while
        await ensure_ttl_index(
            self.db[DEAD_LETTERS], "dead_lettered_at", "dead_letter_ttl", keep.dead_letters_s
        )
        # Idempotency-Key answers (kontor_servicekit.idempotency) go when they expire
        await self.db[IDEMPOTENCY].create_index(
            "expires_at", name="expiry_ttl", expireAfterSeconds=0
        )

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def transaction(
        self,
        work: Callable[[Transaction], Awaitable[T]],
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        inbox_key: str | None = None,
    ) -> T:
        """Run ``work`` in a journaled multi-document transaction.

        ``work`` may run more than once (a write conflict retries the whole
        transaction), so it must only touch the database through the
        :class:`Transaction` it is given. With ``inbox_key`` the key is recorded
        in the inbox in the same transaction; if it is there already,
        :class:`AlreadyHandled` is raised and nothing else is written.
        """
        delay = 0.005
        began = time.monotonic()
        deadline = began + self.conflict_budget_s
        attempt = 0
        warned = False
        while True:
            attempt += 1
            async with self.client.start_session() as session:
                tx = Transaction(
                    db=self.db,
                    session=session,
                    producer=self.producer,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                    subject_ids=self.subject_ids,
                    export_parts=self.export_parts,
                )
                try:
                    async with await session.start_transaction(
                        read_concern=ReadConcern("snapshot"), write_concern=JOURNALED
                    ):
                        if inbox_key is not None:
                            await self._record_inbox(tx, inbox_key)
                        result = await work(tx)
                        await tx.flush()
                        await self._write_outbox(tx)
                except PyMongoError as exc:
                    if is_transient(exc) and time.monotonic() < deadline:
                        log.debug("transaction conflict, retrying", extra={"attempt": attempt})
                        if not warned and time.monotonic() - began > 1.0:
                            warned = True  # longer than any of ours: likely a dead writer's
                            log.warning(
                                "write conflicts for over 1 s (%s); another transaction holds "
                                "the documents, maybe one a killed process left open, which "
                                "the database ends after its transaction lifetime",
                                exc,
                            )
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 0.5)
                        continue
                    if is_transient(exc):
                        raise TransactionAborted(str(exc)) from exc
                    raise
            if tx.pending:
                for listener in self._commit_listeners:
                    listener()
            return result

    async def _record_inbox(self, tx: Transaction, key: str) -> None:
        try:
            await tx.db[INBOX].insert_one(
                {"_id": key, "handled_at": datetime.now(UTC)}, session=tx.session
            )
        except DuplicateKeyError as exc:
            raise AlreadyHandled(key) from exc

    async def record_inbox_many(self, tx: Transaction, keys: Sequence[str]) -> None:
        """Record several handled events in ``tx`` (one command); a key already there
        raises :class:`AlreadyHandled` (the caller handles them one by one instead)."""
        if not keys:
            return
        now = datetime.now(UTC)
        try:
            await tx.db[INBOX].insert_many(
                [{"_id": key, "handled_at": now} for key in keys], session=tx.session
            )
        except (DuplicateKeyError, BulkWriteError) as exc:
            if isinstance(exc, BulkWriteError) and not _only_duplicates(exc):
                raise
            raise AlreadyHandled(", ".join(keys)) from exc

    async def handled_already(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the inbox holds (read outside any transaction)."""
        if not keys:
            return set()
        cursor = self.db[INBOX].find({"_id": {"$in": list(keys)}}, {"_id": 1})
        return {str(doc["_id"]) async for doc in cursor}

    async def _write_outbox(self, tx: Transaction) -> None:
        if not tx.pending:
            return
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        now = datetime.now(UTC)
        envelopes = tx.pending
        if self.sealer is not None:  # a key store outage fails the transaction: never clear
            envelopes = [await self.sealer.seal(envelope) for envelope in envelopes]
        rows = [
            {
                "_id": str(envelope.id),
                "seq": ObjectId(),
                "topic": REGISTRY.spec_for(envelope.type, envelope.version).topic,
                "key": envelope.aggregate_id,
                "value": envelope.to_bytes().decode(),
                "type": envelope.type,
                "status": "pending",
                "created_at": now,
                "trace": tx.traces.get(str(envelope.id), carrier),
                "attempts": 0,
                "last_error": None,
                "last_attempt_at": None,
            }
            for envelope in envelopes
        ]
        await tx.db[OUTBOX].insert_many(rows, session=tx.session)


def create_client(
    url: str, *, app_name: str, event_listeners: Sequence[CommandListener] = ()
) -> AsyncMongoClient[Document]:
    """An ``AsyncMongoClient`` with timezone-aware datetimes and Decimal128 round-trips.

    ``event_listeners`` are this client's own (the service's Mongo tracing).
    """
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        tzinfo=UTC,
        serverSelectionTimeoutMS=5000,
        type_registry=TypeRegistry([DECIMAL_CODEC]),
        event_listeners=list(event_listeners),
    )


async def find_page(
    collection: AsyncCollection[Document],
    query: Document,
    sort: Sequence[tuple[str, int]],
    *,
    page: int,
    page_size: int,
) -> tuple[list[Document], int]:
    """One page of the documents matching ``query`` in ``sort`` order, and the count of
    all of them: two round trips, whatever the page (the lists' ``PageOut``)."""
    total = await collection.count_documents(query)
    cursor = collection.find(query).sort(list(sort)).skip((page - 1) * page_size)
    return await cursor.limit(page_size).to_list(None), total
