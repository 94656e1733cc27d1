"""Data migrations: each runs once per database, in order, before the service starts work.

A service lists them in ``ServiceDefinition.migrations``; the lifespan runs them after
the indexes are created and before the producer, the outbox relay and the consumers
start, so no handler or route sees data of the old shape::

    async def add_search_terms(store: Store) -> None:
        async for doc in store.db["products"].find({"search_terms": {"$exists": False}}):
            ...

    ServiceDefinition(..., migrations=[Migration("0001-search-terms", add_search_terms)])

Each migration is recorded in the ``migrations`` collection under its name (the
``_id``), so it runs once; names are never reused and the list only grows at its end.
Several replicas starting at once claim a migration by inserting its record (a
unique ``_id``): one runs it, the others wait until it is ``done``. The runner renews
a lease on its claim while the migration runs; a replica that died halfway leaves a
lease that expires, and the next one runs the migration again, so a migration must
be safe to run again over its own partial work (touch only what lacks the new shape).

A migration that raises stops the start with :class:`MigrationFailed` (naming the
migration and the cause); its record says ``failed`` with the error, the later
migrations do not run, and the next start tries it again.

Indexes are not migrations: ``ServiceDefinition.indexes`` creates indexes only
(``create_index`` is idempotent and runs at every start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.store import JOURNALED, Document, Store

log = logging.getLogger(__name__)

MIGRATIONS = "migrations"

MigrationStep = Callable[[Store], Awaitable[Any]]


@dataclass(frozen=True)
class Migration:
    """One named, once-only change of the service's data."""

    name: str
    run: MigrationStep
    description: str = ""


class MigrationFailed(RuntimeError):
    """A migration raised: the service must not start on half-migrated data."""

    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(
            f"migration {name!r} failed: {type(cause).__name__}: {cause}. The service does not "
            "start; fix the cause and start again (the migration runs again)."
        )
        self.name = name


class MigrationRunner:
    """Runs a service's migrations once each (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        lease_s: float = 30.0,
        poll_s: float = 0.5,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.collection = store.db[MIGRATIONS].with_options(write_concern=JOURNALED)
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.clock = clock
        self.owner = uuid.uuid4().hex

    async def run(self, migrations: Sequence[Migration]) -> list[str]:
        """Apply what is not done yet, in order; returns the names this call ran."""
        names = [m.name for m in migrations]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"migration names must be unique: {duplicates}")
        ran: list[str] = []
        for migration in migrations:
            if await self._claim_or_wait(migration.name):
                await self._apply(migration)
                ran.append(migration.name)
        return ran

    async def _claim_or_wait(self, name: str) -> bool:
        """True when this runner holds the claim; False when another runner finished it."""
        while True:
            record = await self.collection.find_one({"_id": name})
            if record is None:
                if await self._insert_claim(name):
                    return True
                continue
            if record["status"] == "done":
                return False
            if await self._take_over(name, record["status"]):
                return True
            log.info("migration %s is run by another replica; waiting", name)
            await asyncio.sleep(self.poll_s)

    async def _insert_claim(self, name: str) -> bool:
        now = self.clock()
        try:
            await self.collection.insert_one(
                {
                    "_id": name,
                    "status": "running",
                    "owner": self.owner,
                    "started_at": now,
                    "until": now + timedelta(seconds=self.lease_s),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def _take_over(self, name: str, status: str) -> bool:
        """Claim a migration that failed before or whose runner's lease expired."""
        now = self.clock()
        condition: Document = {"_id": name, "status": status}
        if status == "running":
            condition["until"] = {"$lt": now}
        taken = await self.collection.update_one(
            condition,
            {
                "$set": {
                    "status": "running",
                    "owner": self.owner,
                    "started_at": now,
                    "until": now + timedelta(seconds=self.lease_s),
                }
            },
        )
        return bool(taken.modified_count)

    async def _apply(self, migration: Migration) -> None:
        log.info("running migration %s", migration.name)
        started = time.monotonic()
        renewing = asyncio.create_task(self._renew(migration.name))
        try:
            await migration.run(self.store)
        except Exception as exc:
            await self._finish(migration.name, "failed", error=f"{type(exc).__name__}: {exc}")
            log.exception("migration %s failed", migration.name)
            raise MigrationFailed(migration.name, exc) from exc
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        seconds = time.monotonic() - started
        await self._finish(migration.name, "done", duration_s=round(seconds, 3))
        log.info("migration %s done in %.3f s", migration.name, seconds)

    async def _renew(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            until = self.clock() + timedelta(seconds=self.lease_s)
            renewed = await self.collection.update_one(
                {"_id": name, "owner": self.owner}, {"$set": {"until": until}}
            )
            if not renewed.matched_count:
                log.warning("migration %s: the claim was taken over by another replica", name)
                return

    async def _finish(self, name: str, status: str, **fields: Any) -> None:
        await self.collection.update_one(
            {"_id": name, "owner": self.owner},
            {"$set": {"status": status, "finished_at": self.clock(), **fields}},
        )


async def run_migrations(store: Store, migrations: Sequence[Migration]) -> list[str]:
    """Apply ``migrations`` that are not done yet, in order; returns the names run here."""
    return await MigrationRunner(store).run(migrations)
