"""The security tier: hostile input against every service's HTTP edge (issue 9).

The tests import their helpers as ``tests.security.*`` (namespace packages of the
repository), so the repository root goes on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
