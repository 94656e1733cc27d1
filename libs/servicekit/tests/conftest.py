"""Fixtures of the kit's own tests."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_servicekit import testing
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.testing import Keys


@pytest.fixture
def kit_settings(infra: Any, namespace: str, auth_keys: Keys) -> ServiceSettings:
    """Settings of a service built by the kit alone (the orders name, none of its code)."""
    return testing.test_settings(
        "orders",
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        namespace=namespace,
        public_key=auth_keys.public_pem,
        idempotent=infra.idempotent_producer,
    )
