"""``python -m kontor_billing verify-audit``: the audit check of ``GET /audit/verify``
as a command (for cron jobs and auditors without an API token).

Prints one line per chain and exits 0 when every chain holds, 1 at the first broken
link (named), 2 when the database cannot be reached.
"""

from __future__ import annotations

import asyncio
import sys

from kontor_servicekit.store import create_client
from pymongo.errors import PyMongoError

from kontor_billing.settings import BillingSettings
from kontor_billing.store.queries import InvoiceQueries


async def verify(settings: BillingSettings) -> int:
    client = create_client(settings.mongo_url, app_name="kontor-billing-audit")
    try:
        reports = await InvoiceQueries(client[settings.mongo_database]).verify_audit()
    except PyMongoError as exc:
        print(f"database unreachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    broken = False
    for report in reports:
        if report.broken is None:
            print(f"{report.chain}: {report.entries} entries, ok")
        else:
            b = report.broken
            print(f"{report.chain}: BROKEN at entry {b.seq} ({b.number or '-'}): {b.reason}")
            broken = True
    if not reports:
        print("no documents issued yet")
    return 1 if broken else 0


def main() -> int:
    return asyncio.run(verify(BillingSettings()))
