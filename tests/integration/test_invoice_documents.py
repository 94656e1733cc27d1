"""An order on the real broker and database to its invoice's documents (issue 11):
``GET /invoices/{number}/xml`` is EN 16931-valid CII, ``/pdf`` a Factur-X PDF/A-3 with
that XML embedded, and a second request serves the same bytes (one stored file each)."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pytest
from kontor_billing.documents.validation import validate
from kontor_billing.store.documents import BUCKET
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import eventually, wait_for_assignment
from pypdf import PdfReader

pytestmark = pytest.mark.integration


async def test_an_orders_invoice_as_xml_and_pdf_twice_the_same(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201

        async def order_accepted() -> Any:
            response = await orders.client.post("/orders", json=ORDER)
            return response if response.status_code == 201 else None

        order = (await eventually(order_accepted, timeout=30, interval=0.2)).json()

        async def invoices() -> list[dict[str, Any]]:
            response = await billing.client.get("/invoices", params={"order_id": order["id"]})
            return response.json()  # type: ignore[no-any-return]

        [invoice] = await eventually(invoices, timeout=30)
        number = invoice["number"]

        # two first requests racing: both render, one file is stored, both answer with it
        started = time.perf_counter()
        xml, racing = await asyncio.gather(
            billing.client.get(f"/invoices/{number}/xml"),
            billing.client.get(f"/invoices/{number}/xml"),
        )
        first_render_s = time.perf_counter() - started
        assert racing.content == xml.content
        assert xml.status_code == 200, xml.text
        assert xml.headers["content-type"] == "application/xml"
        assert validate(xml.content, xrechnung=False) == []
        assert f"<ram:ID>{number}</ram:ID>".encode() in xml.content
        assert b"<ram:GrandTotalAmount>47.58</ram:GrandTotalAmount>" in xml.content

        pdf = await billing.client.get(f"/invoices/{number}/pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.content))
        assert reader.attachments["factur-x.xml"] == [xml.content]
        text = reader.pages[0].extract_text()
        assert number in text and "MUSTER" in text.replace("Muster", "")

        again_pdf = await billing.client.get(f"/invoices/{number}/pdf")
        again_xml = await billing.client.get(f"/invoices/{number}/xml")
        assert again_pdf.content == pdf.content
        assert again_xml.content == xml.content
        files = billing.kit.store.db[f"{BUCKET}.files"]
        assert await files.count_documents({"metadata.number": number}) == 2

        missing = await billing.client.get("/invoices/RE-1999-000001/pdf")
        assert missing.status_code == 404
        print(f"first render + validation over HTTP: {first_render_s:.3f} s")
