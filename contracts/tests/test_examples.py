"""Every registered event has a golden example that parses into its model."""

import json

import pytest
from kontor_contracts import REGISTRY, Envelope
from kontor_contracts.examples import EXAMPLES_DIR, example_path
from kontor_contracts.wire import to_headers

pytestmark = pytest.mark.unit

SPECS = REGISTRY.all_events()


def test_examples_exist_for_every_event_and_nothing_else() -> None:
    expected = {example_path(s.type, s.version).name for s in SPECS}
    assert {p.name for p in EXAMPLES_DIR.glob("*.json")} == expected


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_example_parses_into_its_model(spec) -> None:  # type: ignore[no-untyped-def]
    raw = example_path(spec.type, spec.version).read_text(encoding="utf-8")
    env = Envelope.model_validate_json(raw)
    assert (env.type, env.version) == (spec.type, spec.version)
    assert env.producer == spec.owner
    event = env.payload_model()
    assert isinstance(event, spec.model)
    # the example is complete: every field of the model is spelled out
    assert set(json.loads(raw)["payload"]) == set(spec.model.model_fields)
    # and it survives the wire unchanged
    assert Envelope.from_bytes(env.to_bytes()) == env
    assert event.model_dump(mode="json") == env.payload
    assert to_headers(env)


def test_money_in_examples_is_written_as_strings() -> None:
    def numbers_with_fraction(node: object) -> list[object]:
        if isinstance(node, dict):
            return [x for v in node.values() for x in numbers_with_fraction(v)]
        if isinstance(node, list):
            return [x for v in node for x in numbers_with_fraction(v)]
        return [node] if isinstance(node, float) else []

    for path in EXAMPLES_DIR.glob("*.json"):
        assert numbers_with_fraction(json.loads(path.read_text(encoding="utf-8"))) == [], path
