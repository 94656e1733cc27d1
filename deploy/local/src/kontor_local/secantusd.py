"""SecantusDB's daemon with a transaction lifetime limit: ``python -m kontor_local.secantusd``.

A transaction left open by a process killed in the middle of it holds its documents
until the server aborts it after its transaction lifetime limit: 60 s by default on
SecantusDB as on MongoDB (``transactionLifetimeLimitSeconds``). Every other
transaction writing one of those documents (billing's invoice counter) gets a write
conflict until then.

MongoDB sets the limit with ``--setParameter transactionLifetimeLimitSeconds=N``.
SecantusDB 0.7.0b3 has it only as the ``transaction_lifetime_seconds`` argument of its
server class: its command line, its ``secantusd.toml`` and ``setParameter`` do not
offer it. This wrapper accepts ``--transaction-lifetime-seconds N`` and runs
SecantusDB's own command line (every other flag unchanged) with the server class
bound to that argument. It belongs to the embedded runtime only: services never
import it, and the same limit is a ``setParameter`` of MongoDB in k8s.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import sys
from collections.abc import Sequence

LIFETIME_ARGUMENT = "transaction_lifetime_seconds"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--transaction-lifetime-seconds", type=float, default=None)
    ours, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))

    from secantus import cli

    lifetime = ours.transaction_lifetime_seconds
    if lifetime is not None:
        if lifetime <= 0:
            print("kontor_local.secantusd: the transaction lifetime must be > 0 s", file=sys.stderr)
            return 2
        server_class = cli.SecantusDBServer
        if LIFETIME_ARGUMENT not in inspect.signature(server_class).parameters:
            print(
                f"kontor_local.secantusd: this SecantusDB's server has no {LIFETIME_ARGUMENT} "
                "argument; check the installed version (see docs/adr/0010)",
                file=sys.stderr,
            )
            return 2
        cli.SecantusDBServer = functools.partial(server_class, **{LIFETIME_ARGUMENT: lifetime})
    exit_code: int = cli.main(rest)
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
