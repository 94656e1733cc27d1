"""Test helpers: run a service in-process against the session's broker and database,
through an in-process client (:func:`run_service`) or on a real socket
(:func:`serve_on_socket`, as ``run_service`` of the runner serves it).

Used by the service and integration tests of every service; registered as the
pytest plugin ``kontor_servicekit.testing`` from the repository's root conftest.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from kontor_contracts.envelope import Envelope
from kontor_contracts.registry import REGISTRY
from kontor_contracts.wire import to_headers
from kontor_local.tokens import generate_keypair, mint_token

from kontor_servicekit.auth import all_scopes
from kontor_servicekit.runner import uvicorn_options
from kontor_servicekit.service import Kit
from kontor_servicekit.settings import ServiceSettings, settings_for

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def poppler(tool: str) -> str:
    """The path of one of poppler's tools (``pdftotext``, ``pdftoppm``, ``pdfdetach``):
    poppler-utils comes from ``scripts/ensure-debian-packages.sh`` (``make test`` runs it);
    without it the test fails and says so, never skips."""
    path = shutil.which(tool)
    assert path, (
        f"{tool} is missing: run ./scripts/ensure-debian-packages.sh poppler-utils:{tool} "
        "(make test does)"
    )
    return path


def run_tool(*args: str) -> str:
    """A tool's standard output (it must succeed within a minute)."""
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def pdf_text(pdf: bytes) -> str:
    """The text poppler's ``pdftotext -layout`` reads from ``pdf``, white space folded."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "read.pdf"
        path.write_bytes(pdf)
        return " ".join(run_tool(poppler("pdftotext"), "-layout", str(path), "-").split())


def sample_image(
    content_type: str = "image/png", size: tuple[int, int] = (4, 3), *, comment: str = ""
) -> bytes:
    """A real, decodable image of ``content_type`` (what an upload test sends).

    ``comment``: written into the file's metadata (a PNG text chunk, a JPEG comment),
    to see that the stored copy drops it.
    """
    import io

    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if comment and content_type == "image/png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", comment)
        options["pnginfo"] = info
    elif comment:
        options["comment"] = comment.encode()
    image.save(out, _PIL_FORMATS[content_type], **options)
    return out.getvalue()


@dataclass(frozen=True)
class Keys:
    private_pem: str
    public_pem: str

    def token(self, *scopes: str) -> str:
        return mint_token(self.private_pem, scopes=scopes or all_scopes())


@dataclass
class RunningService:
    name: str
    app: FastAPI
    settings: ServiceSettings
    client: httpx.AsyncClient

    @property
    def kit(self) -> Kit:
        kit: Kit = self.app.state.kit
        return kit


TEST_PRIVACY_KEK = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
"""The privacy master key of this test session (every service of a test shares it)."""


def test_settings(
    service: str,
    *,
    kafka_bootstrap: str,
    mongo_url: str,
    namespace: str,
    public_key: str,
    idempotent: bool,
    **overrides: Any,
) -> ServiceSettings:
    """Settings that isolate one test: its own topics, groups and database."""
    values: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "mongo_url": mongo_url,
        "kafka_idempotent": idempotent,
        "topic_prefix": f"{namespace}.",
        "mongo_database": f"{namespace}_{service}",
        "auth_public_key": public_key,
        "kafka_ensure_topics": True,
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_interval_ms": 500,
        "kafka_rebalance_timeout_ms": 5000,
        "outbox_poll_interval_s": 0.2,
        "consumer_retry_backoff_s": 0.01,
        "shutdown_grace_s": 5.0,
        # privacy (issue 13): the session's master key, a key store of the test's own
        "privacy_kek": TEST_PRIVACY_KEK,
        "privacy_keys_database": f"{namespace}_keys",
        # a service's own SMTP receiver (support's) on a free port, not make run's 2525
        "smtp_receiver_port": 0,
    }
    values.update(overrides)
    return settings_for(service, **values)


@asynccontextmanager
async def run_service(
    service: str, settings: ServiceSettings, token: str | None
) -> AsyncIterator[RunningService]:
    """Start a service's app with its lifespan; an HTTP client talks to it in-process."""
    module = importlib.import_module(f"kontor_{service}.main")
    app: FastAPI = module.create_app(settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        # Tests expect a started service to consume at once: wait for the group joins
        # that the lifespan itself no longer waits for.
        await app.state.kit.consumers.wait_started(timeout=60)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{service}", headers=headers
        ) as client:
            yield RunningService(service, app, settings, client)


@dataclass
class ServedService:
    name: str
    app: FastAPI
    settings: ServiceSettings
    url: str

    @property
    def kit(self) -> Kit:
        kit: Kit = self.app.state.kit
        return kit


@asynccontextmanager
async def serve_on_socket(service: str, settings: ServiceSettings) -> AsyncIterator[ServedService]:
    """Serve a service's app with uvicorn on ``settings.http_host:http_port``, with the
    options of the real runner (proxy headers, graceful shutdown), until the block ends."""
    app: FastAPI = importlib.import_module(f"kontor_{service}.main").create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings)))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, f"uvicorn did not start {service}"
        url = f"http://{settings.http_host}:{settings.http_port}"
        yield ServedService(service, app, settings, url)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, interval: float = 0.05
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last value: {last!r}")


def not_found_without(answer: httpx.Response, asked_for: str) -> dict[str, Any]:
    """Assert ``answer`` is the kit's 404 problem+json (type ``about:blank``, title "Not
    Found") and repeats nothing of ``asked_for`` (case-insensitive, nor its local part);
    answer the problem (ADR 0139)."""
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert (problem["type"], problem["title"], problem["status"]) == (
        "about:blank",
        "Not Found",
        404,
    )
    text = answer.text.lower()
    assert asked_for.lower() not in text and asked_for.split("@")[0].lower() not in text
    return problem


async def wait_for_assignment(service: RunningService, timeout: float = 30.0) -> None:
    """Wait until every consumer of ``service`` has partitions assigned."""

    async def assigned() -> bool:
        subs = service.kit.consumers.subscribers
        return all(s.consumer is not None and s.consumer.assignment() for s in subs)

    await eventually(assigned, timeout=timeout)


async def produce(
    bootstrap: str,
    topic: str,
    messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]],
    *,
    max_request_size: int = 1_048_576,
) -> None:
    """Produce raw (key, value, headers) messages and wait for every acknowledgement.

    ``max_request_size`` above a service's limit plays a misconfigured producer.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=max_request_size
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers)
            for key, value, headers in messages
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


def as_message(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    return envelope.aggregate_id.encode(), envelope.to_bytes(), to_headers(envelope)


async def outbox_events(service: RunningService, key: str) -> list[tuple[str, dict[str, Any]]]:
    """``(type, payload)`` of the events ``service`` wrote to its outbox for ``key``, in
    order, opened with the service's keys (the rows are sealed, ADR 0036)."""
    docs = await service.kit.store.db["outbox"].find({"key": key}).sort("seq", 1).to_list(None)
    sealer = service.kit.privacy.sealer
    opened = []
    for doc in docs:
        envelope = Envelope.model_validate_json(doc["value"])
        if sealer is not None:
            envelope = await sealer.unseal(envelope)
        opened.append((envelope.type, envelope.payload))
    return opened


def topic_of(namespace: str, event_type: str) -> str:
    """The namespaced topic of ``event_type`` (its newest version's)."""
    newest = max(s.version for s in REGISTRY.all_events() if s.type == event_type)
    return f"{namespace}.{REGISTRY.spec_for(event_type, newest).topic}"


async def consume_all(
    bootstrap: str, topic: str, expected: int, timeout_ms: int = 15000
) -> list[Any]:
    """Read ``expected`` records of ``topic`` from the beginning (no group)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
    finally:
        await consumer.stop()
    return records


@pytest.fixture(scope="session")
def auth_keys() -> Keys:
    private_pem, public_pem = generate_keypair()
    return Keys(private_pem, public_pem)


def settings_on(
    infra: Any, namespace: str, keys: Keys, service: str, **overrides: Any
) -> ServiceSettings:
    """:func:`test_settings` of ``service`` on the session's broker and database (``infra``)."""
    return test_settings(
        service,
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        namespace=namespace,
        public_key=keys.public_pem,
        idempotent=infra.idempotent_producer,
        **overrides,
    )


@pytest.fixture
def start_service(infra: Any, namespace: str, auth_keys: Keys) -> Iterator[Callable[..., Any]]:
    """``async with start_service("billing", **setting_overrides) as billing: ...``"""

    def start(service: str, *, token: str | None = "all", **overrides: Any) -> Any:
        settings = settings_on(infra, namespace, auth_keys, service, **overrides)
        bearer = auth_keys.token() if token == "all" else token
        return run_service(service, settings, bearer)

    yield start


@asynccontextmanager
async def serving(app: Any, *, start_timeout_s: float = 5.0) -> AsyncIterator[str]:
    """``async with serving(starlette_app) as base_url``: a local fake of a third party's
    HTTP API (a provider, a carrier) on 127.0.0.1 and a free port, stopped on exit."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    task = asyncio.create_task(server.serve())
    for _ in range(int(start_timeout_s * 100)):  # uvicorn offers no "started" event
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise RuntimeError("the local fake server did not start")
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


def bounce_report(
    *, to: str, recipient: str, status: str = "5.1.1", action: str = "failed", headers: str = ""
) -> bytes:
    """A relay's delivery status notification (RFC 3464) to ``to`` about ``recipient``:
    ``headers`` are the returned original's (``text/rfc822-headers``)."""
    return _report(
        to,
        "delivery-status",
        "Undelivered Mail Returned to Sender",
        "message/delivery-status",
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; 550 {status} mailbox unavailable\n",
        "text/rfc822-headers",
        headers,
    )


def complaint_report(*, to: str, recipient: str, original: str = "") -> bytes:
    """A mailbox provider's complaint (ARF, RFC 5965) to ``to``: ``recipient`` pressed
    "this is spam" on ``original`` (the returned message, ``message/rfc822``)."""
    return _report(
        to,
        "feedback-report",
        "Complaint about a message",
        "message/feedback-report",
        f"Feedback-Type: abuse\nUser-Agent: Example-FBL/1.0\nVersion: 1\n"
        f"Original-Rcpt-To: <{recipient}>\n",
        "message/rfc822",
        original or f"From: shop@example.net\nTo: {recipient}\nSubject: -\n\n-\n",
    )


def _report(
    to: str, kind: str, subject: str, part_type: str, fields: str, copy_type: str, copy: str
) -> bytes:
    lines = [
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        f"To: {to}",
        f"Subject: {subject}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type={kind}; boundary="REPORT"',
        "",
        "--REPORT",
        "Content-Type: text/plain",
        "",
        "This is an automatically generated report.",
        "--REPORT",
        f"Content-Type: {part_type}",
        "",
        fields,
        "--REPORT",
        f"Content-Type: {copy_type}",
        "",
        copy,
        "--REPORT--",
        "",
    ]
    return "\r\n".join(lines).replace("\r\n", "\n").replace("\n", "\r\n").encode()


@dataclass
class HoldingRelay:
    """An SMTP relay that takes every command but never answers the end of a mail's data
    (a relay scanning content under load): a sender waits there, up to its timeout."""

    port: int
    holding: asyncio.Event
    """Set once a mail's data arrived and is held."""

    def smtp_settings(self) -> dict[str, object]:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none"}


@asynccontextmanager
async def holding_relay() -> AsyncIterator[HoldingRelay]:
    """``async with holding_relay() as relay``: a :class:`HoldingRelay` on 127.0.0.1 and
    a free port of the running loop, released and closed on exit."""
    from aiosmtpd.smtp import SMTP

    holding, release = asyncio.Event(), asyncio.Event()

    class Holder:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            holding.set()
            await release.wait()
            return "451 released"

    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Holder()), "127.0.0.1", 0)
    try:
        yield HoldingRelay(server.sockets[0].getsockname()[1], holding)
    finally:
        release.set()
        server.close()


@pytest.fixture
def mail_sink() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, a free port, collecting every message.

    Give a service ``**mail_sink.smtp_settings()`` to send its mail here; wait with
    ``mail_sink.wait_for(n)`` (or ``await mail_sink.arrived(n)``), which returns the
    parsed messages. See :class:`kontor_servicekit.mail.sink.ThreadedSink`.
    """
    from kontor_servicekit.mail.sink import ThreadedSink

    sink = ThreadedSink().start()
    try:
        yield sink
    finally:
        sink.stop()
