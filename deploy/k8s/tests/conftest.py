"""Fixtures of the deployment tests: the services' facts and the rendered overlays.

The tests import ``deploy.k8s.*`` as modules of the repository (namespace packages),
so the repository root goes on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from deploy.k8s import generate, validate  # noqa: E402


@pytest.fixture(scope="session")
def facts() -> list[generate.ServiceFacts]:
    return generate.all_facts()


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: validate.render_overlay(overlay) for overlay in validate.overlays()}


@pytest.fixture(scope="session")
def prod(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rendered["prod"]
