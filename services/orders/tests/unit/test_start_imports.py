"""Start to ready (issue 17): orders renders the export summary's PDF with the kit's
weasyprint (ADR 0143), which is loaded when the first summary is rendered, not when the
service starts (it was about a third of the zygote's imports in billing, 2026-12-03).
That the PDF renders is what ``tests/integration/test_privacy_requests.py`` shows."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_starting_orders_loads_no_pdf_library() -> None:
    probe = "import sys, kontor_orders.main\nprint('weasyprint' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.strip() == "False"
