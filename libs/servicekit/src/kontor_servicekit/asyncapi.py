"""AsyncAPI 3.0 documents generated from the contracts and a service's subscriptions.

FastStream documents what a handler's signature decodes; Kontor's consumers take
the raw record (so an undecodable message can be dead-lettered instead of
crashing the handler), so that document would show no payloads. The contract
registry and the service's own subscription objects are the source of truth for
both the wiring and this document (ADR 0007).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.registry import REGISTRY, dead_letter_topic

if TYPE_CHECKING:
    from kontor_servicekit.service import ServiceDefinition


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_")


def asyncapi_document(definition: ServiceDefinition) -> dict[str, Any]:
    from kontor_servicekit.service import consumes, publishes

    service = definition.name
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": Envelope.model_json_schema(mode="serialization")}

    def add_channel(topic: str) -> None:
        refs = {}
        for spec in REGISTRY.events_on(topic):
            message_id = f"{spec.type}.v{spec.version}"
            schema_id = f"{spec.type}V{spec.version}"
            schemas[schema_id] = spec.model.model_json_schema(
                mode="serialization",
                ref_template=f"#/components/schemas/{schema_id}/$defs/{{model}}",
            )
            messages[message_id] = {
                "name": spec.type,
                "title": f"{spec.type} v{spec.version}",
                "contentType": "application/json",
                "summary": (spec.model.__doc__ or "").strip().split("\n")[0],
                "headers": {
                    "type": "object",
                    "properties": {
                        "ce_id": {"type": "string"},
                        "ce_type": {"type": "string"},
                        "ce_source": {"type": "string"},
                        "ce_time": {"type": "string"},
                        "ce_subject": {"type": "string"},
                        "traceparent": {"type": "string"},
                    },
                },
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Envelope"},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": spec.type},
                                "version": {"const": spec.version},
                                "payload": {"$ref": f"#/components/schemas/{schema_id}"},
                            },
                        },
                    ]
                },
                "bindings": {"kafka": {"key": {"type": "string", "description": "aggregate id"}}},
            }
            refs[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[_channel_id(topic)] = {
            "address": topic,
            "messages": refs,
            "bindings": {"kafka": {"topic": topic, "partitions": REGISTRY.topic(topic).partitions}},
        }

    for topic in publishes(service):
        add_channel(topic)
        channel = _channel_id(topic)
        operations[f"send_{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{service} publishes through its outbox",
        }
    for subscription in definition.subscriptions:
        group = subscription.group(service)
        for topic in subscription.topics():
            if _channel_id(topic) not in channels:
                add_channel(topic)
            channel = _channel_id(topic)
            handled = [
                {"$ref": f"#/channels/{channel}/messages/{REGISTRY.spec_of(m).type}.v1"}
                for m in subscription.handlers
                if REGISTRY.topic_of(m) == topic
            ]
            operations[f"receive_{group.replace('.', '_')}_{channel}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": subscription.description or f"consumer group {group}",
                "messages": handled,
                "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]}}},
            }
        dlt = dead_letter_topic(group)
        channels[_channel_id(dlt)] = {
            "address": dlt,
            "description": f"messages {group} could not handle, with the error in headers",
            "bindings": {"kafka": {"topic": dlt, "partitions": 1}},
        }
        operations[f"send_{_channel_id(dlt)}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_channel_id(dlt)}"},
            "summary": "dead letters",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"Kontor {service}",
            "version": definition.version,
            "description": definition.description,
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "the service's KONTOR_KAFKA_BOOTSTRAP",
                "variables": {"bootstrap": {"default": "127.0.0.1:9092"}},
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items())), "schemas": schemas},
        "x-kontor-consumes": consumes(definition),
        "x-kontor-publishes": publishes(service),
    }


def render(definition: ServiceDefinition) -> str:
    return json.dumps(asyncapi_document(definition), indent=2, sort_keys=True) + "\n"


def _definition_of(service: str) -> ServiceDefinition:
    import importlib

    from kontor_servicekit.settings import settings_for

    main = importlib.import_module(f"kontor_{service}.main")
    definition: ServiceDefinition = main.definition(settings_for(service))
    return definition


def document_path(service: str, root: Path) -> Path:
    return root / "services" / service / "asyncapi.json"


def sync_documents(root: Path, *, check: bool) -> list[str]:
    """Write (or, with ``check``, compare) every service's committed AsyncAPI document.

    Returns the services whose committed document is stale or missing.
    """
    from kontor_contracts.registry import SERVICES

    stale: list[str] = []
    for service in SERVICES:
        path = document_path(service, root)
        rendered = render(_definition_of(service))
        if path.exists() and path.read_text() == rendered:
            continue
        stale.append(service)
        if not check:
            path.write_text(rendered)
    return stale


def main(argv: list[str] | None = None) -> int:
    """``python -m kontor_servicekit.asyncapi write|check [--root DIR]``"""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    stale = sync_documents(args.root, check=args.action == "check")
    if args.action == "check" and stale:
        print(f"stale AsyncAPI documents: {', '.join(stale)}; run `make asyncapi`")
        return 1
    print("written: " + ", ".join(stale) if stale else "AsyncAPI documents are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
