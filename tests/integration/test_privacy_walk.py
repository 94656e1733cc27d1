"""Issue 13's proof: one customer walks through all six services, her data is exported
and erased, and then nothing shows her name, e-mail or street any more.

Zoe Zuckerhut orders (catalog, orders), billing invoices it and books two payments
(``POST /payments`` and a bank statement from her account); the order is shipped,
delivered, withdrawn from and received back (billing's correction and the refund's
payout item); she writes to support by mail (real SMTP into support's
receiver), subscribes to the newsletter through the double opt-in link (the mail in the
kit's ``mail_sink``) and browses the storefront logged in (``POST /collect`` with her
customer id as GA4 ``user_id``). Her export holds every part; her erasure is confirmed
by all six services. Afterwards no API a staff member reads (every scope but
``billing:tax``; the same routes showed her before), no record of any topic of the
namespace replayed from offset 0 (keys, values, headers, raw bytes), no collection of any
service but billing's tax records, and no rebuilt read model (marketing's profiles,
analytics' order facts, through the kit's rebuild; ADR 0128) holds her name, e-mail (any
case) or street; a ``billing:tax`` caller still gets her invoice and its PDF and XML.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from email.message import EmailMessage
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from kontor_analytics.consumers.figures import order_facts
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_marketing.consumers.profiles import profiles
from kontor_servicekit.auth import all_scopes
from kontor_servicekit.privacy.keys import MasterKey, Pseudonyms
from kontor_servicekit.rebuild import rebuild_projection
from kontor_servicekit.testing import (
    TEST_PRIVACY_KEK,
    Keys,
    eventually,
    wait_for_assignment,
)

from tests.integration.test_order_life import (
    customer_client,
    products_known,
    ship_and_deliver,
    status_becomes,
)

pytestmark = pytest.mark.integration

NAME, EMAIL, STREET = "Zoe Zuckerhut", "zoe.walk@example.de", "Quittenweg 17"
CUSTOMER_ID = "cust-zoe-walk"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
SIX = ["analytics", "billing", "catalog", "marketing", "orders", "support"]
TAX_RECORDS_OF_HER = {
    ("billing", "invoices"),
    ("billing", "invoice_documents.chunks"),  # the PDF and XML
    ("billing", "receivables"),
    ("billing", "payments"),
    ("billing", "bank_transactions"),
    ("billing", "bank_statement_files.chunks"),  # the statement file as the bank sent it
    ("billing", "payout_items"),  # the refund to her
}
MARKETING = {
    "mail_sweep_interval_s": 0.1,
    "public_base_url": "https://shop.example",
}


def traces_of_her(data: bytes | str) -> list[str]:
    """Which of her name, e-mail and street ``data`` holds in clear (any case)."""
    text = (data if isinstance(data, str) else data.decode("utf-8", "replace")).lower()
    found = [value for value in (NAME, EMAIL, STREET) if value.lower() in text]
    # the parts on their own too: a surname or a street name without the number
    found += [part for part in ("Zuckerhut", "Quittenweg", "zoe.walk") if part.lower() in text]
    return found


def her_order() -> dict[str, Any]:
    address = {**ORDER["shipping_address"], "name": NAME, "street": STREET}  # type: ignore[dict-item]
    return {
        **ORDER,
        "customer": {"email": EMAIL, "name": NAME, "customer_id": CUSTOMER_ID},
        "shipping_address": address,
        "billing_address": address,
    }


def her_mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{NAME} <Zoe.Walk@Example.de>"
    mail["To"] = "support@kontor.local"
    mail["Subject"] = "Rücksendung"
    mail["Message-ID"] = f"<{uuid.uuid4()}@mail.example.de>"
    mail.set_content(f"Guten Tag,\nbitte holen Sie das Paket ab: {STREET}.\n{NAME}")
    return mail


def statement_paying(invoice: dict[str, Any], amount: str) -> bytes:
    """A CAMT.053 with one credit from her account naming the invoice."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>walk-{uuid.uuid4().hex[:12]}</MsgId>
      <CreDtTm>2026-12-02T05:02:44+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>walk-1</Id><ElctrncSeqNb>1</ElctrncSeqNb>
      <CreDtTm>2026-12-02T05:02:44+01:00</CreDtTm>
      <Acct><Id><IBAN>DE02300500000001234567</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-12-02</Dt></BookgDt>
        <ValDt><Dt>2026-12-02</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
        </Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <Amt Ccy="EUR">{amount}</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties>
            <Dbtr><Pty><Nm>{NAME}</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>DE91100000000123456789</IBAN></Id></DbtrAcct>
          </RltdPties>
          <RmtInf><Ustrd>{invoice["number"]} {NAME}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


async def every_record(infra: Any, namespace: str) -> dict[str, list[Any]]:
    """Every record of every topic of ``namespace``, from offset 0 to the end (no group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(f"{namespace}.")]
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: dict[str, list[Any]] = {topic: [] for topic in topics}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            if not waiting:
                return records
            for batch in (await consumer.getmany(*waiting, timeout_ms=500)).values():
                for record in batch:
                    records[record.topic].append(record)
        raise AssertionError(f"topics not read to their end within 30 s: {waiting}")
    finally:
        await consumer.stop()


async def completed(orders: Any, request_id: str) -> Any:
    response = await orders.client.get(f"/privacy/requests/{request_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    return body if body["status"] == "complete" else None


async def test_one_customer_through_six_services_exported_erased_and_gone(
    start_service: Any, infra: Any, namespace: str, auth_keys: Keys, mail_sink: Any
) -> None:
    mail = mail_sink.smtp_settings()
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
        start_service("support", **mail, mail_send_interval_s=0.05) as support,
        start_service("marketing", **mail, **MARKETING) as marketing,
        start_service("analytics") as analytics,
        customer_client(orders) as public,
    ):
        for service in (catalog, orders, billing, support, marketing, analytics):
            await wait_for_assignment(service)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        await products_known(orders, str(PRODUCT["sku"]))

        # 1. her walk: order, shipment, delivery, return
        placed = await orders.client.post("/orders", json=her_order())
        assert placed.status_code == 201, placed.text
        order = placed.json()
        await status_becomes(orders, order["id"], "confirmed")

        async def invoiced() -> Any:
            found = await billing.client.get("/invoices", params={"order_id": order["id"]})
            return found.json()["items"]

        [invoice] = await eventually(invoiced, timeout=30)
        paid = await billing.client.post(
            "/payments",
            json={
                "amount": "20.00",
                "method": "bank_transfer",
                "date": "2026-12-01",
                "invoice_number": invoice["number"],
                "reference": f"{invoice['number']} {NAME}",
            },
        )
        assert paid.status_code == 201, paid.text
        rest = str(Decimal(invoice["gross_total"]) - Decimal("20.00"))
        files = {"file": ("auszug.xml", statement_paying(invoice, rest), "application/xml")}
        booked = await billing.client.post("/bank-statements", files=files)
        assert booked.status_code == 201, booked.text
        assert booked.json()["matched"] == 1, booked.text
        await status_becomes(orders, order["id"], "paid")

        await ship_and_deliver(orders, order)
        declared = await public.post(
            "/withdrawals", json={"order_number": order["number"], "email": EMAIL}
        )
        assert declared.status_code == 201, declared.text
        confirmed = await public.post(declared.json()["confirm_with"])
        assert confirmed.status_code == 201, confirmed.text
        return_id = confirmed.json()["return_id"]
        back = {"line_no": 1, "quantity": 2, "condition": "as_new", "disposition": "restock"}
        received = await orders.client.post(f"/returns/{return_id}/receipt", json={"lines": [back]})
        assert received.status_code == 200, received.text

        async def corrected() -> Any:
            # the refund's document: a correction of her invoice (Rechnungskorrektur)
            found = await billing.client.get("/credit-notes", params={"order_id": order["id"]})
            return found.json()

        [correction] = await eventually(corrected, timeout=30)

        async def refund_waiting() -> bool:
            return bool(await billing.kit.store.db["payout_items"].count_documents({}))

        await eventually(refund_waiting, timeout=30)  # the refund to her, to be paid out

        # support: a ticket opened by her mail into support's SMTP receiver
        receiver = support.app.state.smtp_receiver
        await aiosmtplib.send(her_mail(), hostname="127.0.0.1", port=receiver.port)

        async def her_tickets() -> Any:
            found = await support.client.get("/tickets", params={"customer": EMAIL})
            return found.json()["items"]

        [ticket] = await eventually(her_tickets, timeout=30)

        # marketing: the newsletter, confirmed through the double opt-in link
        asked = await marketing.client.post(
            "/newsletter/subscriptions", json={"email": EMAIL, "topics": ["news"], "locale": "de"}
        )
        assert asked.status_code == 202, asked.text
        [confirmation] = await mail_sink.arrived(1, where=lambda m: m["To"] == EMAIL)
        text = confirmation.get_body(("plain",)).get_content()
        [link] = [w for w in text.split() if w.startswith("https://shop.example/newsletter/")]
        opted_in = await marketing.client.get(urlsplit(link).path)
        assert opted_in.status_code == 200, opted_in.text

        # analytics: two storefront sessions, logged in as her customer id
        for client_id in ("c.zoe.1", "c.zoe.2"):
            sent = await analytics.client.post(
                "/collect?measurement_id=G-KONTOR",
                json={
                    "client_id": client_id,
                    "user_id": CUSTOMER_ID,
                    "events": [{"name": "page_view"}, {"name": "view_item"}],
                },
                headers={"user-agent": BROWSER},
            )
            assert sent.status_code == 204, sent.text

        async def facts_in() -> bool:
            db = analytics.kit.store.db
            return bool(await db["fact_orders"].count_documents({"customer_id": CUSTOMER_ID}))

        await eventually(facts_in, timeout=30)

        # 2. the export: every service answers, every part is there
        asked = await orders.client.post(
            "/privacy/requests", json={"kind": "export", "email": EMAIL.upper()}
        )
        assert asked.status_code == 202, asked.text
        export = await eventually(lambda: completed(orders, asked.json()["id"]), timeout=60)
        assert sorted(export["services"]) == SIX and export["missing"] == []
        parts = export["document"]["services"]
        mine = parts["orders"]
        assert [o["number"] for o in mine["orders"]] == [order["number"]]
        assert mine["orders"][0]["customer"]["name"] == NAME
        assert mine["orders"][0]["shipping_address"]["street"] == STREET
        assert [r["id"] for r in mine["returns"]] == [return_id]
        books = parts["billing"]
        numbers = sorted(d["number"] for d in books["documents"])
        assert numbers == sorted([invoice["number"], correction["number"]])
        assert [r["_id"] for r in books["receivables"]] == [invoice["number"]]
        assert sorted(p["amount"] for p in books["payments"]) == sorted(["20.00", rest])
        assert [t["counterparty_name"] for t in books["bank_transactions"]] == [NAME]
        assert [o["invoice_number"] for o in books["orders"]] == [invoice["number"]]
        assert len(books["payout_items"]) == 1
        assert parts["catalog"]["personal_data"] == {}
        [exported_ticket] = parts["support"]["tickets"]
        assert exported_ticket["id"] == ticket["id"]
        assert STREET in exported_ticket["messages"][0]["text"]
        assert parts["support"]["customer"]["name"] == NAME
        consent = parts["marketing"]["consent"]
        assert consent["email"] == EMAIL and consent["status"] == "confirmed"
        assert [e["kind"] for e in consent["evidence"]] == ["requested", "confirmed"]
        sent = [(m["kind"], m["subject"]) for m in parts["marketing"]["mails"]]
        assert ("confirmation", confirmation["Subject"]) in sent
        assert parts["marketing"]["engagements"] == []  # no campaign was sent to her
        profile = parts["marketing"]["profile"]
        assert (profile["orders"], profile["tickets"]) == (1, 1)
        browsing = parts["analytics"]["personal_data"]
        assert sorted(browsing["client_ids"]) == ["c.zoe.1", "c.zoe.2"]
        assert len(browsing["sessions"]) == 2 and len(browsing["events"]) == 4
        assert browsing["orders_counted"] == 1
        assert CUSTOMER_ID in parts["analytics"]["user_ids"]

        # the routes that could show her, called by
        # the strongest staff caller short of the tax scope
        everything_but_tax = [scope for scope in all_scopes() if scope != "billing:tax"]
        staff = {"Authorization": f"Bearer {auth_keys.token(*everything_but_tax)}"}
        variants = [EMAIL, EMAIL.upper(), "Zoe.Walk@Example.de"]
        routes: list[tuple[Any, str, dict[str, str]]] = [
            (orders, "/orders", {}),
            (orders, f"/orders/{order['id']}", {}),
            (orders, "/orders/to-ship", {}),
            (orders, "/returns", {}),
            (orders, f"/returns/{return_id}", {}),
            (orders, "/withdrawals", {}),
            (orders, "/complaints", {}),
            (orders, f"/privacy/requests/{export['id']}", {}),
            (orders, f"/privacy/requests/{export['id']}/document", {}),
            (billing, "/invoices", {}),
            (billing, f"/invoices/{invoice['number']}", {}),
            (billing, "/receivables", {}),
            (billing, f"/receivables/{invoice['number']}", {}),
            (billing, "/open-items", {"side": "receivable"}),
            (billing, "/payments", {}),
            (billing, "/bank-transactions", {}),
            (billing, "/bank-statements", {}),
            (billing, f"/bank-statements/{booked.json()['id']}/file", {}),
            *[(billing, f"/bank-transactions/{t['_id']}", {}) for t in books["bank_transactions"]],
            *[(billing, f"/payments/{p['_id']}", {}) for p in books["payments"]],
            (billing, f"/invoices/{invoice['number']}/pdf", {}),
            (billing, f"/credit-notes/{correction['number']}", {}),
            (billing, "/credit-notes", {"order_id": order["id"]}),
            (billing, "/payout-items", {}),
            (billing, "/dunning", {}),
            (billing, "/quotes", {}),
            (support, "/tickets", {}),
            (support, f"/tickets/{ticket['id']}", {}),
            (support, f"/tickets/{ticket['id']}/timeline", {}),
            (support, "/queue", {}),
            (support, "/ratings", {}),
            (marketing, "/consents", {"email": EMAIL}),
            (marketing, "/suppressions", {}),
            (marketing, "/segments", {}),
            (analytics, "/kpis/customers", {}),
            (analytics, "/kpis/sales", {}),
        ]
        for variant in variants:
            routes += [
                (orders, "/orders", {"customer": variant}),
                (orders, "/returns", {"customer": variant}),
                (billing, "/invoices", {"customer": variant}),
                (billing, "/receivables", {"customer": variant}),
                (billing, "/payments", {"customer": variant}),
                (billing, "/quotes", {"customer": variant}),
                (support, "/tickets", {"customer": variant}),
                (support, f"/customers/{variant}", {}),
                (marketing, "/consents", {"email": variant}),
                (marketing, f"/profiles/{variant}", {}),
            ]
        for term in (NAME, "Zuckerhut", STREET):
            routes += [
                (orders, "/orders", {"q": term}),
                (billing, "/invoices", {"q": term}),
                (billing, "/bank-transactions", {"q": term}),
                (support, "/tickets", {"q": term}),
            ]

        async def scan() -> list[tuple[str, str, int, list[str]]]:
            """(service, route, status, what of her it shows) of every route; analytics
            names nobody, so there her customer id counts too."""
            shown = []
            for service, path, params in routes:
                answer = await service.client.get(path, params=params, headers=staff)
                text = answer.text.lower()  # a 404 too: none repeats what was asked for
                found = traces_of_her(text)
                if service is analytics and CUSTOMER_ID in text:
                    found.append(CUSTOMER_ID)
                shown.append((service.name, f"{path} {params}", answer.status_code, found))
            return shown

        # before the erasure the scan finds her in every service that holds her
        before = await scan()
        assert {s[0] for s in before if s[3]} == set(SIX) - {"catalog"}, before

        # 3. the erasure, confirmed by all six
        asked = await orders.client.post(
            "/privacy/requests", json={"kind": "erasure", "email": EMAIL}
        )
        assert asked.status_code == 202, asked.text
        erased = await eventually(lambda: completed(orders, asked.json()["id"]), timeout=60)
        assert sorted(erased["services"]) == SIX and erased["missing"] == []
        assert erased["subject_id"] == export["subject_id"]

        # 4a. no API a staff member reads shows her any more
        shown = await scan()
        assert [s for s in shown if s[3]] == [], shown
        assert [s for s in shown if s[2] >= 500] == [], shown

        # billing keeps her invoice as issued, for the tax scope only
        number = invoice["number"]
        reader = {"Authorization": f"Bearer {auth_keys.token('billing:read')}"}
        masked = (await billing.client.get(f"/invoices/{number}", headers=reader)).json()
        assert masked["restricted"] is True and masked["gross_total"] == invoice["gross_total"]
        for document in ("pdf", "xml"):
            refused = await billing.client.get(f"/invoices/{number}/{document}", headers=reader)
            assert refused.status_code == 403, refused.text
        tax = {"Authorization": f"Bearer {auth_keys.token('billing:read', 'billing:tax')}"}
        kept = (await billing.client.get(f"/invoices/{number}", headers=tax)).json()
        assert kept["restricted"] is False and kept["buyer"]["name"] == NAME
        for document in ("pdf", "xml"):
            got = await billing.client.get(f"/invoices/{number}/{document}", headers=tax)
            assert got.status_code == 200 and got.content, document
        xml = (await billing.client.get(f"/invoices/{number}/xml", headers=tax)).text
        assert NAME in xml and STREET in xml

        # 4b. every topic of the namespace, replayed from offset 0: keys and values
        records = await every_record(infra, namespace)
        assert len(records) > 10, sorted(records)
        in_clear: list[tuple[str, int, list[str]]] = []
        records_seen = 0
        for topic, found in records.items():
            for record in found:
                records_seen += 1
                raw = (record.key or b"") + b"\n" + (record.value or b"")
                raw += b"".join(value for _, value in record.headers or ())
                if traces_of_her(raw):
                    in_clear.append((topic, record.offset, traces_of_her(raw)))
        assert records_seen > 20
        assert in_clear == []
        # every collection of every service, raw: only billing's tax records keep her
        # (retained, for billing:tax; ADR 0037, 0075); billing's read model of her
        # order, support's customer context and the outboxes do not
        holding = set()
        for service in (catalog, orders, billing, support, marketing, analytics):
            db = service.kit.store.db
            for name in await db.list_collection_names():
                async for doc in db[name].find():
                    if traces_of_her(str(doc)):
                        holding.add((service.name, name))
        assert holding == TAX_RECORDS_OF_HER
        settings = {s.name: s.settings for s in (marketing, analytics)}
        her_subject = Pseudonyms.of(MasterKey.from_text(TEST_PRIVACY_KEK)).subject_id(EMAIL)
        assert her_subject == export["subject_id"]

    # 4c. the read models that fold her events, rebuilt from the topics (services stopped)
    rebuilt = {
        "marketing": await rebuild_projection(settings["marketing"], profiles()),
        "analytics": await rebuild_projection(settings["analytics"], order_facts()),
    }
    assert rebuilt["marketing"].dropped_collections == ("profiles", "early_refunds")
    assert rebuilt["analytics"].dropped_collections == ("fact_orders",)
    async with (
        start_service("marketing", **mail, **MARKETING) as marketing,
        start_service("analytics") as analytics,
    ):

        async def replayed(service: Any, report: Any) -> bool:
            # the replay is through when the group's inbox holds what the reset removed
            inbox = service.kit.store.db["inbox"]
            done = await inbox.count_documents({"_id": {"$regex": f"^{report.group}:"}})
            return bool(done >= report.inbox_entries_removed)

        for service in (marketing, analytics):
            await eventually(partial(replayed, service, rebuilt[service.name]), timeout=60)
        figures = await analytics.kit.store.db["fact_orders"].find().to_list(None)
        folded = await marketing.kit.store.db["profiles"].find().to_list(None)
        # her order is in the figures again, tied to nobody; no profile is made of her
        [fact] = figures
        assert (fact["_id"], str(fact["gross"])) == (order["id"], order["gross_total"])
        assert (fact["customer"], fact["customer_id"], fact["subject"]) == (None, None, None)
        assert folded == []
        for collection in (figures, folded):
            assert [traces_of_her(str(doc)) for doc in collection if traces_of_her(str(doc))] == []
