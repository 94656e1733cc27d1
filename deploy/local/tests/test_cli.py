"""``kontor-local`` as a user runs it: a real child process, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from kontor_local.runtime import free_port

from .helpers import descendants, is_running

FIXTURES = Path(__file__).parent / "fixtures"


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KONTOR_LOCAL_DATA_DIR=str(data_dir),
        KONTOR_LOCAL_BROKER_PORT=str(free_port()),
        KONTOR_LOCAL_MONGO_PORT=str(free_port()),
        KONTOR_LOCAL_S3_PORT=str(free_port()),
        KONTOR_LOCAL_DUMMY_PORT=str(free_port()),
        # the fixed mail ports of make run (1025, 2525) would collide between workers
        KONTOR_LOCAL_MAIL_SINK_PORT=str(free_port()),
        KONTOR_LOCAL_SUPPORT_SMTP_PORT=str(free_port()),
        KONTOR_LOCAL_READY_TIMEOUT="30",
        PYTHONPATH=os.pathsep.join([str(FIXTURES), env.get("PYTHONPATH", "")]),
    )
    env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kontor_local.cli", *args]


def launch(out: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """``kontor-local <args>`` with stdout and stderr into ``out``."""
    with out.open("wb") as sink:
        return subprocess.Popen(cli(*args), env=env, stdout=sink, stderr=subprocess.STDOUT)


def wait_for_text(path: Path, proc: subprocess.Popen[bytes], text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = path.read_text(errors="replace")
        if text in output:
            return output
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(
        f"{text!r} not seen; exit {proc.poll()}; output:\n{path.read_text(errors='replace')}"
    )


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; killed at the end whatever happens."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            for pid in descendants(proc.pid):
                os.kill(pid, signal.SIGKILL)
            proc.kill()
            proc.wait()


@pytest.mark.integration
def test_run_launches_a_service_waits_for_ready_and_stops_everything_on_sigint(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    env = cli_env(tmp_path, KONTOR_DUMMY_NAME="dummy")
    out = tmp_path / "out.txt"
    proc = launch(out, env, "run", "--service", "dummy=kontor_dummy_service")
    started.append(proc)
    output = wait_for_text(out, proc, "Ctrl-C stops everything.", 60)
    port = env["KONTOR_LOCAL_DUMMY_PORT"]
    assert f"http://127.0.0.1:{port}/docs" in output
    assert f"127.0.0.1:{env['KONTOR_LOCAL_BROKER_PORT']}" in output
    assert "make token" in output
    children = descendants(proc.pid)
    assert len(children) >= 3  # broker, database, dummy

    log = (tmp_path / "logs" / "dummy.log").read_text()
    assert f"broker 127.0.0.1:{env['KONTOR_LOCAL_BROKER_PORT']}" in log  # env reached it

    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not [pid for pid in children if is_running(pid)]


@pytest.mark.integration
def test_run_reports_a_dead_service_and_stops_the_rest(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    env = cli_env(tmp_path, KONTOR_DUMMY_NAME="dummy", KONTOR_DUMMY_CRASH_AFTER="3")
    out = tmp_path / "out.txt"
    proc = launch(out, env, "run", "--service", "dummy=kontor_dummy_service")
    started.append(proc)
    wait_for_text(out, proc, "Ctrl-C stops everything.", 60)
    children = descendants(proc.pid)
    assert proc.wait(30) == 1
    assert "dummy exited unexpectedly (code 3)" in out.read_text()
    assert not [pid for pid in children if is_running(pid)]


@pytest.mark.integration
def test_infra_sigterm_stops_broker_and_database(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    env = cli_env(tmp_path)
    out = tmp_path / "out.txt"
    proc = launch(out, env, "infra")
    started.append(proc)
    output = wait_for_text(out, proc, "Ctrl-C stops both.", 60)
    assert f"KONTOR_KAFKA_BOOTSTRAP=127.0.0.1:{env['KONTOR_LOCAL_BROKER_PORT']}" in output
    assert "retryWrites=false" in output
    children = descendants(proc.pid)
    assert len(children) >= 2
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not [pid for pid in children if is_running(pid)]


@pytest.mark.unit  # a bind test refuses the command before anything starts
@pytest.mark.parametrize("command", ["run", "infra"])
@pytest.mark.parametrize("role", ["broker", "database"])
def test_a_taken_port_fails_before_anything_starts(tmp_path: Path, command: str, role: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        variable = "KONTOR_LOCAL_BROKER_PORT" if role == "broker" else "KONTOR_LOCAL_MONGO_PORT"
        env = cli_env(tmp_path, **{variable: str(port)})
        result = subprocess.run(
            cli(command), env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 1
    assert f"port {port} ({role}) is already in use" in result.stderr
    assert not (tmp_path / "logs").exists()  # nothing was started


@pytest.mark.unit
def test_token_last_line_verifies_with_the_public_key(tmp_path: Path) -> None:
    from kontor_servicekit.auth import all_scopes

    result = subprocess.run(
        cli("token", "--ttl-hours", "2"),
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip().splitlines()[-1]
    public_key = (tmp_path / "keys" / "jwt-public.pem").read_text()
    algorithm = jwt.get_unverified_header(token)["alg"]
    claims = jwt.decode(token, public_key, algorithms=[algorithm], audience="kontor")
    assert set(claims["scope"].split()) == set(all_scopes())
    assert 2 * 3600 - 60 <= claims["exp"] - claims["iat"] <= 2 * 3600

    narrow = subprocess.run(
        cli("token", "--scope", all_scopes()[0]),
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    claims = jwt.decode(
        narrow.stdout.strip().splitlines()[-1],
        public_key,
        algorithms=[algorithm],
        audience="kontor",
    )
    assert claims["scope"] == all_scopes()[0]
    # the key pair is created once and reused
    assert (tmp_path / "keys" / "jwt-public.pem").read_text() == public_key


@pytest.mark.integration
def test_ctrl_c_stops_the_runtime_also_when_it_was_started_with_sigint_ignored(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    # as a background job of a non-interactive shell (`nohup make run &` in a script):
    # SIGINT is ignored when the runtime starts, and Python then installs no handler
    env = cli_env(tmp_path, KONTOR_DUMMY_NAME="dummy")
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            cli("run", "--service", "dummy=kontor_dummy_service"),
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
    started.append(proc)
    wait_for_text(out, proc, "Ctrl-C stops everything.", 60)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
