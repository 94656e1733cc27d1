"""Import the services' code once, then fork one process per service: ``kontor_local.zygote``.

Six Python processes importing FastAPI, FastStream, aiokafka, PyMongo, pydantic and
OpenTelemetry at the same time need about 18 s of CPU; on two cores that was most of
``make run``'s start. This process imports the modules named on its command line
once (about 3.5 s of CPU for all six services) while the database and the broker
start, and then forks a process per service on request: each child is a process of
its own (own session and process group, own log, own environment), runs
``python -m <module>`` as if started so (``runpy``), and shares only the already
imported, never-written code pages with the others. No client, thread or event loop
exists before the fork: the services create theirs when they start.

Each fork dies with the zygote (``PR_SET_PDEATHSIG``), and the zygote with the runtime
that started it, so ``kill -9`` of the runtime ends every service as it ends the
broker and the database (ADR 0011). A fork creates its files for its owner only
(umask 077, issue 9), as every other child of the runtime does.

Protocol, one JSON object per line:

- stdout: ``{"ready": true, "failed": [...]}`` once the imports are done (``failed``:
  modules that could not be imported; their services still start, importing them then);
- stdin: ``{"id": 1, "module": "kontor_billing", "env": {...}, "log": "/path", "cwd": null}``
  forks a service; stdout answers ``{"id": 1, "pid": 1234}``;
- stdout: ``{"exit": 1234, "code": 0}`` when a child ends (negative: killed by that signal);
- end of stdin: this process exits, and with it (``PR_SET_PDEATHSIG``) every fork still
  running; the runtime stops the services by their process groups first.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import json
import os
import random
import runpy
import select
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1
PRIVATE_UMASK = 0o077


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the zygote dies; exit at once if it died before this call."""
    with contextlib.suppress(Exception):
        _libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(1)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _preload(modules: Sequence[str]) -> list[str]:
    failed: list[str] = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the service will import (and report) it itself
            failed.append(name)
            print(f"zygote: cannot import {name}: {exc!r}", file=sys.stderr, flush=True)
    return failed


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _run_child(request: dict[str, Any], close: Sequence[int], parent: int) -> None:
    """In the forked child: become the service. Never returns."""
    code = 1
    try:
        _die_with_parent(parent)
        os.umask(PRIVATE_UMASK)
        os.setsid()  # own process group: Ctrl-C in the terminal reaches the runtime only
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        # As every Python interpreter has it from its start: a write to a socket whose
        # peer has gone raises BrokenPipeError instead of killing the process. With the
        # default action a service died with -13 when a client or the broker hung up
        # while it was writing (seen in CI after the runtime had been SIGKILLed).
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own streams
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        random.seed()  # not the zygote's sequence
        module = str(request["module"])
        # what ps and top show (the command line stays the zygote's)
        with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
            comm.write(module[:15])
        sys.argv = [module]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _say({"exit": pid, "code": _exit_code(status)})


def serve(modules: Sequence[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runtime stops us by closing stdin
    with contextlib.suppress(OSError):
        _libc()  # loaded once, before any fork
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    with contextlib.redirect_stdout(sys.stderr):  # stdout is for the protocol only
        failed = _preload(modules)
    _say({"ready": True, "failed": failed})
    pending = b""
    while True:
        try:
            readable, _, _ = select.select([0, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap()
        if 0 not in readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            _reap()
            return 0
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if not line.strip():
                continue
            request = json.loads(line)
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                _run_child(request, close=(wake_r, wake_w), parent=parent)
            _say({"id": request["id"], "pid": pid})


def main(argv: Sequence[str] | None = None) -> int:
    return serve(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
