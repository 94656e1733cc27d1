"""Start to ready (issue 17): the services' libraries are imported from bytecode, not compiled.

The development machines set ``PYTHONDONTWRITEBYTECODE=1``, so an import never writes a
``.pyc``: with ``uv sync`` alone every process (each service, the zygote, every pytest)
compiled FastAPI, pydantic, PyMongo, FastStream, OpenTelemetry ... again, 3.4 CPU-s for
catalog + orders + billing instead of 1.7 (ADR 0144). ``make setup`` syncs with
``--compile-bytecode``; this checks that what the services import from the environment
has a current ``.pyc`` beside it (``make setup`` fixes a failure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

SERVICES = ("catalog", "orders", "billing", "support", "marketing", "analytics")

PROBE = """
import importlib.util, json, os, sys, sysconfig
import kontor_servicekit.service, kontor_servicekit.runner
for name in sys.argv[1:]:
    __import__(name)
libraries = sysconfig.get_paths()["purelib"]
stale, checked = [], 0
for module in list(sys.modules.values()):
    source = getattr(module, "__file__", None) or ""
    if not source.startswith(libraries) or not source.endswith(".py"):
        continue
    checked += 1
    cached = importlib.util.cache_from_source(source)
    try:
        with open(cached, "rb") as pyc:
            header = pyc.read(16)
        mtime = int(os.stat(source).st_mtime) & 0xFFFFFFFF
        current = int.from_bytes(header[4:8], "little") == 0 and (
            int.from_bytes(header[8:12], "little") == mtime
        )
    except OSError:
        current = False
    if not current:
        stale.append(module.__name__)
print(json.dumps({"checked": checked, "stale": sorted(stale)}))
"""


def test_the_services_libraries_have_current_bytecode() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *(f"kontor_{name}.main" for name in SERVICES)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env=env,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["checked"] > 500, result["checked"]  # FastAPI, pydantic, PyMongo, ...
    assert result["stale"] == [], f"no current .pyc (run `make setup`): {result['stale'][:20]}"
