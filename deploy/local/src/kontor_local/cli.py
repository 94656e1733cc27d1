"""``kontor-local``: run the platform, only its infrastructure, or mint a token."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import quote_plus

from .runtime import (
    HOST,
    LocalRuntimeError,
    LocalSettings,
    Platform,
    ServiceSpec,
    check_ports_free,
    registry_topic_specs,
)


class _Stop(Exception):
    """Raised by the SIGTERM handler so that SIGTERM unwinds like Ctrl-C."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- keys


PRIVACY_KEK_FILE = "privacy-kek"


def ensure_keys(settings: LocalSettings) -> tuple[str, Path]:
    """Create the JWT key pair in ``<data>/keys`` if missing; returns (private PEM, public file).

    The services read the public key from ``KONTOR_AUTH_PUBLIC_KEY_FILE``.
    """
    from .tokens import load_or_create_keys

    private_pem, public_pem = load_or_create_keys(settings.keys_dir)
    public_file = settings.public_key_file
    if not public_file.exists():  # servicekit names it so today; keep the contract anyway
        public_file.parent.mkdir(parents=True, exist_ok=True)
        public_file.write_text(public_pem, encoding="ascii")
    # the privacy master key (issue 13, ADR 0034): made once, 0600, beside the JWT keys
    from kontor_servicekit.privacy.keys import MasterKey

    MasterKey.create_file(settings.keys_dir / PRIVACY_KEK_FILE)
    return private_pem, public_file


def mint(settings: LocalSettings, scopes: Sequence[str] | None, ttl_hours: float | None) -> str:
    """A bearer token signed with the local private key."""
    from datetime import timedelta

    from kontor_servicekit.auth import all_scopes

    from .tokens import mint_token

    private_pem, _ = ensure_keys(settings)
    chosen = list(scopes) if scopes else list(all_scopes())
    token: str
    if ttl_hours is None:
        token = mint_token(private_pem, scopes=chosen)
    else:
        token = mint_token(private_pem, scopes=chosen, ttl=timedelta(hours=ttl_hours))
    return token


# --------------------------------------------------------------------------- output


def _table(platform: Platform, specs: Sequence[ServiceSpec]) -> str:
    rows = [("service", "URL", "API docs")]
    rows += [(s.name, s.url, f"{s.url}/docs") for s in specs]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _masked(platform: Platform) -> str:
    """The database URL with its password replaced by where to find it."""
    password_file = platform.database.password_file
    if password_file is None or not password_file.exists():
        return platform.mongo_url
    password = quote_plus(password_file.read_text("ascii").strip())
    return f"{platform.mongo_url.replace(password, '***')}  (password in {password_file})"


def _infra_lines(platform: Platform) -> list[str]:
    s = platform.settings
    lines = [
        f"broker (Kafka protocol, Tansu {s.broker_storage}): {platform.kafka_bootstrap}",
        f"database (MongoDB protocol, SecantusDB):  {_masked(platform)}",
        f"data: {s.data_dir}   logs: {platform.log_dir}",
    ]
    if platform.s3 is not None:
        lines.insert(1, f"broker storage (object store): {platform.s3.endpoint}  ({s.broker_dir})")
    if platform.mail_sink is not None:
        sink = platform.mail_sink
        lines.append(f"mail sink (SMTP): {HOST}:{sink.port}  (every mail sent: {sink.directory})")
    if s.support_smtp_port and "support" in platform.services:
        lines.append(f"support's mail in (SMTP): {HOST}:{s.support_smtp_port}  (any recipient)")
    return lines


def _timings(platform: Platform) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in platform.timings.seconds.items())


def _consuming(platform: Platform) -> str:
    """When each service's consumer groups joined, and the slowest service's figures."""
    timings = platform.timings
    services = [s.name for s in platform.specs if s.name in timings.consuming]
    if not services:
        return ""
    joined = ", ".join(f"{name} {timings.consuming[name]:.2f}s" for name in services)
    slowest = max(timings.seconds[name] for name in services)
    last = max(timings.consuming[name] for name in services)
    lines = [
        f"consuming in: {joined}",
        f"services after the database and broker: every one ready in {slowest:.2f}s, "
        f"consuming in {last:.2f}s",
    ]
    zygote = platform.zygote
    if zygote is not None and zygote.import_seconds is not None:
        lines.append(
            f"(their code was imported once, in {zygote.import_seconds:.2f}s from the start, "
            "alongside the database and broker; each service is a fork of that process)"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands


def _watch(platform: Platform) -> int:
    """Block until a signal (exit 0) or until a child dies (exit 1)."""
    try:
        while True:
            dead = platform.first_dead()
            if dead is not None:
                _ignore_signals()
                _say(
                    f"\n{dead.name} exited unexpectedly (code {dead.returncode}); "
                    f"stopping the rest. Last lines of {dead.log_path}:\n{dead.log_tail()}"
                )
                return 1
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        _ignore_signals()
        _say("\nstopping: services, broker, database ...")
        return 0


def _parse_service(value: str) -> tuple[str, str]:
    name, sep, module = value.partition("=")
    if not sep or not name or not module:
        raise argparse.ArgumentTypeError("expected NAME=MODULE")
    return name, module


def cmd_run(args: argparse.Namespace, settings: LocalSettings) -> int:
    if args.service:
        specs = [
            ServiceSpec(name=name, module=module, port=settings.port_for(name, 8011 + index))
            for index, (name, module) in enumerate(args.service)
        ]
    else:
        specs = settings.service_specs()
    check_ports_free(settings.all_ports(specs))
    try:
        _, public_key_file = ensure_keys(settings)
    except ImportError as exc:
        public_key_file = settings.public_key_file
        _say(f"warning: no JWT keys ({exc}); services get {public_key_file} which is missing")
    platform = Platform(settings)
    try:
        platform.prepare_services(specs)  # imports the services' code while the infra starts
        platform.start_infra(registry_topic_specs())
        platform.start_services(specs, public_key_file)
        _say(_table(platform, specs))
        _say()
        for line in _infra_lines(platform):
            _say(line)
        _say("token: make token   (or: uv run kontor-local token)")
        _say(f"ready in: {_timings(platform)}")
        consuming = _consuming(platform)
        if consuming:
            _say(consuming)
        _say("Ctrl-C stops everything.")
        return _watch(platform)
    finally:
        _ignore_signals()
        platform.stop()
        _say("stopped.")


def cmd_infra(args: argparse.Namespace, settings: LocalSettings) -> int:
    check_ports_free(settings.infra_ports())
    platform = Platform(settings)
    try:
        platform.start_infra(registry_topic_specs())
        for line in _infra_lines(platform):
            _say(line)
        _say(f"KONTOR_KAFKA_BOOTSTRAP={platform.kafka_bootstrap}")
        _say(f"KONTOR_MONGO_URL={platform.mongo_url}")
        _say(f"ready in: {_timings(platform)}")
        _say("Ctrl-C stops both.")
        return _watch(platform)
    finally:
        _ignore_signals()
        platform.stop()
        _say("stopped.")


def cmd_token(args: argparse.Namespace, settings: LocalSettings) -> int:
    token = mint(settings, args.scope, args.ttl_hours)
    _say(f"# public key: {settings.public_key_file}")
    _say(token)  # the last line: `make token` and scripts take it with `tail -n 1`
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kontor-local",
        description="Kontor's embedded runtime: Tansu, SecantusDB and the six services.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="broker, database and all services")
    run.add_argument(
        "--service",
        action="append",
        type=_parse_service,
        metavar="NAME=MODULE",
        help="launch these services instead of the six (repeatable; for tests)",
    )
    commands.add_parser("infra", help="broker and database only; prints their addresses")
    token = commands.add_parser("token", help="print a bearer token (the last line)")
    token.add_argument("--scope", action="append", help="a scope (repeatable); default all")
    token.add_argument("--ttl-hours", type=float, default=None, help="lifetime in hours")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Ctrl-C (SIGINT) stops the runtime however it was started: a process started in the
    # background of a non-interactive shell (`nohup make run &` in a script) inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        settings = LocalSettings.from_env()
        handler = {"run": cmd_run, "infra": cmd_infra, "token": cmd_token}[args.command]
        return handler(args, settings)
    except LocalRuntimeError as exc:
        print(f"kontor-local: {exc}", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("kontor-local: interrupted during startup", file=sys.stderr, flush=True)
        return 130
    except ImportError as exc:
        print(f"kontor-local: {exc} (run make setup)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
