"""Start to ready (issue 17, "every service ready within 5 s"): billing's PDF libraries are
loaded when the first document is rendered (on its first ``GET .../pdf``, off the order's
path), not when the service starts. weasyprint, factur-x and the pypdf it loads were about a
third of the CPU it took to import catalog, orders and billing together (the local runtime's
zygote, measured 2026-12-03). That the PDFs still render is what test_documents and
test_pdf_render_proof show."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

HEAVY = ("weasyprint", "facturx", "pypdf")


def test_starting_billing_loads_no_pdf_library() -> None:
    probe = (
        "import sys, kontor_billing.main\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.strip() == ""
