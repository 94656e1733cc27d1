"""One-Stop-Shop across services on the real broker and database (§3c UStG, ADR 0026),
and billing's retention list on its real database (§147 AO, ADR 0027).

Consumers in France and Austria buy below the EUR 10,000 threshold and pay German VAT;
the order that takes the year's distance sales above it and every later one carry the
destination's rates at the same gross prices; billing's invoices match the orders, the
e-invoice of one passes the EN 16931 rules, and the OSS routes show the figures.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.invoicing import _store
from kontor_billing.domain.invoice import Invoice, InvoiceLine, Party
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.retention_command import list_deletable, purge
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork
from kontor_contracts.samples import ORDER
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.testing import eventually, settings_on, wait_for_assignment
from kontor_servicekit.uow import MongoTransactor

pytestmark = pytest.mark.integration

BIG = {
    "sku": "EBIKE-1",
    "name": "E-Bike",
    "price": {"gross": "5950.00", "currency": "EUR"},  # 5,000.00 net at 19 %
    "vat_class": "standard",
    "stock": 10,
}
COFFEE = {
    "sku": "COFFEE-250",
    "name": "Kaffee 250 g",
    "price": {"gross": "14.99", "currency": "EUR"},
    "vat_class": "reduced",
    "stock": 10,
}
PARIS = {"name": "Anne Dupont", "street": "1 Rue", "postcode": "75001", "city": "Paris"}
ADDRESSES = {
    "FR": {**PARIS, "country": "FR"},
    "AT": {**PARIS, "postcode": "1010", "city": "Wien", "country": "AT"},
}


def _rows(breakdown: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {str(Decimal(r["vat_rate"]).normalize()): (r["net"], r["vat"]) for r in breakdown}


async def test_distance_sales_switch_to_the_destination_rate_when_the_threshold_is_crossed(
    start_service: Any,
) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)
        for body in (BIG, COFFEE):
            created = await catalog.client.post("/products", json=body)
            assert created.status_code == 201, created.text

        async def known() -> bool:
            return await orders.kit.store.db["catalog_products"].count_documents({}) == 2

        await eventually(known, timeout=30)

        async def order_and_invoice(
            country: str, lines: list[tuple[str, int]]
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            placed = await orders.client.post(
                "/orders",
                json={
                    **ORDER,
                    "shipping_address": ADDRESSES[country],
                    "lines": [{"sku": s, "quantity": q} for s, q in lines],
                },
            )
            assert placed.status_code == 201, placed.text
            order = placed.json()

            async def invoiced() -> list[dict[str, Any]]:
                found = await billing.client.get("/invoices", params={"order_id": order["id"]})
                return found.json()["items"]  # type: ignore[no-any-return]

            [invoice] = await eventually(invoiced, timeout=30)
            assert invoice["vat_country"] == order["vat_country"]
            assert _rows(invoice["vat_breakdown"]) == _rows(order["vat_breakdown"])
            assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
                order["net_total"],
                order["vat_total"],
                order["gross_total"],
            )
            return order, invoice

        # 5,000 + 5,000 net, placed at the same time: 10,000 is reached, not exceeded, so
        # German VAT; both write the year's total (a lost update would leave 5,000 and the
        # next order would not cross)
        below = await asyncio.gather(
            *(order_and_invoice(country, [("EBIKE-1", 1)]) for country in ("FR", "AT"))
        )
        for order, _ in below:
            assert (order["vat_treatment"], order["vat_country"]) == ("domestic", None)
            assert _rows(order["vat_breakdown"]) == {"0.19": ("5000.00", "950.00")}

        # this one exceeds it: French rates already, the gross as displayed
        crossing, crossing_invoice = await order_and_invoice(
            "FR", [("EBIKE-1", 1), ("COFFEE-250", 1)]
        )
        assert (crossing["vat_treatment"], crossing["vat_country"]) == ("oss_distance_sale", "FR")
        assert _rows(crossing["vat_breakdown"]) == {
            "0.2": ("4958.33", "991.67"),
            "0.055": ("14.21", "0.78"),
        }
        assert crossing["gross_total"] == "5964.99"
        assert any("Bestimmungslandes FR" in note for note in crossing_invoice["notes"])
        xml = await billing.client.get(f"/invoices/{crossing_invoice['number']}/xml")
        assert xml.status_code == 200, xml.text  # passed the XSD and the EN 16931 rules
        percents = re.findall(rb"<ram:RateApplicablePercent>([0-9.]+)<", xml.content)
        assert {Decimal(p.decode()) for p in percents} == {Decimal("20"), Decimal("5.5")}

        later, _ = await order_and_invoice("AT", [("COFFEE-250", 2)])
        assert later["vat_country"] == "AT"
        assert _rows(later["vat_breakdown"]) == {"0.1": ("27.25", "2.73")}

        issued = date.fromisoformat(crossing_invoice["issue_date"])
        period = {"year": issued.year, "quarter": (issued.month - 1) // 3 + 1}
        figures = (await billing.client.get("/oss/returns", params=period)).json()
        by_country = {c["country"]: c for c in figures["countries"]}
        assert set(by_country) == {"AT", "FR"}  # the two German-VAT sales are not in it
        assert by_country["FR"]["documents"] == 1
        assert {r["vat_rate"]: (r["net"], r["vat"]) for r in by_country["FR"]["rates"]} == {
            "0.2": ("4958.33", "991.67"),
            "0.055": ("14.21", "0.78"),
        }
        assert (by_country["AT"]["net"], by_country["AT"]["vat"]) == ("27.25", "2.73")

        as_csv = await billing.client.get(
            "/oss/returns", params=period, headers={"Accept": "text/csv"}
        )
        assert as_csv.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert [(r["country"], r["vat_rate"], r["vat"]) for r in table] == [
            ("AT", "0.1", "2.73"),
            ("FR", "0.2", "991.67"),
            ("FR", "0.055", "0.78"),
        ]

        threshold = (
            await billing.client.get("/oss/threshold", params={"year": issued.year})
        ).json()
        assert threshold["current_year"]["net"] == "14999.79"
        assert threshold["current_year"]["exceeded_by"] == crossing_invoice["number"]
        assert (threshold["regime"], threshold["reason"]) == (
            "destination",
            "current_year_exceeded",
        )
        assert threshold["previous_year"]["net"] == "0"
        totals = await orders.kit.store.db["oss_distance_sales"].find_one({"_id": str(issued.year)})
        assert Decimal(str(totals["net"])) == Decimal("14999.79")  # orders counted the same


def _invoice(number: str, issued_at: datetime) -> Invoice:
    return Invoice.issue(
        invoice_id=number,
        number=number,
        order_id=f"o-{number}",
        order_number=None,
        buyer=Party(
            name="Anna Muster",
            email="anna@example.de",
            street="Hauptstr. 1",
            postcode="10115",
            city="Berlin",
            country="DE",
        ),
        currency="EUR",
        lines=[
            InvoiceLine(
                1,
                "T",
                "T-Shirt",
                1,
                Decimal("10"),
                Decimal("0.19"),
                Decimal("10.00"),
                Decimal("1.90"),
            )
        ],
        issued_at=issued_at,
        seller=EXAMPLE_SELLER,
    )


async def test_a_2017_invoice_is_deletable_on_new_year_2026_a_2018_one_is_not(
    start_service: Any,
    infra: Any,
    namespace: str,
    auth_keys: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with start_service("billing") as billing:
        # 31.12.2017 23:30 UTC is New Year 2018 in Berlin: the Berlin year counts
        old = _invoice("RE-2017-000001", datetime(2017, 12, 31, 23, 30, tzinfo=UTC))
        older = _invoice("RE-2017-000002", datetime(2017, 6, 1, 10, tzinfo=UTC))
        young = _invoice("RE-2018-000001", datetime(2018, 1, 2, 10, tzinfo=UTC))

        transactor = MongoTransactor(billing.kit.store, MongoBillingUnitOfWork)
        for invoice in (old, older, young):  # as the consumer stores them: with the chain
            await transactor.run(lambda uow, i=invoice: _store(uow, i, at=i.issued_at))

        def listed(answer: Any) -> list[tuple[str, str, int, str]]:
            assert answer.status_code == 200, answer.text
            return [
                (d["number"], d["kind"], d["year"], d["retention_ends"])
                for d in answer.json()["items"]
            ]

        url = "/retention/deletable"
        assert listed(await billing.client.get(url, params={"as_of": "2025-12-31"})) == []
        on_new_year = await billing.client.get(url, params={"as_of": "2026-01-01"})
        assert listed(on_new_year) == [("RE-2017-000002", "invoice", 2017, "2025-12-31")]
        assert listed(await billing.client.get(url, params={"as_of": "2027-01-01"})) == [
            ("RE-2017-000002", "invoice", 2017, "2025-12-31"),
            ("RE-2017-000001", "invoice", 2018, "2026-12-31"),  # the Berlin year counts
            ("RE-2018-000001", "invoice", 2018, "2026-12-31"),
        ]

        settings = settings_on(infra, namespace, auth_keys, "billing")
        assert await list_deletable(settings, date(2026, 1, 1)) == 0  # type: ignore[arg-type]
        printed = capsys.readouterr().out.splitlines()
        assert "RE-2017-000002\tinvoice\t2017\t2025-12-31" in printed
        assert not any(line.startswith(("RE-2018", "RE-2017-000001")) for line in printed)

        # the purge deletes what the list shows today, leaves a tombstone, and the chain holds
        new_year = FakeClock(datetime(2026, 1, 1, 8, tzinfo=UTC))
        assert await purge(settings, clock=new_year) == 0  # type: ignore[arg-type]
        assert "RE-2017-000002" in capsys.readouterr().out
        assert listed(await billing.client.get(url, params={"as_of": "2026-01-01"})) == []
        gone = await billing.client.get("/invoices/RE-2017-000002")
        assert gone.status_code == 404
        assert (await billing.client.get("/invoices/RE-2018-000001")).status_code == 200
        verified = (await billing.client.get("/audit/verify")).json()
        assert verified["ok"] is True, verified
        tombstones = await billing.kit.store.db["audit"].count_documents({"action": "purged"})
        assert tombstones == 1
