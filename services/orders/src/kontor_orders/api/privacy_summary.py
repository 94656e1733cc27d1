"""The readable summary of an export (Art. 15 DSGVO): the JSON document as one HTML page.

Every value of the document is shown, escaped, in nested lists and tables: a summary
that left fields out would not be the copy the person asked for. No script, no inline
style (the kit's Content-Security-Policy), one page to print or save as PDF.
:func:`export_summary_pdf` renders the same page, with a print style of its own, as a
PDF/A-3b through the kit's weasyprint (``kontor_servicekit.pdf``, imported there when
the first summary is rendered, ADR 0143).
"""

from __future__ import annotations

from html import escape
from typing import Any

from kontor_servicekit.pdf import html_to_pdf  # imports weasyprint when it renders

_TITLE = "Auskunft über gespeicherte Daten (Art. 15 DSGVO)"

#: The PDF's print style (the HTML page has none: the CSP forbids inline style there).
PDF_CSS = """
@page { size: A4; margin: 18mm 15mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #111; }
h1 { font-size: 14pt; } h2 { font-size: 11pt; margin-top: 14pt; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0; }
th, td { border: 0.5pt solid #bbb; padding: 1.5pt 3pt; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; }
th { width: 28%; font-weight: normal; color: #444; }
ol { margin: 0; padding-left: 14pt; } dt { font-weight: bold; } dd { margin: 0 0 4pt 0; }
"""


def _label(key: str) -> str:
    return escape(key.replace("_", " "))


def _value(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "<p>—</p>"
        rows = "".join(
            f'<tr><th scope="row">{_label(str(k))}</th><td>{_value(v)}</td></tr>'
            for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if not value:
            return "<p>—</p>"
        return "<ol>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ol>"
    if value is None:
        return "—"
    return escape(str(value))


def export_summary_html(document: dict[str, Any], status: str, *, css: str | None = None) -> str:
    """The page of an export ``document`` (``PrivacyRequest.document()``, made plain);
    ``css``: a style of its own (the PDF's)."""
    services = document.get("services") or {}
    sections = "".join(
        f"<section><h2>{escape(service)}</h2>{_value(part)}</section>"
        for service, part in sorted(services.items())
    )
    problems = document.get("problems") or {}
    if problems:  # parts kept as blobs that could not be read or verified (ADR 0142)
        sections += (
            "<section><h2>Nicht lesbare Teile</h2>"
            + _value({service: problem for service, problem in sorted(problems.items())})
            + "</section>"
        )
    if status == "complete" and not problems:
        state = "vollständig"
    else:
        state = f"unvollständig ({escape(status if not problems else 'Teile nicht lesbar')})"
    style = "" if css is None else f"<style>{css}</style>"
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{_TITLE}</title>{style}</head><body>"
        f"<h1>{_TITLE}</h1>"
        "<dl>"
        f"<dt>Anfrage</dt><dd>{escape(str(document.get('request_id')))}</dd>"
        f"<dt>E-Mail-Adresse</dt><dd>{_value(document.get('email'))}</dd>"
        f"<dt>Angefragt am</dt><dd>{_value(document.get('requested_at'))}</dd>"
        f"<dt>Stand</dt><dd>{state}</dd>"
        "</dl>"
        f"{sections or '<p>Keine Daten gefunden.</p>'}"
        "</body></html>"
    )


def export_summary_pdf(document: dict[str, Any], status: str) -> bytes:
    """The same summary as a PDF/A-3b (seconds of CPU for a large export: call it off the
    event loop)."""
    return html_to_pdf(export_summary_html(document, status, css=PDF_CSS))
