"""``python -m kontor_billing retention --list [--as-of DATE]``: what has become deletable
by its retention period (§147 AO, ADR 0027), as ``GET /retention/deletable`` lists it.

Prints one tab-separated line per document and audit chain (number, kind, year, end
of retention) and exits 0; 2 when the database cannot be reached. Nothing is deleted:
there is no purge yet (ADR 0027 says what one must keep).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date

from kontor_servicekit.clock import BERLIN, utc_now
from kontor_servicekit.store import create_client
from pymongo.errors import PyMongoError

from kontor_billing.domain.retention import Deletable
from kontor_billing.settings import BillingSettings
from kontor_billing.store.retention import RetentionQueries

PAGE = 500


def _line(d: Deletable) -> str:
    return f"{d.number}\t{d.kind}\t{d.year}\t{d.retention_ends.isoformat()}"


async def list_deletable(settings: BillingSettings, as_of: date) -> int:
    client = create_client(settings.mongo_url, app_name="kontor-billing-retention")
    queries = RetentionQueries(client[settings.mongo_database], settings.retention_periods)
    try:
        page, shown, chains = 1, 0, None
        print(f"deletable as of {as_of.isoformat()}: number\tkind\tyear\tretention_ends")
        while True:
            found = await queries.deletable(as_of, page=page, page_size=PAGE)
            chains = found.audit_chains
            for d in found.documents:
                print(_line(d))
            shown += len(found.documents)
            if not found.documents or shown >= found.total:
                break
            page += 1
        for c in chains or []:
            print(_line(c))
        print(f"{shown} document(s), {len(chains or [])} audit chain(s)")
    except PyMongoError as exc:
        print(f"database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor_billing retention")
    parser.add_argument("--list", action="store_true", required=True, help="list, delete nothing")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    as_of = args.as_of or utc_now().astimezone(BERLIN).date()
    return asyncio.run(list_deletable(BillingSettings(), as_of))
