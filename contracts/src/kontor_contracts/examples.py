"""Golden examples: one realistic, complete envelope per event.

``contracts/examples/<Type>.v<version>.json``. They document the events, are parsed
by the contract tests, and make good fixtures for service tests::

    env = load_example("OrderPlaced")
    order = env.payload_model()
"""

from __future__ import annotations

from pathlib import Path

from .envelope import Envelope

__all__ = ["EXAMPLES_DIR", "example_path", "load_example"]

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def example_path(event_type: str, version: int = 1) -> Path:
    return EXAMPLES_DIR / f"{event_type}.v{version}.json"


def load_example(event_type: str, version: int = 1) -> Envelope:
    """The golden envelope of ``event_type`` (raises FileNotFoundError if there is none)."""
    return Envelope.model_validate_json(example_path(event_type, version).read_bytes())
