"""``python -m kontor_billing retention --list [--as-of DATE]``: what has become deletable
by its retention period (§147 AO, ADR 0027), as ``GET /retention/deletable`` lists it.

Prints one tab-separated line per document and audit chain (number, kind, year, end
of retention) and exits 0; 2 when the database cannot be reached.

``retention --purge`` (explicit, no ``--as-of``: always today) deletes the documents the
list shows today, each with a tombstone on its audit chain, and their rendered files;
it refuses the whole run if any of them is younger (ADR 0027). Audit chains are only
listed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from gridfs import AsyncGridFSBucket, NoFile
from kontor_servicekit.clock import BERLIN, Clock, utc_now
from kontor_servicekit.domain_errors import DomainError
from kontor_servicekit.store import Store, create_client
from kontor_servicekit.uow import MongoTransactor
from pymongo.errors import PyMongoError

from kontor_billing.application.retention import purge_documents
from kontor_billing.domain.retention import Deletable
from kontor_billing.settings import BillingSettings
from kontor_billing.store.documents import BUCKET
from kontor_billing.store.retention import DeletableList, RetentionQueries
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork

PAGE = 500


def _line(d: Deletable) -> str:
    return f"{d.number}\t{d.kind}\t{d.year}\t{d.retention_ends.isoformat()}"


async def _all_deletable(queries: RetentionQueries, as_of: date) -> DeletableList:
    """Every page of the list (the documents of all pages, the chains once)."""
    page, documents = 1, []
    while True:
        found = await queries.deletable(as_of, page=page, page_size=PAGE)
        documents += found.documents
        if not found.documents or len(documents) >= found.total:
            return replace(found, documents=documents, total=len(documents))
        page += 1


async def list_deletable(settings: BillingSettings, as_of: date) -> int:
    client = create_client(settings.mongo_url, app_name="kontor-billing-retention")
    queries = RetentionQueries(client[settings.mongo_database], settings.retention_periods)
    try:
        found = await _all_deletable(queries, as_of)
    except PyMongoError as exc:
        print(f"database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    print(f"deletable as of {as_of.isoformat()}: number\tkind\tyear\tretention_ends")
    for d in [*found.documents, *found.audit_chains]:
        print(_line(d))
    print(f"{len(found.documents)} document(s), {len(found.audit_chains)} audit chain(s)")
    return 0


async def purge(settings: BillingSettings, clock: Clock = utc_now) -> int:
    """Delete every document the list shows for today (never another day), each with its
    tombstone on the audit chain, then its rendered files. Audit chains are listed, not
    purged (ADR 0027)."""
    today = clock().astimezone(BERLIN).date()
    client = create_client(settings.mongo_url, app_name="kontor-billing-retention")
    store = Store(client, settings.mongo_database, producer="billing")
    queries = RetentionQueries(store.db, settings.retention_periods)
    try:
        found = await _all_deletable(queries, today)
        purged = await purge_documents(
            MongoTransactor(store, MongoBillingUnitOfWork),
            [d.number for d in found.documents],
            periods=settings.retention_periods,
            clock=clock,
            today=today,
        )
        files = AsyncGridFSBucket(store.db, bucket_name=BUCKET)
        for p in purged:
            for fmt in ("pdf", "xml"):
                with contextlib.suppress(NoFile):  # never rendered
                    await files.delete(f"{p.number}.{fmt}")
            print(f"purged\t{p.number}\t{p.kind}\t{p.year}\tsha256 {p.document_sha256}")
    except DomainError as exc:  # one of them is younger (or gone): nothing was deleted
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except PyMongoError as exc:
        print(f"database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    print(f"{len(purged)} document(s) purged as of {today.isoformat()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor_billing retention")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true", help="list what may be deleted")
    mode.add_argument(
        "--purge", action="store_true", help="delete what the list shows today (explicit)"
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    if args.purge:
        if args.as_of is not None:
            parser.error("--purge always asks about today: --as-of is only for --list")
        return asyncio.run(purge(BillingSettings()))
    as_of = args.as_of or utc_now().astimezone(BERLIN).date()
    return asyncio.run(list_deletable(BillingSettings(), as_of))
