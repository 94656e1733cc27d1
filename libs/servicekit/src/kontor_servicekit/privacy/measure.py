"""What sealing costs: seals and unseals per second, and bytes added per event (ADR 0036).

``python -m kontor_servicekit.privacy.measure [--events N]`` seals the example events
of the contracts that carry personal data with an in-memory key store (keys cached, as a
service's are after the first event of a person) and prints, per event type, the
envelope's size in clear and sealed and the rates of :meth:`EnvelopeSealer.seal` and
:meth:`EnvelopeSealer.unseal`. A micro-measure of the CPU cost on this machine, not a
test: the key store round trip of a person's first event is not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from kontor_contracts.envelope import Envelope
from kontor_contracts.examples import load_example

from kontor_servicekit.privacy.keys import InMemoryKeyStore, MasterKey, Pseudonyms
from kontor_servicekit.privacy.sealing import EnvelopeSealer, fields_of

MEASURED = ("OrderPlaced", "InvoiceIssued", "CartUpdated", "TicketOpened", "PaymentOverdue")


@dataclass(frozen=True)
class Cost:
    event_type: str
    clear_bytes: int
    sealed_bytes: int
    seals_per_s: float
    unseals_per_s: float

    @property
    def added_bytes(self) -> int:
        return self.sealed_bytes - self.clear_bytes


async def measure(event_type: str, events: int) -> Cost:
    sealer = EnvelopeSealer(
        InMemoryKeyStore(MasterKey.generate()), Pseudonyms.of(MasterKey.generate())
    )
    envelope: Envelope = load_example(event_type)
    assert fields_of(envelope.type, envelope.version), f"{event_type} has no personal field"
    sealed = await sealer.seal(envelope)  # makes the key: the rest is the cached path
    started = time.perf_counter()
    for _ in range(events):
        await sealer.seal(envelope)
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(events):
        await sealer.unseal(sealed)
    unseal_s = time.perf_counter() - started
    return Cost(
        event_type,
        len(envelope.to_bytes()),
        len(sealed.to_bytes()),
        events / seal_s,
        events / unseal_s,
    )


async def measure_all(events: int) -> list[Cost]:
    return [await measure(event_type, events) for event_type in MEASURED]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    print(
        f"{'event':<16}{'clear B':>9}{'sealed B':>10}{'added B':>9}{'seals/s':>10}{'opens/s':>10}"
    )
    for cost in asyncio.run(measure_all(args.events)):
        print(
            f"{cost.event_type:<16}{cost.clear_bytes:>9}{cost.sealed_bytes:>10}"
            f"{cost.added_bytes:>9}{cost.seals_per_s:>10.0f}{cost.unseals_per_s:>10.0f}"
        )


if __name__ == "__main__":
    main()
