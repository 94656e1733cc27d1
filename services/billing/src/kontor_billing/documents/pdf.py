"""DocumentData -> a printable PDF (weasyprint) with every §14 Abs. 4 UStG field, then the
Factur-X / ZUGFeRD PDF/A-3 with the CII XML embedded (factur-x adds the attachment, the
``AFRelationship`` and the XMP metadata of level EN 16931).

German by default, English when the buyer's language is ``en``. A sample seller (the example
data ``make run`` starts with) gets a "MUSTER" watermark on every page.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from kontor_servicekit.pdf import html_to_pdf

from kontor_billing.documents.cii import TITLES
from kontor_billing.documents.model import EXEMPTION, Buyer, DocumentData, DocumentKind, Seller

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "number": "Nummer",
        "date": "Rechnungsdatum",
        "supply": "Leistungsdatum",
        "supply_same": "Leistungsdatum entspricht Rechnungsdatum",
        "order": "Bestellung",
        "buyer_reference": "Leitweg-ID",
        "refers": "Bezieht sich auf Rechnung",
        "of": "vom",
        "pos": "Pos.",
        "item": "Bezeichnung",
        "sku": "Art.-Nr.",
        "qty": "Menge",
        "unit": "Einzelpreis netto",
        "net": "Netto",
        "rate": "USt.-Satz",
        "lines_total": "Summe Positionen netto",
        "allowance": "Nachlass",
        "net_per_rate": "Nettobetrag zu",
        "vat_per_rate": "Umsatzsteuer",
        "net_total": "Summe netto",
        "vat_total": "Summe Umsatzsteuer",
        "gross_total": "Gesamtbetrag",
        "due": "Zahlbar bis",
        "bank": "Bankverbindung",
        "vat_id": "USt-IdNr.",
        "buyer_vat_id": "USt-IdNr. des Leistungsempfängers",
        "tax_number": "Steuernummer",
        "directors": "Geschäftsführung",
        "sample": "MUSTER",
    },
    "en": {
        "number": "Number",
        "date": "Invoice date",
        "supply": "Date of supply",
        "supply_same": "Date of supply equals the invoice date",
        "order": "Order",
        "buyer_reference": "Buyer reference (Leitweg-ID)",
        "refers": "Refers to invoice",
        "of": "of",
        "pos": "No.",
        "item": "Description",
        "sku": "Item no.",
        "qty": "Quantity",
        "unit": "Unit price net",
        "net": "Net",
        "rate": "VAT rate",
        "lines_total": "Lines total net",
        "allowance": "Discount",
        "net_per_rate": "Net amount at",
        "vat_per_rate": "VAT",
        "net_total": "Total net",
        "vat_total": "Total VAT",
        "gross_total": "Total amount",
        "due": "Payable by",
        "bank": "Bank account",
        "vat_id": "VAT ID",
        "buyer_vat_id": "Buyer's VAT ID",
        "tax_number": "Tax number",
        "directors": "Managing directors",
        "sample": "SAMPLE",
    },
}

#: A quote (Angebot) is no invoice: its date is the quote's, its "due" date its validity.
QUOTE_LABELS: dict[str, dict[str, str]] = {
    "de": {"date": "Angebotsdatum", "due": "Gültig bis", "gross_total": "Angebotssumme"},
    "en": {"date": "Quote date", "due": "Valid until", "gross_total": "Quote total"},
}

CSS = """
@page { size: A4; margin: 20mm 18mm 32mm 20mm;
  @bottom-center { content: element(footer); } }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #222; }
.letterhead { border-bottom: 2px solid #1a4d80; padding-bottom: 3mm; margin-bottom: 6mm; }
.letterhead .name { font-size: 16pt; font-weight: bold; color: #1a4d80; }
.sender { font-size: 7pt; color: #555; margin-bottom: 2mm; }
.addr { height: 32mm; }
.meta { float: right; width: 70mm; margin-top: -34mm; }
.meta td { padding: 0.5mm 2mm 0.5mm 0; }
h1 { font-size: 14pt; margin: 6mm 0 3mm 0; }
table.lines { width: 100%; border-collapse: collapse; margin-top: 3mm; }
table.lines th { text-align: left; border-bottom: 1px solid #888; padding: 1mm; }
table.lines td { padding: 1mm; border-bottom: 0.5px solid #ddd; vertical-align: top; }
.num { text-align: right; white-space: nowrap; }
table.totals { margin-left: auto; margin-top: 4mm; border-collapse: collapse; }
table.totals td { padding: 0.7mm 2mm; }
table.totals tr.grand td { font-weight: bold; border-top: 1px solid #222; }
.notes p { margin: 1mm 0; }
footer { position: running(footer); font-size: 7pt; color: #555; border-top: 0.5px solid #888;
  padding-top: 1.5mm; width: 172mm; }
footer td { vertical-align: top; padding-right: 4mm; }
.watermark { position: fixed; top: 110mm; left: 15mm; font-size: 110pt;
  color: rgba(200, 0, 0, 0.15); transform: rotate(-35deg); font-weight: bold; }
"""


def amount(value: Decimal, currency: str, lang: str) -> str:
    text = f"{value.quantize(Decimal('0.01')):,.2f}"
    if lang == "de":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return f"{text} {currency}"


def number(value: Decimal, lang: str) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if lang == "de" else text


def day(value: date, lang: str) -> str:
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()


def letter_head(s: Seller, b: Buyer, lang: str) -> str:
    """The sample watermark, the company details footer, the letterhead and the address
    field: what every letter of the seller starts with (invoices, dunning notices)."""
    t = LABELS[lang]
    e = escape
    tax_ids = []
    if s.vat_id:
        tax_ids.append(f"{t['vat_id']}: {e(s.vat_id)}")
    if s.tax_number:
        tax_ids.append(f"{t['tax_number']}: {e(s.tax_number)}")
    company = [e(s.legal_name), e(s.street), f"{e(s.postcode)} {e(s.city)}", e(s.email)]
    legal = [e(s.registry or ""), *tax_ids]
    if s.managing_directors:
        legal.append(f"{t['directors']}: {e(', '.join(s.managing_directors))}")
    bank = [t["bank"]]
    if s.iban:
        bank.append(f"IBAN {e(s.iban)}")
    if s.bic:
        bank.append(f"BIC {e(s.bic)}")
    footer = "".join(
        f"<td>{'<br>'.join(x for x in col if x)}</td>" for col in (company, legal, bank)
    )
    buyer_lines = [b.company, b.name if b.company else None, b.name if not b.company else None]
    buyer_html = "<br>".join(e(x) for x in buyer_lines if x)
    watermark = f"<div class='watermark'>{t['sample']}</div>" if s.sample else ""
    sender_city = f"{e(s.postcode)} {e(s.city)}"
    return f"""{watermark}
<footer><table><tr>{footer}</tr></table></footer>
<div class="letterhead"><div class="name">{e(s.legal_name)}</div>
{e(s.street)} · {e(s.postcode)} {e(s.city)} · {e(s.country)}</div>
<div class="addr"><div class="sender">{e(s.legal_name)} · {e(s.street)} · {sender_city}</div>
{buyer_html}<br>{e(b.street)}<br>{e(b.postcode)} {e(b.city)}<br>{e(b.country)}</div>"""


def render_html(data: DocumentData) -> str:
    lang = data.buyer.language
    quote = data.kind is DocumentKind.QUOTE
    t = {**LABELS[lang], **QUOTE_LABELS[lang]} if quote else LABELS[lang]
    e = escape
    s, b = data.seller, data.buyer
    cur = data.currency
    title = TITLES[data.kind][0 if lang == "de" else 1]

    def money(value: Decimal) -> str:
        return amount(value, cur, lang)

    meta = [(t["number"], data.number), (t["date"], day(data.issue_date, lang))]
    if data.supply_date is not None:
        meta.append((t["supply"], day(data.supply_date, lang)))
    if data.order_number:
        meta.append((t["order"], data.order_number))
    if b.buyer_reference:
        meta.append((t["buyer_reference"], b.buyer_reference))
    if data.original_number:
        ref = data.original_number
        if data.original_date:
            ref += f" {t['of']} {day(data.original_date, lang)}"
        meta.append((t["refers"], ref))
    if b.vat_id:
        meta.append((t["buyer_vat_id"], b.vat_id))

    rows = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i > 2 else ''}>{cell}</td>"
            for i, cell in enumerate(
                (
                    str(line.line_no),
                    e(line.description),
                    e(line.sku or ""),
                    number(line.quantity, lang),
                    money(line.unit_net),
                    f"{number(line.rate, lang)} %",
                    money(line.line_net),
                )
            )
        )
        + "</tr>"
        for line in data.lines
    )
    totals = [(t["lines_total"], money(data.line_total))]
    totals += [
        (f"{t['allowance']}: {e(a.reason)} ({number(a.rate, lang)} %)", "- " + money(a.amount))
        for a in data.allowances
    ]
    for row in data.breakdown:
        totals.append(
            (
                f"{t['net_per_rate']} {number(row.rate, lang)} % ({row.category.value})",
                money(row.basis),
            )
        )
        totals.append((f"{t['vat_per_rate']} {number(row.rate, lang)} %", money(row.vat)))
    totals += [(t["net_total"], money(data.net_total)), (t["vat_total"], money(data.vat_total))]
    totals_html = "".join(
        f"<tr><td>{label}</td><td class='num'>{value}</td></tr>" for label, value in totals
    )
    grand = money(data.gross_total)
    totals_html += f"<tr class='grand'><td>{t['gross_total']}</td><td class='num'>{grand}</td></tr>"

    notes = [n.in_language(lang) for n in data.notes]
    if (
        not quote
        and data.supply_date is None
        and not any("Leistungsdatum" in n.text for n in data.notes)
    ):
        notes.append(t["supply_same"])
    for row in data.breakdown:
        if row.category in EXEMPTION:
            note = EXEMPTION[row.category][1 if lang == "de" else 2]
            if note not in notes:
                notes.append(note)
    if data.payment_terms:
        notes.append(data.payment_terms)
    if data.due_date and data.kind in (DocumentKind.INVOICE, DocumentKind.QUOTE):
        notes.append(f"{t['due']} {day(data.due_date, lang)}")
    notes_html = "".join(f"<p>{e(n)}</p>" for n in notes)

    meta_html = "".join(f"<tr><td>{k}</td><td>{e(v)}</td></tr>" for k, v in meta)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)} {e(data.number)}</title>
<style>{CSS}</style></head><body>
{letter_head(s, b, lang)}
<table class="meta">{meta_html}</table>
<h1>{e(title)} {e(data.number)}</h1>
<table class="lines"><thead><tr><th>{t["pos"]}</th><th>{t["item"]}</th><th>{t["sku"]}</th>
<th class="num">{t["qty"]}</th><th class="num">{t["unit"]}</th><th class="num">{t["rate"]}</th>
<th class="num">{t["net"]}</th></tr></thead><tbody>{rows}</tbody></table>
<table class="totals">{totals_html}</table>
<div class="notes">{notes_html}</div>
</body></html>"""


def render_pdf(data: DocumentData) -> bytes:
    """The plain PDF/A-3b (fonts embedded, sRGB output intent), without the XML yet."""
    return html_to_pdf(render_html(data))  # the kit's weasyprint, imported there


def facturx_pdf(data: DocumentData, xml: bytes) -> bytes:
    """The ZUGFeRD / Factur-X PDF/A-3: the rendered PDF with ``factur-x.xml`` attached."""
    from facturx import generate_from_binary  # loads pypdf: not at service start

    title = f"{TITLES[data.kind][0]} {data.number}"
    metadata = {
        "author": data.seller.legal_name,
        "keywords": "Factur-X, ZUGFeRD, EN 16931",
        "title": title,
        "subject": f"{title} vom {data.issue_date.isoformat()}, {data.seller.legal_name}",
    }
    pdf: bytes = generate_from_binary(
        render_pdf(data),
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata=metadata,
        lang="de-DE" if data.buyer.language == "de" else "en-GB",
    )
    return pdf
