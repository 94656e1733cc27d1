"""``python -m kontor_servicekit.mail sink --dir .kontor/mail --port 1025``.

The local mail sink of ``make run``: one ``.eml`` file per message received. Stops on
SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from kontor_servicekit.mail.receiver import DEFAULT_MAX_BYTES
from kontor_servicekit.mail.sink import MailSink


async def _serve(directory: Path, host: str, port: int, max_bytes: int) -> None:
    sink = MailSink(directory, host=host, port=port, max_bytes=max_bytes)
    await sink.start()
    print(f"mail sink on {host}:{sink.port}, writing to {directory}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sink.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor_servicekit.mail")
    commands = parser.add_subparsers(dest="command", required=True)
    sink = commands.add_parser("sink", help="an SMTP server writing one .eml per message")
    sink.add_argument("--dir", type=Path, default=Path(".kontor/mail"))
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=1025)
    sink.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.dir, args.host, args.port, args.max_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
