"""The unit of work: how a use case reaches its data, with a real and a fake implementation.

A use case is written against a service's unit-of-work *protocol*: the service's
repositories as attributes, plus :meth:`UnitOfWork.emit` (events for the outbox) and
:meth:`UnitOfWork.next_sequence` (gap-free numbers). It never sees a session, a
collection or a broker, so the same code runs

- over MongoDB: :class:`MongoUnitOfWork` wraps a :class:`~kontor_servicekit.store.Transaction`
  (one journaled multi-document transaction with outbox and, in a consumer, inbox);
- over memory in unit tests: :class:`~kontor_servicekit.fakes.FakeUnitOfWork`.

Commands coming over HTTP run through a :class:`Transactor` (``await
transactor.run(work)``): the whole block commits, or nothing does; a write conflict
re-runs it. Consumers get their unit of work from the subscription
(``Subscription(unit_of_work=OrdersUnitOfWork)``) inside the inbox transaction.

Example::

    class BillingUnitOfWork(UnitOfWork, Protocol):
        invoices: InvoiceRepository

    class MongoBillingUnitOfWork(MongoUnitOfWork):
        def __init__(self, tx: Transaction) -> None:
            super().__init__(tx)
            self.invoices = MongoInvoiceRepository(tx)

    transactor = MongoTransactor(store, MongoBillingUnitOfWork)
    invoice = await transactor.run(lambda uow: issue_invoice(uow, command, clock))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from kontor_contracts.envelope import Event

from kontor_servicekit.store import Store, Transaction

__all__ = ["MongoTransactor", "MongoUnitOfWork", "Transactor", "UnitOfWork"]

T = TypeVar("T")
U = TypeVar("U")
U_co = TypeVar("U_co", covariant=True)


class UnitOfWork(Protocol):
    """What every service's unit of work offers besides its repositories."""

    def emit(self, event: Event, *, aggregate_id: str) -> None:
        """Publish ``event`` (keyed by ``aggregate_id``) if and when this unit commits."""
        ...

    async def next_sequence(self, key: str) -> int:
        """The next number of the gap-free sequence ``key``, taken in this unit."""
        ...

    def subject_id(self, email: str) -> str:
        """The person's pseudonymous subject id (ADR 0034, 0056)."""
        ...


class Transactor(Protocol[U_co]):
    """Runs a block of work in one unit of work of type ``U``: all of it commits, or none."""

    async def run(
        self,
        work: Callable[[U_co], Awaitable[T]],
        *,
        correlation_id: str | None = None,
    ) -> T:
        """Run ``work``; it may run more than once (a conflict re-runs the whole block)."""
        ...


class MongoUnitOfWork:
    """Base of a service's Mongo unit of work; subclasses add their repositories."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def emit(self, event: Event, *, aggregate_id: str) -> None:
        self.tx.emit(event, aggregate_id=aggregate_id)

    def subject_id(self, email: str) -> str:
        return self.tx.subject_id(email)

    async def next_sequence(self, key: str) -> int:
        return await self.tx.next_sequence(key)


class MongoTransactor(Generic[U]):
    """A :class:`Transactor` over the service's :class:`Store`."""

    def __init__(self, store: Store, unit_of_work: Callable[[Transaction], U]) -> None:
        self.store = store
        self.unit_of_work = unit_of_work

    async def run(
        self,
        work: Callable[[U], Awaitable[T]],
        *,
        correlation_id: str | None = None,
    ) -> T:
        return await self.store.transaction(
            lambda tx: work(self.unit_of_work(tx)), correlation_id=correlation_id
        )
