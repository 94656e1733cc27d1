"""HTML -> PDF with weasyprint, for every service that renders one (billing's documents,
orders' export summary; ADR 0143).

weasyprint is the kit's optional extra ``pdf`` (``kontor-servicekit[pdf]``): a service
that renders PDFs depends on it, and its image gets weasyprint's run-time libraries
(``deploy/dockerfiles.py``). It takes seconds to import, so it is imported here, when
the first PDF is rendered, never when a service starts (``docs/performance.md``); call
:func:`html_to_pdf` off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import logging

__all__ = ["PDF_A", "html_to_pdf"]

#: The PDF variant of Kontor's documents: PDF/A-3b (fonts embedded, sRGB output intent).
PDF_A = "pdf/a-3b"

# weasyprint logs every layout step at INFO: one line per step and document is noise
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def html_to_pdf(html: str, *, variant: str | None = PDF_A) -> bytes:
    """The PDF of the HTML page ``html``, its CSS in a ``<style>`` of its own (the pages
    Kontor renders name no other resource: escape every value put into one)."""
    from weasyprint import HTML  # seconds of imports: not at service start

    pdf: bytes = HTML(string=html).write_pdf(pdf_variant=variant)
    return pdf
