"""The readable summary of an export (Art. 15 DSGVO): the JSON document as one HTML page.

Every value of the document is shown, escaped, in nested lists and tables: a summary
that left fields out would not be the copy the person asked for. No script, no inline
style (the kit's Content-Security-Policy), one page to print or save as PDF.
"""

from __future__ import annotations

from html import escape
from typing import Any

_TITLE = "Auskunft über gespeicherte Daten (Art. 15 DSGVO)"


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


def export_summary_html(document: dict[str, Any], status: str) -> str:
    """The page of an export ``document`` (``PrivacyRequest.document()``, made plain)."""
    services = document.get("services") or {}
    sections = "".join(
        f"<section><h2>{escape(service)}</h2>{_value(part)}</section>"
        for service, part in sorted(services.items())
    )
    state = "vollständig" if status == "complete" else f"unvollständig ({escape(status)})"
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{_TITLE}</title></head><body>"
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
