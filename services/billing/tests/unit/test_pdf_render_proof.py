"""The render proof (issue 11): a sample invoice's PDF is rasterised to PNG by Debian's
poppler (``pdftoppm``) and is not blank; poppler's ``pdftotext`` reads every §14 Abs. 4
UStG field from it; poppler's ``pdfdetach`` finds the Factur-X XML attachment (a second
PDF reader besides pypdf, whose checks of the PDF/A-3 XMP are in ``test_documents.py``).

poppler-utils comes from ``scripts/ensure-debian-packages.sh`` (``make test`` and
``make test-unit`` run it first); without it this test fails and says so, never skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kontor_billing.documents.issue import issue_documents
from kontor_servicekit.testing import pdf_text, poppler
from kontor_servicekit.testing import run_tool as run
from PIL import Image

from services.billing.tests.unit.test_documents import COUPON, PARA_14_OF_COUPON

pytestmark = pytest.mark.unit


def test_a_sample_invoice_renders_to_png_and_reads_back_every_para_14_field(
    tmp_path: Path,
) -> None:
    rendered = issue_documents(COUPON)
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(rendered.pdf)

    run(
        poppler("pdftoppm"),
        "-png",
        "-r",
        "50",
        "-f",
        "1",
        "-l",
        "1",
        str(pdf),
        str(tmp_path / "page"),
    )
    [png] = sorted(tmp_path.glob("page*.png"))
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.width > 300 and image.height > 400  # A4 at 50 dpi: 413 x 585
        gray = image.convert("L")
        dark = sum(gray.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 0.005 * gray.width * gray.height, "the page is blank"

    text = pdf_text(rendered.pdf)
    for needed in PARA_14_OF_COUPON:
        assert needed in text, needed

    attachments = run(poppler("pdfdetach"), "-list", str(pdf))
    assert "factur-x.xml" in attachments
    run(poppler("pdfdetach"), "-savefile", "factur-x.xml", "-o", str(tmp_path / "x.xml"), str(pdf))
    assert (tmp_path / "x.xml").read_bytes() == rendered.xml
