"""Pytest plugin: one Kafka-protocol broker and one MongoDB-protocol server per session.

Loaded for every test in the repository by the repo-root ``conftest.py``
(``pytest_plugins = ["kontor_local.pytest_plugin"]``). Where they come from, first
match wins:

1. ``KONTOR_TEST_KAFKA_BOOTSTRAP`` and ``KONTOR_TEST_MONGO_URL`` (kind ``"env"``);
2. testcontainers, when a Docker engine answers a ping (kind ``"testcontainers"``):
   Apache Kafka in KRaft mode and MongoDB as a one-node replica set;
3. the embedded runtime: Tansu (memory) and SecantusDB (``:memory:``) on free
   ephemeral ports (kind ``"embedded"``).

``KONTOR_TEST_INFRA=env|testcontainers|embedded`` forces a kind. Nothing starts
until a test asks for the ``infra`` fixture, so unit tests pay nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from .runtime import (
    DEFAULT_TRANSACTION_LIFETIME_S,
    Broker,
    Database,
    LocalRuntimeError,
    ensure_topics_sync,
    free_port,
    kafka_answers,
    mongo_answers,
)

InfraKind = Literal["env", "testcontainers", "embedded"]

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.1"
MONGO_IMAGE = "mongo:7.0"
DOCKER_PING_TIMEOUT = 2.0


@dataclass
class Infra:
    """Where the session's broker and database are, and what they can do."""

    kafka_bootstrap: str
    mongo_url: str
    kind: InfraKind
    idempotent_producer: bool
    log_dir: Path | None = None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def create_topics(
        self, specs: Sequence[tuple[str, int]], configs: Mapping[str, str] | None = None
    ) -> list[str]:
        """Create the missing topics ``[(name, partitions), ...]``; returns those created.

        ``configs``: topic configuration for the ones created (``max.message.bytes``).
        """
        created: list[str] = ensure_topics_sync(self.kafka_bootstrap, specs, configs)
        return created

    def stop(self) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


class Namespace(str):
    """A short unique name for one test: prefix of its topics and its databases."""

    @property
    def topic_prefix(self) -> str:
        return f"{self}."

    def mongo_db_name(self, service: str) -> str:
        return f"{self}_{service}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def new_namespace() -> Namespace:
    return Namespace(f"t{uuid.uuid4().hex[:8]}")


# --------------------------------------------------------------------------- detection


def docker_available(timeout: float = DOCKER_PING_TIMEOUT) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=max(1, round(timeout)))
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            client.close()


def choose_kind(env: dict[str, str] | None = None) -> InfraKind:
    environ = dict(os.environ if env is None else env)
    forced = environ.get("KONTOR_TEST_INFRA", "").strip().lower()
    if forced in ("env", "testcontainers", "embedded"):
        return forced  # type: ignore[return-value]
    if forced:
        raise pytest.UsageError(
            f"KONTOR_TEST_INFRA={forced!r}: expected env, testcontainers or embedded"
        )
    if environ.get("KONTOR_TEST_KAFKA_BOOTSTRAP") and environ.get("KONTOR_TEST_MONGO_URL"):
        return "env"
    if docker_available():
        return "testcontainers"
    return "embedded"


# --------------------------------------------------------------------------- providers


def infra_from_env(env: dict[str, str] | None = None) -> Infra:
    environ = dict(os.environ if env is None else env)
    try:
        bootstrap = environ["KONTOR_TEST_KAFKA_BOOTSTRAP"]
        url = environ["KONTOR_TEST_MONGO_URL"]
    except KeyError as exc:
        raise pytest.UsageError(f"KONTOR_TEST_INFRA=env needs {exc.args[0]}") from exc
    idempotent = environ.get("KONTOR_TEST_KAFKA_IDEMPOTENT", "true").lower() == "true"
    return Infra(bootstrap, url, "env", idempotent_producer=idempotent)


def start_embedded(log_dir: Path) -> Infra:
    """Tansu (memory) and SecantusDB (``:memory:``) on free ephemeral ports.

    The database runs with the runtime's transaction lifetime (as ``make run`` and
    MongoDB in k8s do) and with test commands (failpoints) on: it is the tests' own.
    """
    database = Database(free_port(), ":memory:", log_dir, enable_test_commands=True)
    broker = Broker(free_port(), log_dir)

    def stop() -> None:
        broker.stop()
        database.stop()

    try:
        database.start()
        broker.start()
    except BaseException:
        stop()
        raise
    return Infra(
        broker.bootstrap,
        database.url,
        "embedded",
        idempotent_producer=False,
        log_dir=log_dir,
        _stop=stop,
    )


def _initiate_replica_set(url: str, timeout: float = 60.0) -> None:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure, PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=2000)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.admin.command(
                    "replSetInitiate",
                    {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]},
                )
            except OperationFailure as exc:
                if exc.code != 23:  # AlreadyInitialized
                    raise
            except PyMongoError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            break
        while not client.admin.command("hello").get("isWritablePrimary"):
            if time.monotonic() > deadline:
                raise LocalRuntimeError("MongoDB replica set rs0 elected no primary in time")
            time.sleep(0.25)
    finally:
        client.close()


def start_containers() -> Infra:  # pragma: no cover - needs a Docker engine
    """Apache Kafka (KRaft) and MongoDB (one-node replica set ``rs0``) in containers."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.core.container import DockerContainer

    kafka = KafkaContainer(image=KAFKA_IMAGE).with_kraft()
    mongo = (
        DockerContainer(MONGO_IMAGE)
        .with_command(
            "--replSet rs0 --bind_ip_all --setParameter enableTestCommands=1 "
            f"--setParameter transactionLifetimeLimitSeconds={DEFAULT_TRANSACTION_LIFETIME_S:g}"
        )
        .with_exposed_ports(27017)
    )

    def stop() -> None:
        for container in (kafka, mongo):
            with contextlib.suppress(Exception):
                container.stop()

    try:
        kafka.start()
        mongo.start()
        host = mongo.get_container_host_ip()
        port = mongo.get_exposed_port(27017)
        url = f"mongodb://{host}:{port}/?directConnection=true"
        _initiate_replica_set(url)
        bootstrap = kafka.get_bootstrap_server()
        deadline = time.monotonic() + 60
        while not (kafka_answers(bootstrap) and mongo_answers(url)):
            if time.monotonic() > deadline:
                raise LocalRuntimeError("Kafka/MongoDB containers did not answer in time")
            time.sleep(0.5)
    except BaseException:
        stop()
        raise
    return Infra(bootstrap, url, "testcontainers", idempotent_producer=True, _stop=stop)


# --------------------------------------------------------------------------- session state


@dataclass
class _State:
    infra: Infra | None = None
    log_dir: Path | None = None
    failed: bool = False


_STATE = _State()


def _stop_infra() -> None:
    if _STATE.infra is not None:
        _STATE.infra.stop()


atexit.register(_stop_infra)


def provision(kind: InfraKind) -> Infra:
    if kind == "env":
        return infra_from_env()
    if kind == "testcontainers":
        return start_containers()
    log_dir = Path(tempfile.mkdtemp(prefix="kontor-test-infra-"))
    _STATE.log_dir = log_dir
    return start_embedded(log_dir)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """The session's broker and database (env, testcontainers or embedded)."""
    started = provision(choose_kind())
    _STATE.infra = started
    try:
        yield started
    finally:
        started.stop()
        _STATE.infra = None


@pytest.fixture
def namespace() -> Namespace:
    """A unique short name per test (``t`` + 8 hex): a ``str`` with helpers."""
    return new_namespace()


@pytest.fixture
def topic_prefix(namespace: Namespace) -> str:
    """``"<namespace>."``: give it to a service as ``KONTOR_TOPIC_PREFIX``."""
    return namespace.topic_prefix


@pytest.fixture
def mongo_db_name(namespace: Namespace) -> Callable[[str], str]:
    """``mongo_db_name("orders") -> "<namespace>_orders"``."""
    return namespace.mongo_db_name


@pytest.fixture
def create_topics(infra: Infra) -> Callable[[Sequence[tuple[str, int]]], list[str]]:
    """Create topics ``[(name, partitions), ...]`` on the session's broker."""
    return infra.create_topics


# --------------------------------------------------------------------------- hooks

_PATH_MARKERS = (
    ("/tests/integration/", "integration"),
    ("/tests/service/", "service"),
    ("/tests/unit/", "unit"),
    ("/tests/security/", "security"),
    ("/tests/browser/", "browser"),
)


# tryfirst: before the repo-root conftest checks the tiers, and before an xdist worker
# (whose plugin registers after the conftests, so is otherwise called first) turns the
# xdist_group marks into the suffix of the node ids it schedules by.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by directory: ``tests/integration``, ``tests/service``, ``tests/unit``,
    ``tests/security``, ``tests/browser``; and group them for pytest-xdist."""
    for item in items:
        path = "/" + str(item.path).replace(os.sep, "/").lstrip("/")
        for fragment, marker in _PATH_MARKERS:
            if fragment in path and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))
        group = shared_fixture_group(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))


# --------------------------------------------------------------------------- xdist

# A test's own fixtures are made per test; a wider fixture is made once per module,
# package or session *of each xdist worker*. The tests that share one defined in the
# repository go to the same worker (``--dist loadgroup``), so it is still made once.
# Fixtures from plugins and the repo-root conftest (``infra``, ``auth_keys``, pytest's
# own) are meant to be made per worker, and group nothing.
_SHARED_SCOPES = ("class", "module", "package", "session")


def shared_fixture_group(item: pytest.Item) -> str | None:
    """The xdist group of ``item``: where its widest repository fixture lives, if any.

    ``module``/``class`` scope: the test's module; ``package``/``session`` scope: the
    directory (conftest) that defines the fixture. ``None``: the test may run anywhere.
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    groups: list[tuple[int, str]] = []
    for name in info.names_closure:
        for fixturedef in info.name2fixturedefs.get(name, ()):
            scope = str(getattr(fixturedef, "scope", "function"))
            baseid = str(getattr(fixturedef, "baseid", ""))
            if scope not in _SHARED_SCOPES or not baseid:
                continue
            if scope in ("class", "module"):
                groups.append((0, item.nodeid.split("::", 1)[0]))
            else:
                groups.append((1, baseid.split("::", 1)[0]))
    if not groups:
        return None
    return max(groups)[1]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed:
        _STATE.failed = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _stop_infra()
    log_dir = _STATE.log_dir
    if log_dir is not None and exitstatus == 0 and not _STATE.failed:
        shutil.rmtree(log_dir, ignore_errors=True)
        _STATE.log_dir = None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    if _STATE.log_dir is not None and (_STATE.failed or exitstatus != 0):
        terminalreporter.write_line(
            f"kontor_local: embedded broker/database logs kept in {_STATE.log_dir}"
        )
