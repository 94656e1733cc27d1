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
        return testing.test_settings(
            service,
            kafka_bootstrap=infra.kafka_bootstrap,
            mongo_url=infra.mongo_url,
            namespace=namespace,
            public_key=auth_keys.public_pem,
            idempotent=infra.idempotent_producer,
        )

    return settings


@pytest.fixture
def kit_settings(kit_settings_for: Callable[[str], ServiceSettings]) -> ServiceSettings:
    return kit_settings_for("orders")
