"""Sealed at the outbox, on the real broker and database (issue 13, ADR 0036).

Anna orders; no topic and no outbox row carries her name, e-mail or street in clear,
yet billing's invoice (read model unsealed with her key) still names her. Her erasure
destroys her key: a replay of orders' and billing's topics from offset 0 through a
fresh key store (nothing cached) opens to the placeholders, where the same replay
before the erasure opened to her name. The privacy requests themselves are sealed too.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.privacy.keys import MasterKey, MongoKeyStore, Pseudonyms
from kontor_servicekit.privacy.sealing import EnvelopeSealer
from kontor_servicekit.testing import (
    TEST_PRIVACY_KEK,
    Keys,
    consume_all,
    eventually,
    topic_of,
    wait_for_assignment,
)
from pypdf import PdfReader

pytestmark = pytest.mark.integration

EXPECTED = ["billing", "catalog", "orders"]
ANNA = ("Anna Muster", "anna@example.de", "Hauptstr. 1")


def clear_values_in(data: bytes | str) -> list[str]:
    text = data if isinstance(data, str) else data.decode()
    return [value for value in ANNA if value.lower() in text.lower()]


async def replay(infra: Any, namespace: str, event_type: str, count: int, keys: Any) -> list[Any]:
    """``count`` records of the event's topic from offset 0, opened through ``keys``."""
    master = MasterKey.from_text(TEST_PRIVACY_KEK)
    sealer = EnvelopeSealer(keys, Pseudonyms.of(master))
    records = await consume_all(infra.kafka_bootstrap, topic_of(namespace, event_type), count)
    opened = []
    for record in records:
        envelope = Envelope.from_bytes(record.value)
        if envelope.type == event_type:
            opened.append((await sealer.unseal(envelope)).payload_model())
    return opened


async def test_topics_carry_no_personal_value_billing_still_names_the_buyer_and_erasure_shreds(
    start_service: Any, infra: Any, namespace: str, auth_keys: Keys
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders", privacy_expected_services=EXPECTED) as orders,
        start_service("billing") as billing,
    ):
        for service in (catalog, orders, billing):
            await wait_for_assignment(service)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def placed() -> Any:
            response = await orders.client.post("/orders", json=ORDER)
            return response.json() if response.status_code == 201 else None

        order = await eventually(placed, timeout=30, interval=0.2)

        async def invoices() -> Any:
            response = await billing.client.get("/invoices", params={"order_id": order["id"]})
            return response.json()["items"]

        [invoice] = await eventually(invoices, timeout=30)
        # billing unsealed the order: the invoice and its PDF name the buyer
        shown = (await billing.client.get(f"/invoices/{invoice['number']}")).json()
        assert "Anna Muster" in str(shown)
        pdf = await billing.client.get(f"/invoices/{invoice['number']}/pdf")
        assert "Muster" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

        # ... but no record on orders' and billing's topics, and no outbox row, shows her
        order_records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), 2
        )
        invoice_records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceIssued"), 1
        )
        assert order_records and invoice_records
        for record in order_records + invoice_records:
            assert clear_values_in(record.value) == [], record.value
        placed_payload = Envelope.from_bytes(order_records[0].value).payload
        assert placed_payload["customer"]["name"] == "—" and "sealed" in placed_payload
        for service in (orders, billing):
            for row in await service.kit.store.db["outbox"].find().to_list(None):
                assert clear_values_in(row["value"]) == [], (service.name, row["type"])

        # a replay with the key opens her order; the replay is a real test of the key
        keys = MongoKeyStore(
            orders.kit.store.client[orders.settings.privacy_keys_database],
            MasterKey.from_text(TEST_PRIVACY_KEK),
        )
        [before] = await replay(infra, namespace, "OrderPlaced", 2, keys)
        assert before.customer.name == "Anna Muster"

        erasure = await orders.client.post(
            "/privacy/requests", json={"kind": "erasure", "email": "anna@example.de"}
        )
        assert erasure.status_code == 202, erasure.text

        async def complete() -> Any:
            body = (await orders.client.get(f"/privacy/requests/{erasure.json()['id']}")).json()
            return body if body["status"] == "complete" else None

        await eventually(complete, timeout=30)
        [after] = await replay(infra, namespace, "OrderPlaced", 2, keys)
        assert after.customer.name == "—" and after.shipping_address.street == "—"
        assert after.customer.email.endswith("@pseudonym.invalid")
        assert after.order_id == order["id"] and str(after.gross_total) == order["gross_total"]
        [issued] = await replay(infra, namespace, "InvoiceIssued", 1, keys)
        assert issued.customer.name == "—" and issued.number == invoice["number"]

        # billing keeps the invoice as issued: its buyer for the billing:tax scope only
        reader = {"Authorization": f"Bearer {auth_keys.token('billing:admin')}"}
        number = invoice["number"]
        masked = (await billing.client.get(f"/invoices/{number}", headers=reader)).json()
        assert masked["restricted"] is True and clear_values_in(str(masked)) == []
        assert masked["buyer"]["postcode"] == "10115" and masked["gross_total"] == "47.58"
        listed = await billing.client.get(
            "/invoices", params={"order_id": order["id"]}, headers=reader
        )
        assert clear_values_in(listed.text) == []
        for document in ("pdf", "xml"):
            refused = await billing.client.get(f"/invoices/{number}/{document}", headers=reader)
            assert refused.status_code == 403 and "billing:tax" in refused.text
        tax = {"Authorization": f"Bearer {auth_keys.token('billing:read', 'billing:tax')}"}
        kept = (await billing.client.get(f"/invoices/{number}", headers=tax)).json()
        assert kept["restricted"] is False and kept["buyer"]["name"] == "Anna Muster"
        assert (await billing.client.get(f"/invoices/{number}/pdf", headers=tax)).content == (
            pdf.content
        )

        # the request itself went sealed (with its own key: the services had to read it)
        for record in await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "ErasureRequested"), 4
        ):
            assert "anna@example.de" not in record.value.decode().lower()
