"""Fixtures of the kit's own tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kontor_servicekit import testing
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.testing import Keys


@pytest.fixture
def kit_settings_for(
    infra: Any, namespace: str, auth_keys: Keys
) -> Callable[[str], ServiceSettings]:
    """Settings of a service built by the kit alone: a service's name, none of its code."""

    def settings(service: str) -> ServiceSettings:
        return testing.settings_on(infra, namespace, auth_keys, service)

    return settings


@pytest.fixture
def kit_settings(kit_settings_for: Callable[[str], ServiceSettings]) -> ServiceSettings:
    return kit_settings_for("orders")
