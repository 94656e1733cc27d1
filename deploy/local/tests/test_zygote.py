"""Services forked from one process that imported their code (``kontor_local.zygote``).

Each fork is a process of its own (own process group, log and environment), answers
like a service started with ``python -m``, and its exit code reaches the runtime
although it is the zygote's child, not ours. A fork can be killed and started again
alone (the soak does that), and dies with the zygote, which dies with the runtime.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kontor_local.runtime import ForkedProcess, ServiceZygote, free_port, http_ready

from .helpers import descendants, is_running
from .test_cli import cli_env, launch, wait_for_text

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def zygote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceZygote]:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])
    )
    started = ServiceZygote(["kontor_dummy_service", "no_such_module_here"], tmp_path / "z.log")
    started.start()
    yield started
    started.stop()


def dummy(zygote: ServiceZygote, tmp_path: Path, **env: str) -> tuple[ForkedProcess, int]:
    port = free_port()
    environment = {
        **os.environ,
        "KONTOR_DUMMY_NAME": "dummy",
        "KONTOR_DUMMY_HTTP_PORT": str(port),
        "KONTOR_KAFKA_BOOTSTRAP": "from-the-request",
        **env,
    }
    process = ForkedProcess(
        zygote, "dummy", "kontor_dummy_service", tmp_path / "dummy.log", environment
    )
    process.start()
    return process, port


def wait(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_fork_serves_in_its_own_group_with_its_own_environment(
    zygote: ServiceZygote, tmp_path: Path
) -> None:
    process, port = dummy(zygote, tmp_path)
    assert process.pid is not None and process.pid != os.getpid()
    wait(lambda: http_ready(f"http://127.0.0.1:{port}/health/ready"))
    assert os.getpgid(process.pid) == process.pid  # Ctrl-C in a terminal does not reach it
    assert process.alive() and process.returncode is None
    assert "broker from-the-request" in (tmp_path / "dummy.log").read_text()
    assert zygote.failed_imports == ["no_such_module_here"]
    assert zygote.import_seconds is not None

    assert process.stop(timeout=10) == -15  # SIGTERM, told by the zygote
    assert not process.alive()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1.0)


def test_a_fork_survives_a_write_to_a_peer_that_has_gone(
    zygote: ServiceZygote, tmp_path: Path
) -> None:
    """A client or the broker hanging up mid-write must not end a service (SIGPIPE)."""
    process, port = dummy(zygote, tmp_path)
    wait(lambda: http_ready(f"http://127.0.0.1:{port}/health/ready"))
    answer = httpx.get(f"http://127.0.0.1:{port}/broken-pipe", timeout=10.0)
    assert answer.status_code == 200
    assert answer.text == "broken pipe"
    assert process.alive() and process.returncode is None
    process.stop(timeout=10)


def test_a_fork_that_dies_is_seen_with_its_exit_code(zygote: ServiceZygote, tmp_path: Path) -> None:
    process, _ = dummy(zygote, tmp_path, KONTOR_DUMMY_CRASH_AFTER="1")
    wait(lambda: not process.alive())
    assert process.returncode == 3
    assert "exited with code 3" in str(process.died_error("running"))


def test_a_module_that_fails_exits_1_with_its_traceback(
    zygote: ServiceZygote, tmp_path: Path
) -> None:
    process = ForkedProcess(
        zygote, "broken", "no_such_module_here", tmp_path / "b.log", dict(os.environ)
    )
    process.start()
    wait(lambda: not process.alive())
    assert process.returncode == 1
    assert "No module named" in (tmp_path / "b.log").read_text()


def test_a_fork_dies_with_the_zygote(zygote: ServiceZygote, tmp_path: Path) -> None:
    process, port = dummy(zygote, tmp_path)
    wait(lambda: http_ready(f"http://127.0.0.1:{port}/health/ready"))
    zygote_pid = zygote.pid
    assert zygote_pid is not None and process.pid is not None
    os.kill(zygote_pid, signal.SIGKILL)
    fork_pid = process.pid
    wait(lambda: not is_running(fork_pid))  # PR_SET_PDEATHSIG, not an orphan on its port
    assert not process.alive()


def test_a_killed_fork_starts_again_alone_and_a_dead_zygote_is_replaced(
    zygote: ServiceZygote, tmp_path: Path
) -> None:
    process, port = dummy(zygote, tmp_path)
    url = f"http://127.0.0.1:{port}/health/ready"
    wait(lambda: http_ready(url))
    first = process.pid
    assert process.kill() == -9
    assert not process.alive() and first is not None and not is_running(first)
    process.start()  # same port, same log, same environment
    wait(lambda: http_ready(url))
    assert process.pid != first and process.alive()

    assert zygote.pid is not None
    os.kill(zygote.pid, signal.SIGKILL)  # takes the fork with it
    wait(lambda: not process.alive())
    process.start()  # forks from a new zygote
    wait(lambda: http_ready(url))
    assert zygote.alive()
    process.stop(timeout=10)


def test_a_fork_and_its_log_are_for_its_owner_only(zygote: ServiceZygote, tmp_path: Path) -> None:
    process, port = dummy(zygote, tmp_path)
    wait(lambda: http_ready(f"http://127.0.0.1:{port}/health/ready"))
    assert stat.S_IMODE((tmp_path / "dummy.log").stat().st_mode) == 0o600
    status = Path(f"/proc/{process.pid}/status").read_text()
    assert "Umask:\t0077" in status
    process.stop(timeout=10)


def test_sigkill_of_the_runtime_ends_the_zygote_and_every_fork(tmp_path: Path) -> None:
    env = cli_env(tmp_path, KONTOR_DUMMY_NAME="dummy", KONTOR_LOCAL_SERVICE_START="fork")
    out = tmp_path / "out.txt"
    proc = launch(out, env, "run", "--service", "dummy=kontor_dummy_service")
    try:
        wait_for_text(out, proc, "Ctrl-C stops everything.", 60)
        children = descendants(proc.pid)
        log = (tmp_path / "logs" / "dummy.log").read_text()
        assert "forking dummy" in log
        assert len(children) >= 5  # database, object store, broker, zygote, dummy
        proc.kill()
        proc.wait(10)
        wait(lambda: not [pid for pid in children if is_running(pid)])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_exec_keeps_a_fresh_interpreter_per_service(tmp_path: Path) -> None:
    env = cli_env(tmp_path, KONTOR_DUMMY_NAME="dummy", KONTOR_LOCAL_SERVICE_START="exec")
    out = tmp_path / "out.txt"
    proc = launch(out, env, "run", "--service", "dummy=kontor_dummy_service")
    try:
        wait_for_text(out, proc, "Ctrl-C stops everything.", 60)
        log = (tmp_path / "logs" / "dummy.log").read_text()
        assert "starting dummy: " in log and "forking" not in log
        assert not (tmp_path / "logs" / "zygote.log").exists()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_fork_is_named_after_its_module_in_ps(zygote: ServiceZygote, tmp_path: Path) -> None:
    process, port = dummy(zygote, tmp_path)
    wait(lambda: http_ready(f"http://127.0.0.1:{port}/health/ready"))
    assert Path(f"/proc/{process.pid}/comm").read_text().strip() == "kontor_dummy_se"
    process.stop(timeout=10)
