"""Billing's migrations: the database's own checks on issued documents (ADR 0021).

A ``$jsonSchema`` validator on ``invoices`` and ``audit`` refuses any write (insert or
update) that leaves a document without its mandatory fields, with a number that is
not a number of a range, an unknown kind, amounts that are not decimals, or hashes
that are not SHA-256. It cannot refuse an update that keeps the shape: the audit
chain finds those.
"""

from __future__ import annotations

from typing import Any

from kontor_servicekit.migrations import Migration
from kontor_servicekit.store import Store

from kontor_billing.store.datev import pseudonymise_party_accounts
from kontor_billing.store.incoming import INCOMING
from kontor_billing.store.invoices import INVOICES
from kontor_billing.store.ledger import AUDIT
from kontor_billing.store.quotes import add_email_search_keys
from kontor_billing.store.receivables_migration import open_missing_receivables

AMOUNT = {"bsonType": "decimal"}
TEXT = {"bsonType": "string", "minLength": 1}
SHA256 = {"bsonType": "string", "pattern": "^[0-9a-f]{64}$"}

INVOICE_SCHEMA: dict[str, Any] = {
    "bsonType": "object",
    "required": [
        "number",
        "kind",
        "order_id",
        "buyer",
        "seller",
        "currency",
        "issued_at",
        "issue_date",
        "lines",
        "vat_breakdown",
        "net_total",
        "vat_total",
        "gross_total",
    ],
    "properties": {
        "number": {"bsonType": "string", "pattern": "^.+[0-9]{4}-[0-9]{6}$"},
        "kind": {"enum": ["invoice", "cancellation", "correction"]},
        "order_id": TEXT,
        "buyer": {"bsonType": "object", "required": ["name", "street", "postcode", "city"]},
        "seller": {"bsonType": "object", "required": ["name", "street", "postcode", "city"]},
        "currency": {"bsonType": "string", "pattern": "^[A-Z]{3}$"},
        "issued_at": {"bsonType": "date"},
        "lines": {
            "bsonType": "array",
            "minItems": 1,
            "items": {
                "bsonType": "object",
                "required": ["description", "quantity", "net", "vat", "vat_rate"],
                "properties": {"net": AMOUNT, "vat": AMOUNT, "vat_rate": AMOUNT},
            },
        },
        "vat_breakdown": {"bsonType": "array", "minItems": 1},
        "net_total": AMOUNT,
        "vat_total": AMOUNT,
        "gross_total": AMOUNT,
    },
}

AUDIT_SCHEMA: dict[str, Any] = {
    "bsonType": "object",
    "required": [
        "chain",
        "seq",
        "number",
        "action",
        "document_sha256",
        "previous_sha256",
        "entry_sha256",
        "at",
    ],
    "properties": {
        "chain": TEXT,
        "seq": {"bsonType": ["int", "long"], "minimum": 1},
        "number": TEXT,
        "action": {"enum": ["issued", "cancelled", "corrected"]},
        "document_sha256": SHA256,
        "previous_sha256": SHA256,
        "entry_sha256": SHA256,
        "at": {"bsonType": "date"},
    },
}


async def _validate(store: Store, collection: str, schema: dict[str, Any]) -> None:
    names = await store.db.list_collection_names()
    if collection not in names:
        await store.db.create_collection(collection)
    await store.db.command(
        {
            "collMod": collection,
            "validator": {"$jsonSchema": schema},
            "validationLevel": "strict",
            "validationAction": "error",
        }
    )


async def validate_documents(store: Store) -> None:
    await _validate(store, INVOICES, INVOICE_SCHEMA)
    await _validate(store, AUDIT, AUDIT_SCHEMA)


async def one_valid_invoice_per_order(store: Store) -> None:
    """The unique index of one invoice per order gives way to one per order and
    generation (``indexes.py`` creates it), so a cancelled invoice can be reissued."""
    existing = await store.db[INVOICES].index_information()
    if "one_invoice_per_order" in existing:
        await store.db[INVOICES].drop_index("one_invoice_per_order")


MIGRATIONS = [
    Migration(
        "0001-document-validators",
        validate_documents,
        "the database refuses documents and audit entries without their mandatory fields",
    ),
    Migration(
        "0300-payments",
        open_missing_receivables,
        "a receivable for every invoice issued before the receivables ledger",
    ),
    Migration(
        "0025-one-valid-invoice-per-order",
        one_valid_invoice_per_order,
        "one valid invoice per order: the unique index becomes (order_id, generation)",
    ),
]


#: ADR 0027: an audit entry may be a tombstone (``purged``) of a document deleted after
#: its retention period; everything else of the entry's shape stays as 0001 demands.
AUDIT_SCHEMA_WITH_TOMBSTONES: dict[str, Any] = {
    **AUDIT_SCHEMA,
    "properties": {
        **AUDIT_SCHEMA["properties"],
        "action": {"enum": ["issued", "cancelled", "corrected", "purged"]},
    },
}


async def allow_tombstones(store: Store) -> None:
    await _validate(store, AUDIT, AUDIT_SCHEMA_WITH_TOMBSTONES)


MIGRATIONS.append(
    Migration(
        "0200-oss",
        allow_tombstones,
        "audit entries may be tombstones of documents purged after their retention (ADR 0027)",
    )
)


# --- incoming invoices (issue 12) ----------------------------------------------------

INCOMING_SCHEMA: dict[str, Any] = {
    "bsonType": "object",
    "required": ["sha256", "file_id", "format", "status", "validation", "received_at", "supplier"],
    "properties": {
        "sha256": SHA256,
        "file_id": TEXT,
        "format": {"enum": ["cii", "ubl", "facturx-pdf", "pdf"]},
        "status": {"enum": ["incomplete", "received", "refused", "approved", "rejected", "paid"]},
        "validation": {"bsonType": "object", "required": ["outcome", "rule_sets"]},
        "received_at": {"bsonType": "date"},
        "supplier": {"bsonType": "object"},
        "amount_due": {"bsonType": ["decimal", "null"]},
        "gross_total": {"bsonType": ["decimal", "null"]},
        "approved_account": {"bsonType": ["string", "null"], "pattern": "^[0-9]{4,8}$"},
    },
}


async def validate_incoming(store: Store) -> None:
    await _validate(store, INCOMING, INCOMING_SCHEMA)


MIGRATIONS.append(
    Migration(
        "0500-incoming",
        validate_incoming,
        "the database refuses incoming-invoice records without file, hash, status or report",
    )
)


# --- privacy (issue 13) -----------------------------------------------------------------

MIGRATIONS.append(
    Migration(
        "0700-datev-party-pseudonyms",
        pseudonymise_party_accounts,
        "DATEV personal accounts keyed by a keyed pseudonym, not the e-mail, VAT id or name "
        "(ADR 0115)",
    )
)
MIGRATIONS.append(
    Migration(
        "0701-quote-email-search-key",
        add_email_search_keys,
        "quotes found by e-mail case-insensitively: customer_email (lower case) on older quotes",
    )
)
