"""Schemathesis against every running service: no server errors, also on hostile JSON.

Each service runs as its own process (uvicorn over loopback) on the session's real
broker and database; schemathesis generates requests from the service's OpenAPI
document, valid and invalid, with a token that has every scope, and fails on any
5xx answer, on responses that don't match the documented schemas or status codes,
and on content types that differ from the documentation. Its strings include NUL
bytes and all of Unicode that UTF-8 carries (``--generation-allow-x00``,
``--generation-codec utf-8``); the hooks in ``schemathesis_hostile.py`` turn one
JSON body in three into NaN / Infinity / 1e400 / lone-surrogate JSON (issue 9),
which schemathesis itself never generates.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from kontor_contracts.registry import SERVICES
from kontor_local.runtime import free_port
from kontor_servicekit.testing import TEST_PRIVACY_KEK

pytestmark = pytest.mark.integration

HOSTILE_HOOKS = Path(__file__).with_name("schemathesis_hostile.py")

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@contextmanager
def service_process(
    service: str, infra: Any, namespace: str, public_key: str, log: Path
) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    with mail_sink_process(log.parent / "mail", log) as smtp_port:
        env.update(KONTOR_SMTP_HOST="127.0.0.1", KONTOR_SMTP_PORT=str(smtp_port))
        with _service(service, env, port, infra, namespace, public_key, log) as url:
            yield url


@contextmanager
def mail_sink_process(directory: Path, log: Path) -> Iterator[int]:
    """The kit's mail sink, as ``make run`` starts it: routes that mail get a relay."""
    port = free_port()
    with log.open("ab") as out:
        sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kontor_servicekit.mail",
                "sink",
                "--dir",
                str(directory),
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if sink.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no mail sink:\n{log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield port
    finally:
        sink.terminate()
        try:
            sink.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sink.kill()


@contextmanager
def _service(
    service: str,
    env: dict[str, str],
    port: int,
    infra: Any,
    namespace: str,
    public_key: str,
    log: Path,
) -> Iterator[str]:
    env.update(
        KONTOR_KAFKA_BOOTSTRAP=infra.kafka_bootstrap,
        KONTOR_MONGO_URL=infra.mongo_url,
        KONTOR_KAFKA_IDEMPOTENT=str(infra.idempotent_producer).lower(),
        KONTOR_TOPIC_PREFIX=f"{namespace}.",
        KONTOR_KAFKA_ENSURE_TOPICS="true",
        KONTOR_AUTH_PUBLIC_KEY=public_key,
        KONTOR_LOG_LEVEL="WARNING",
        # privacy requests (issue 13) need the master key, else they answer 503
        KONTOR_PRIVACY_KEK=TEST_PRIVACY_KEK,
        KONTOR_PRIVACY_KEYS_DATABASE=f"{namespace}_keys",
        **{
            f"KONTOR_{service.upper()}_HTTP_PORT": str(port),
            f"KONTOR_{service.upper()}_MONGO_DATABASE": f"{namespace}_{service}",
        },
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", f"kontor_{service}"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{service} did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error(
    service: str, infra: Any, namespace: str, auth_keys: Any, tmp_path: Path
) -> None:
    log = tmp_path / f"{service}.log"
    with service_process(service, infra, namespace, auth_keys.public_pem, log) as url:
        document = httpx.get(f"{url}/openapi.json", timeout=10).json()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{url}/openapi.json",
                "--checks",
                CHECKS,
                "--header",
                f"Authorization: Bearer {auth_keys.token()}",
                "--max-examples",
                os.environ.get("KONTOR_FUZZ_EXAMPLES", "25"),
                "--generation-deterministic",
                "--request-timeout",
                "10",
                "--no-color",
                "--generation-allow-x00",
                "true",
                "--generation-codec",
                "utf-8",
            ],
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOSTILE_HOOKS)},
            capture_output=True,
            text=True,
            cwd=tmp_path,  # schemathesis keeps its example database in the working directory
            timeout=540,
            check=False,
        )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "passed" in report.lower() or "no issues found" in report.lower(), report
    json_bodies = [
        operation
        for item in document["paths"].values()
        for operation in item.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    refused = log.read_text().count("refused non-standard JSON")
    print(f"{service}: {len(json_bodies)} JSON-body operations, {refused} hostile bodies refused")
    if json_bodies:
        assert refused > 0, "the hostile hooks sent nothing (SCHEMATHESIS_HOOKS not loaded?)"
