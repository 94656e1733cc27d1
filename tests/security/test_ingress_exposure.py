"""What the rendered overlays expose: through the ingress only each service's API routes
(and the public withdrawal page), never /docs, /openapi.json, /asyncapi.json, /metrics
or /health/*; in-cluster, only the ingress controller's and Prometheus's pods reach a
service. Before (issue 9) the ingress routed ``/`` of every host to the service."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from kontor_servicekit.service import OPERATIONS_PATHS
from kontor_servicekit.settings import settings_for

from deploy.k8s import checks, generate, validate

pytestmark = pytest.mark.security

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def rendered() -> dict[str, Docs]:
    return {overlay: validate.render_overlay(overlay) for overlay in validate.overlays()}


def routed(ingresses: list[dict[str, Any]], host: str, path: str) -> bool:
    """Whether any of the ingresses (one per service, each with its own body limit) routes
    ``path`` of ``host`` (Prefix: element-wise; Exact)."""
    rules = [rule for ingress in ingresses for rule in ingress["spec"]["rules"]]
    for rule in rules:
        if rule["host"] != host:
            continue
        for entry in rule["http"]["paths"]:
            prefix, kind = entry["path"], entry["pathType"]
            if kind == "Exact" and path == prefix:
                return True
            if kind == "Prefix" and (
                prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")
            ):
                return True
    return False


def app_paths(service: str) -> list[str]:
    """Every path the service's app serves, made concrete (parameters filled in)."""
    app = importlib.import_module(f"kontor_{service}.main").create_app(settings_for(service))
    paths = [re.sub(r"\{[^}]+\}", "x", p) for p in app.openapi()["paths"]]
    return sorted(set(paths))


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_ingress_routes_the_api_and_nothing_of_the_operations(
    overlay: str, rendered: dict[str, Docs]
) -> None:
    ingress = checks.of_kind(rendered[overlay], "Ingress")
    assert len(ingress) == len(generate.SERVICES)  # one per service
    domain = generate.OVERLAY_DOMAINS[overlay]
    exposed = hidden = 0
    for service in generate.SERVICES:
        host = f"{service}.{domain}"
        for path in [*OPERATIONS_PATHS, "/", "/docs/static/swagger-ui-bundle.js"]:
            assert not routed(ingress, host, path), (host, path)
            hidden += 1
        for path in app_paths(service):
            if path in OPERATIONS_PATHS:
                continue
            assert routed(ingress, host, path), (host, path)  # every API route reachable
            exposed += 1
    assert routed(ingress, f"orders.{domain}", "/withdrawals")  # the public form
    print(f"{overlay}: {exposed} API paths routed, {hidden} operations paths not")


def test_only_the_ingress_controller_and_prometheus_reach_a_service(
    rendered: dict[str, Docs],
) -> None:
    for overlay, docs in rendered.items():
        policies = checks.by_name(docs, "NetworkPolicy")
        for service in generate.SERVICES:
            # the API's port; support's SMTP port (mail in) admits the mail relay only
            # (deploy/k8s/tests: test_support_s_smtp_receiver_is_served_...)
            [rule] = [
                r
                for r in policies[service]["spec"]["ingress"]
                if {"protocol": "TCP", "port": generate.HTTP_PORT} in r["ports"]
            ]
            others = [r for r in policies[service]["spec"]["ingress"] if r is not rule]
            assert all(
                peer["podSelector"]["matchLabels"] == generate.MAIL_RELAY_PODS
                for r in others
                for peer in r["from"]
            ), (overlay, service)
            peers = {
                (
                    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                    tuple(sorted(peer["podSelector"]["matchLabels"].items())),
                )
                for peer in rule["from"]
            }
            assert peers == {
                (
                    generate.INGRESS_CONTROLLER_NAMESPACE,
                    tuple(sorted(generate.INGRESS_CONTROLLER_PODS.items())),
                ),
                (generate.MONITORING_NAMESPACE, tuple(sorted(generate.PROMETHEUS_PODS.items()))),
            }, (overlay, service)
            assert rule["ports"] == [{"protocol": "TCP", "port": generate.HTTP_PORT}]


def test_services_trust_forwarded_headers_from_the_ingress_range_only(
    rendered: dict[str, Docs],
) -> None:
    for docs in rendered.values():
        maps = checks.by_name(docs, "ConfigMap")
        for service in generate.SERVICES:
            data = maps[f"{service}-settings"]["data"]
            assert data["KONTOR_TRUSTED_PROXIES"] == generate.INGRESS_CONTROLLER_CIDR
