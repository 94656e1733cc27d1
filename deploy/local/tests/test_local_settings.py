"""The runtime's settings that issue 8 added, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from kontor_local.runtime import (
    LOCAL_CONSUMER_TIMEOUTS,
    LocalRuntimeError,
    LocalSettings,
    ServiceSpec,
    service_env,
)

pytestmark = pytest.mark.unit


def test_defaults_fork_the_services_and_end_dead_transactions_after_5_s(tmp_path: Path) -> None:
    settings = LocalSettings.from_env({"KONTOR_LOCAL_DATA_DIR": str(tmp_path)})
    assert settings.service_start == "fork"
    assert settings.mongo_transaction_lifetime_s == 5.0
    assert settings.kafka_max_message_bytes == 1_048_576


def test_each_can_be_changed_and_a_wrong_value_is_named(tmp_path: Path) -> None:
    settings = LocalSettings.from_env(
        {
            "KONTOR_LOCAL_DATA_DIR": str(tmp_path),
            "KONTOR_LOCAL_SERVICE_START": "exec",
            "KONTOR_LOCAL_MONGO_TRANSACTION_LIFETIME_S": "2.5",
            "KONTOR_KAFKA_MAX_MESSAGE_BYTES": "2097152",
        }
    )
    assert settings.service_start == "exec"
    assert settings.mongo_transaction_lifetime_s == 2.5
    assert settings.kafka_max_message_bytes == 2_097_152
    with pytest.raises(LocalRuntimeError, match="KONTOR_LOCAL_SERVICE_START='spawn'"):
        LocalSettings.from_env({"KONTOR_LOCAL_SERVICE_START": "spawn"})


def test_services_get_short_session_timeouts_unless_the_operator_set_their_own() -> None:
    spec = ServiceSpec("billing", "kontor_billing", 8003)

    def env_with(base: dict[str, str]) -> dict[str, str]:
        return service_env(
            spec, kafka_bootstrap="b:1", mongo="m", public_key_file=Path("k"), base=base
        )

    env = env_with({})
    assert {k: env[k] for k in LOCAL_CONSUMER_TIMEOUTS} == {
        "KONTOR_KAFKA_SESSION_TIMEOUT_MS": "3000",
        "KONTOR_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        "KONTOR_KAFKA_REBALANCE_TIMEOUT_MS": "10000",
    }
    assert (
        env_with({"KONTOR_KAFKA_SESSION_TIMEOUT_MS": "9000"})["KONTOR_KAFKA_SESSION_TIMEOUT_MS"]
        == "9000"
    )
