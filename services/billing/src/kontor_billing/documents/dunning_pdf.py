"""A reminder or dunning notice as a PDF/A-3b letter (weasyprint), on the seller's
letterhead and company details footer of the invoices (``pdf.letter_head``)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from kontor_servicekit.pdf import html_to_pdf

from kontor_billing.documents.from_invoice import seller_of
from kontor_billing.documents.model import Buyer
from kontor_billing.documents.pdf import CSS, amount, day, letter_head, number
from kontor_billing.domain.dunning import DunningNotice

INTRO = {
    1: "sicher ist es Ihrer Aufmerksamkeit entgangen: Für die folgende Rechnung konnten wir "
    "noch keinen vollständigen Zahlungseingang feststellen.",
    2: "leider konnten wir trotz unserer Zahlungserinnerung noch keinen vollständigen "
    "Zahlungseingang für die folgende Rechnung feststellen.",
    3: "trotz unserer Mahnung ist die folgende Rechnung weiterhin nicht vollständig bezahlt. "
    "Dies ist unsere letzte Mahnung vor der Übergabe an ein Inkassounternehmen.",
}


def render_notice_html(notice: DunningNotice) -> str:
    e = escape
    seller = seller_of(notice.seller)
    b = notice.buyer
    buyer = Buyer(
        name=b.name,
        street=b.street,
        postcode=b.postcode,
        city=b.city,
        country=b.country,
        email=b.email,
        company=b.company,
    )
    cur = notice.currency

    def money(value: Decimal) -> str:
        return amount(value, cur, "de")

    meta = [
        ("Nummer", notice.number),
        ("Datum", day(notice.issue_date, "de")),
        ("Rechnung", f"{notice.invoice_number} vom {day(notice.invoice_date, 'de')}"),
        ("Fällig seit", day(notice.due_date, "de")),
    ]
    if notice.order_number:
        meta.append(("Bestellung", notice.order_number))
    rows = [
        ("Rechnungsbetrag", money(notice.gross_total)),
        ("bereits gezahlt", "- " + money(notice.paid)),
        ("offener Betrag", money(notice.open_amount)),
    ]
    if notice.fees_total > 0:
        rows.append(("Mahngebühren", money(notice.fees_total)))
    if notice.interest > 0 and notice.interest_since is not None:
        rate = number(notice.interest_rate_percent, "de")
        base = number(notice.base_rate_percent, "de")
        rows.append(
            (
                f"Verzugszinsen {rate} % p. a. (Basiszinssatz {base} % + "
                f"{'9' if notice.business else '5'} Prozentpunkte, § 288 BGB) "
                f"seit {day(notice.interest_since, 'de')}"
                + (
                    f" bis {day(notice.interest_until, 'de')}"
                    if notice.base_rate_unknown_from is not None and notice.interest_until
                    else ""
                ),
                money(notice.interest),
            )
        )
    if notice.base_rate_unknown_from is not None:
        rows.append(
            (
                "Verzugszinsen ab "
                f"{day(notice.base_rate_unknown_from, 'de')} werden nach Bekanntgabe des "
                "Basiszinssatzes gesondert berechnet",
                "",
            )
        )
    if notice.flat_fee > 0:
        rows.append(("Verzugspauschale (§ 288 Abs. 5 BGB)", money(notice.flat_fee)))
    rows_html = "".join(f"<tr><td>{e(k)}</td><td class='num'>{v}</td></tr>" for k, v in rows)
    total = money(notice.total_claim)
    rows_html += f"<tr class='grand'><td>Zu zahlen</td><td class='num'>{total}</td></tr>"
    meta_html = "".join(f"<tr><td>{k}</td><td>{e(v)}</td></tr>" for k, v in meta)
    greeting = f"Sehr geehrte(r) {e(b.name)},"
    pay = (
        f"Bitte überweisen Sie den Betrag von {total} bis zum "
        f"{day(notice.pay_by, 'de')} unter Angabe der Rechnungsnummer {e(notice.invoice_number)}."
        " Sollten Sie inzwischen gezahlt haben, betrachten Sie dieses Schreiben bitte als "
        "gegenstandslos."
    )
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{e(notice.title)} {e(notice.number)}</title>
<style>{CSS}</style></head><body>
{letter_head(seller, buyer, "de")}
<table class="meta">{meta_html}</table>
<h1>{e(notice.title)} {e(notice.number)}</h1>
<div class="notes"><p>{greeting}</p><p>{e(INTRO[notice.level])}</p></div>
<table class="totals">{rows_html}</table>
<div class="notes"><p>{pay}</p><p>Mit freundlichen Grüßen<br>{e(seller.legal_name)}</p></div>
</body></html>"""


def render_notice_pdf(notice: DunningNotice) -> bytes:
    return html_to_pdf(render_notice_html(notice))  # the kit's weasyprint, imported there
