"""One machine gets a privacy master key beside the JWT keys, and every service its path
(issue 13, ADR 0034)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kontor_local.cli import PRIVACY_KEK_FILE, ensure_keys
from kontor_local.runtime import LocalSettings, ServiceSpec, service_env
from kontor_servicekit.privacy.keys import MasterKey

pytestmark = pytest.mark.unit


def test_the_key_is_made_once_private_and_handed_to_the_services(tmp_path: Path) -> None:
    settings = LocalSettings.from_env({"KONTOR_LOCAL_DATA_DIR": str(tmp_path)})
    spec = ServiceSpec("orders", "kontor_orders", 8002)

    def env() -> dict[str, str]:
        public = settings.public_key_file
        return service_env(spec, kafka_bootstrap="b:1", mongo="m", public_key_file=public, base={})

    assert "KONTOR_PRIVACY_KEK_FILE" not in env()  # no key yet: the services answer 503
    _, public_file = ensure_keys(settings)
    kek = settings.keys_dir / PRIVACY_KEK_FILE
    first = MasterKey.from_file(kek)
    assert kek.stat().st_mode & 0o777 == 0o600
    ensure_keys(settings)
    assert MasterKey.from_file(kek) == first
    assert env()["KONTOR_PRIVACY_KEK_FILE"] == str(kek)
    assert public_file.parent == kek.parent
