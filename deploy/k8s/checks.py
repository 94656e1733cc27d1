"""Checks of rendered manifests against what the code says (used by deploy/k8s/tests).

Each function returns a list of readable problems, empty when all is well, so a
test can both assert a clean overlay and prove, with a broken manifest, that the
check reports what it should.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kontor_contracts.registry import REGISTRY
from kontor_servicekit.privacy.keys import MasterKey

from deploy.k8s.generate import (
    DLT_PARTITIONS,
    DLT_RETENTION_MS,
    KEY_ERASERS,
    KEY_STORE,
    KEY_STORE_COLLECTION,
    KEY_STORE_DATABASE,
    PRIVACY_KEK_SECRET,
    PRIVACY_KEK_SECRET_KEY,
    SERIAL_MAX_REPLICAS,
    ServiceFacts,
)

Manifest = dict[str, Any]

DEFAULT_SHUTDOWN_GRACE_S = 20.0
"""ServiceSettings.shutdown_grace_s when KONTOR_SHUTDOWN_GRACE_S is not set."""


def of_kind(docs: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [d for d in docs if d.get("kind") == kind]


def name_of(doc: Manifest) -> str:
    return str((doc.get("metadata") or {}).get("name"))


def by_name(docs: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    return {name_of(d): d for d in of_kind(docs, kind)}


# --------------------------------------------------------------------------- topics


def topics_by_name(docs: Iterable[Manifest]) -> dict[str, Manifest]:
    return {str(d["spec"].get("topicName") or name_of(d)): d for d in of_kind(docs, "KafkaTopic")}


def topic_problems(
    docs: list[Manifest],
    facts: list[ServiceFacts],
    *,
    replicas: int = 3,
    min_insync: int = 2,
) -> list[str]:
    """Every contract topic and every DLT declared as a KafkaTopic, with the right
    partitions, replication, min ISR and retention; and no topic nobody declared."""
    declared = topics_by_name(docs)
    problems: list[str] = []
    expected: dict[str, tuple[int, int, str]] = {}
    for spec in REGISTRY.topics():
        policy = "compact" if spec.compacted else "delete"
        expected[spec.name] = (spec.partitions, spec.retention_ms, policy)
    for f in facts:
        for dlt in f.dead_letters:
            expected[dlt] = (DLT_PARTITIONS, DLT_RETENTION_MS, "delete")
    for name, (partitions, retention, policy) in sorted(expected.items()):
        doc = declared.get(name)
        if doc is None:
            problems.append(f"topic {name}: no KafkaTopic")
            continue
        spec = doc["spec"]
        config = spec.get("config") or {}
        if spec.get("partitions") != partitions:
            problems.append(f"topic {name}: partitions {spec.get('partitions')} != {partitions}")
        if spec.get("replicas") != replicas:
            problems.append(f"topic {name}: replicas {spec.get('replicas')} != {replicas}")
        if int(config.get("min.insync.replicas", 1)) != min_insync:
            problems.append(
                f"topic {name}: min.insync.replicas {config.get('min.insync.replicas')}"
                f" != {min_insync}"
            )
        if int(config.get("retention.ms", 0)) != retention:
            problems.append(
                f"topic {name}: retention.ms {config.get('retention.ms')} != {retention}"
            )
        if config.get("cleanup.policy", "delete") != policy:
            problems.append(
                f"topic {name}: cleanup.policy {config.get('cleanup.policy')} != {policy}"
            )
    for name in sorted(set(declared) - set(expected)):
        problems.append(
            f"topic {name}: KafkaTopic for a topic neither the contracts nor a DLT name"
        )
    return problems


def replication_problems(docs: list[Manifest]) -> list[str]:
    """Within one overlay: no topic needs more replicas than there are brokers."""
    brokers = sum(
        int(p["spec"]["replicas"])
        for p in of_kind(docs, "KafkaNodePool")
        if "broker" in p["spec"].get("roles", [])
    )
    problems = []
    for name, doc in sorted(topics_by_name(docs).items()):
        replicas = int(doc["spec"].get("replicas", 1))
        min_isr = int((doc["spec"].get("config") or {}).get("min.insync.replicas", 1))
        if replicas > brokers:
            problems.append(f"topic {name}: {replicas} replicas but {brokers} broker(s)")
        if min_isr > replicas:
            problems.append(f"topic {name}: min.insync.replicas {min_isr} > replicas {replicas}")
    return problems


# --------------------------------------------------------------------------- ACLs


def _grants(user: Manifest) -> list[tuple[str, str, str, set[str]]]:
    """(resource type, name, pattern type, operations) of the user's allow ACLs."""
    spec = user.get("spec") or {}
    acls = ((spec.get("authorization") or {}).get("acls")) or []
    grants = []
    for acl in acls:
        if acl.get("type", "allow") != "allow":
            continue
        resource = acl.get("resource") or {}
        operations = set(acl.get("operations") or [])
        if acl.get("operation"):
            operations.add(acl["operation"])
        grants.append(
            (
                str(resource.get("type")),
                str(resource.get("name", "*")),
                str(resource.get("patternType", "literal")),
                operations,
            )
        )
    return grants


def _matches(name: str, pattern: str, candidate: str) -> bool:
    if pattern == "prefix":
        return candidate.startswith(name)
    return name in ("*", candidate)


def allows(user: Manifest, resource_type: str, name: str, operation: str) -> bool:
    return any(
        kind == resource_type
        and _matches(pattern_name, pattern, name)
        and (operation in ops or "All" in ops)
        for kind, pattern_name, pattern, ops in _grants(user)
    )


def acl_problems(facts: ServiceFacts, user: Manifest | None) -> list[str]:
    """The user may do exactly what the service's code does: write its own topics and
    DLTs, read what it consumes, read with its own groups; no write anywhere else."""
    who = f"KafkaUser {facts.kafka_user}"
    if user is None:
        return [f"{who}: missing"]
    problems: list[str] = []
    for topic in facts.publishes + facts.dead_letters:
        for op in ("Write", "Describe"):
            if not allows(user, "topic", topic, op):
                problems.append(f"{who}: no {op} on topic {topic} (it publishes there)")
    for topic in facts.consumes:
        for op in ("Read", "Describe"):
            if not allows(user, "topic", topic, op):
                problems.append(f"{who}: no {op} on topic {topic} (it consumes it)")
    for group in facts.groups:
        if not allows(user, "group", group, "Read"):
            problems.append(f"{who}: no Read on consumer group {group}")
    writable = set(facts.publishes) | set(facts.dead_letters)
    readable = set(facts.consumes)
    for kind, name, pattern, ops in _grants(user):
        if kind == "topic":
            if pattern != "literal" or name == "*":
                problems.append(f"{who}: {pattern} topic ACL {name!r} may match other owners")
                continue
            if name not in writable | readable:
                problems.append(f"{who}: {sorted(ops)} on topic {name} it neither owns nor reads")
            elif name not in writable and ops & {"Write", "All", "Create", "Delete", "Alter"}:
                problems.append(f"{who}: may write topic {name} of another owner")
        elif kind == "group":
            own = pattern == "prefix" and name == f"{facts.name}."
            if not own and not (pattern == "literal" and name in facts.groups):
                problems.append(f"{who}: group ACL {pattern} {name!r} is not its own")
        else:
            problems.append(f"{who}: {kind} ACL {name!r} {sorted(ops)} is not needed")
    return problems


# --------------------------------------------------------------------------- scaling


def _target(doc: Manifest) -> str:
    return str(doc["spec"]["scaleTargetRef"]["name"])


def scaling_problems(docs: list[Manifest], facts: list[ServiceFacts]) -> list[str]:
    """Consumers scale with KEDA on lag (one trigger per group and topic) and CPU, no
    further than the partitions they read; the others with an HPA on CPU; never both."""
    problems: list[str] = []
    scaled = of_kind(docs, "ScaledObject")
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    partitions = {n: int(d["spec"]["partitions"]) for n, d in topics_by_name(docs).items()}
    auths = by_name(docs, "TriggerAuthentication")
    deployments = by_name(docs, "Deployment")
    keda_targets = [_target(s) for s in scaled]
    hpa_targets = [_target(h) for h in hpas]
    for name in sorted(set(keda_targets) & set(hpa_targets)):
        problems.append(f"Deployment {name}: has both a ScaledObject and an HPA")
    for name in sorted(
        {t for t in keda_targets + hpa_targets if (keda_targets + hpa_targets).count(t) > 1}
    ):
        problems.append(f"Deployment {name}: more than one autoscaler")
    for name in sorted(set(keda_targets + hpa_targets) - set(deployments)):
        problems.append(f"autoscaler targets {name}, which is not a Deployment here")
    for f in facts:
        mine = [s for s in scaled if _target(s) == f.name]
        if not f.groups:
            if mine:
                problems.append(f"{f.name}: consumes nothing but has a ScaledObject")
            hpa = [h for h in hpas if _target(h) == f.name]
            if not hpa:
                problems.append(f"{f.name}: consumes nothing and has no CPU HPA")
            elif not any(
                m.get("resource", {}).get("name") == "cpu"
                for m in hpa[0]["spec"].get("metrics", [])
            ):
                problems.append(f"{f.name}: its HPA does not scale on CPU")
            continue
        if not mine:
            problems.append(f"{f.name}: consumes {f.consumes} but has no ScaledObject")
            continue
        spec = mine[0]["spec"]
        triggers = spec.get("triggers", [])
        kafka = [t for t in triggers if t.get("type") == "kafka"]
        for group, topics in sorted(f.groups.items()):
            for topic in topics:
                covered = any(
                    t["metadata"].get("consumerGroup") == group
                    and t["metadata"].get("topic", topic) == topic
                    for t in kafka
                )
                if not covered:
                    problems.append(f"{f.name}: no lag trigger for group {group} on {topic}")
        for t in kafka:
            group = t["metadata"].get("consumerGroup")
            if group not in f.groups:
                problems.append(f"{f.name}: lag trigger for group {group} it does not have")
            ref = (t.get("authenticationRef") or {}).get("name")
            if ref is not None and ref not in auths:
                problems.append(f"{f.name}: trigger authentication {ref} is not defined")
        if not any(t.get("type") == "cpu" for t in triggers):
            problems.append(f"{f.name}: ScaledObject has no CPU trigger")
        limit = min(partitions.get(t, 0) for t in f.consumes)
        maximum = int(spec.get("maxReplicaCount", 100))
        if maximum > limit:
            problems.append(
                f"{f.name}: maxReplicaCount {maximum} > {limit} partitions of {f.consumes}"
            )
        serial = SERIAL_MAX_REPLICAS.get(f.name)
        if serial is not None and maximum > serial:
            problems.append(
                f"{f.name}: maxReplicaCount {maximum} > {serial}: its replicas share one "
                "serial point (ADR 0125)"
            )
        if int(spec.get("minReplicaCount", 0)) > maximum:
            problems.append(f"{f.name}: minReplicaCount > maxReplicaCount")
    return problems


# --------------------------------------------------------------------------- pods


def _env_value(docs: list[Manifest], container: Manifest, names: Iterable[str]) -> str | None:
    """A variable's value from the container's env or the ConfigMaps it loads."""
    wanted = list(names)
    configmaps = by_name(docs, "ConfigMap")
    found: str | None = None
    for source in container.get("envFrom", []):
        ref = str((source.get("configMapRef") or {}).get("name"))
        data = (configmaps.get(ref) or {}).get("data") or {}
        for name in wanted:
            if name in data:
                found = data[name]
    for var in container.get("env", []):
        if var.get("name") in wanted and "value" in var:
            found = var["value"]
    return found


def pod_problems(docs: list[Manifest], service: str) -> list[str]:
    """Probes, graceful shutdown, resources and a locked-down security context."""
    deployment = by_name(docs, "Deployment").get(service)
    if deployment is None:
        return [f"{service}: no Deployment"]
    problems: list[str] = []
    pod = deployment["spec"]["template"]["spec"]
    containers = [c for c in pod.get("containers", []) if c.get("name") == service]
    if not containers:
        return [f"{service}: no container named {service}"]
    c = containers[0]
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            problems.append(f"{service}: {probe} is {got!r}, not GET {path}")
    grace_text = _env_value(
        docs, c, ["KONTOR_SHUTDOWN_GRACE_S", f"KONTOR_{service.upper()}_SHUTDOWN_GRACE_S"]
    )
    grace = float(grace_text) if grace_text is not None else DEFAULT_SHUTDOWN_GRACE_S
    pre_stop = (c.get("lifecycle") or {}).get("preStop") or {}
    sleep = float((pre_stop.get("sleep") or {}).get("seconds", 0))
    if sleep <= 0:
        problems.append(f"{service}: no preStop sleep")
    termination = float(pod.get("terminationGracePeriodSeconds", 30))
    # uvicorn drains HTTP for up to `grace`, then the lifespan drains the outbox for up
    # to `grace` again: both must fit after the preStop sleep.
    if termination <= sleep + 2 * grace:
        problems.append(
            f"{service}: terminationGracePeriodSeconds {termination:g} <= preStop {sleep:g}"
            f" + 2 x shutdown grace {grace:g}"
        )
    resources = c.get("resources") or {}
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if res not in (resources.get(kind) or {}):
                problems.append(f"{service}: no {res} {kind}")
    sc = c.get("securityContext") or {}
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{service}: root filesystem is writable")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{service}: privilege escalation not disabled")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problems.append(f"{service}: capabilities not dropped")
    if not (sc.get("runAsNonRoot") or (pod.get("securityContext") or {}).get("runAsNonRoot")):
        problems.append(f"{service}: may run as root")
    tmp = [m for m in c.get("volumeMounts", []) if m.get("mountPath") == "/tmp"]
    if not tmp:
        problems.append(f"{service}: no writable /tmp")
    if not ((pod.get("affinity") or {}).get("podAntiAffinity")):
        problems.append(f"{service}: no pod anti-affinity")
    for var in c.get("env", []):
        secretish = any(
            w in var.get("name", "") for w in ("PASSWORD", "MONGO_URL", "SECRET", "KEK")
        )
        if secretish and "value" in var:
            problems.append(f"{service}: {var['name']} is a literal, not a Secret reference")
    return problems


# --------------------------------------------------------------------------- secrets


def literal_secret_problems(docs: Iterable[Manifest], where: str) -> list[str]:
    """A Secret with data in a manifest is a credential in the repository."""
    problems = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Secret":
            if doc.get("data") or doc.get("stringData"):
                problems.append(f"{where}: Secret {name_of(doc)} carries literal data")
            else:
                problems.append(f"{where}: Secret {name_of(doc)} is defined in the repository")
    return problems


def yaml_files(root: Path) -> Iterable[tuple[str, list[Any]]]:
    """(path relative to ``root``, its documents) of every readable YAML file below it."""
    for path in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        yield str(path.relative_to(root)), docs


def secret_files_problems(root: Path) -> list[str]:
    return [p for rel, docs in yaml_files(root) for p in literal_secret_problems(docs, rel)]


# --------------------------------------------------------------------------- privacy keys

KEK_ENV = "KONTOR_PRIVACY_KEK"
KEK_FILE_ENV = "KONTOR_PRIVACY_KEK_FILE"
KEYS_URL_ENV = "KONTOR_PRIVACY_KEYS_MONGO_URL"
_BASE64_KEY = re.compile(r"^[A-Za-z0-9+/_-]{43}=?$")
_BASE64_WORD = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{43}=?(?![A-Za-z0-9+/_=-])")


def pod_templates(doc: Manifest) -> list[Manifest]:
    """The pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob)."""
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = (spec.get("template") or {}).get("spec")
    return [template] if isinstance(template, dict) else []


def service_of_image(image: str, services: Iterable[str]) -> str | None:
    """``kontor/orders:1.0`` or ``registry.example/kontor/orders@sha256:...`` -> orders."""
    path = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image
    for service in services:
        if path == f"kontor/{service}" or path.endswith(f"/kontor/{service}"):
            return service
    return None


def _secret_ref(container: Manifest, name: str) -> Manifest | None:
    for var in container.get("env", []):
        if var.get("name") == name:
            return (var.get("valueFrom") or {}).get("secretKeyRef") or {"literal": True}
    return None


def key_store_users(docs: Iterable[Manifest]) -> dict[str, Manifest]:
    """The key store's users by name ({} without a key store replica set)."""
    store = by_name(docs, "MongoDBCommunity").get(KEY_STORE)
    return {u["name"]: u for u in ((store or {}).get("spec") or {}).get("users", [])}


def privacy_key_problems(docs: list[Manifest], facts: list[ServiceFacts]) -> list[str]:
    """Every container that runs a service's image (Deployments, Jobs, CronJobs, ...) gets
    the master key from the master key Secret, required, and the key store's address from
    the connection Secret of that service's own user of the key store replica set."""
    problems: list[str] = []
    names = [f.name for f in facts]
    users = key_store_users(docs)
    running: set[str] = set()
    for doc in docs:
        for pod in pod_templates(doc):
            for c in [*pod.get("initContainers", []), *pod.get("containers", [])]:
                service = service_of_image(str(c.get("image", "")), names)
                if service is None:
                    continue
                running.add(service)
                where = f"{doc.get('kind')}/{name_of(doc)} container {c.get('name')}"
                kek = _secret_ref(c, KEK_ENV)
                if kek is None:
                    problems.append(f"{where}: no {KEK_ENV}")
                elif kek.get("literal"):
                    problems.append(f"{where}: {KEK_ENV} is a literal, not a Secret reference")
                else:
                    if (kek.get("name"), kek.get("key")) != (
                        PRIVACY_KEK_SECRET,
                        PRIVACY_KEK_SECRET_KEY,
                    ):
                        problems.append(
                            f"{where}: {KEK_ENV} from {kek.get('name')}/{kek.get('key')}, not "
                            f"{PRIVACY_KEK_SECRET}/{PRIVACY_KEK_SECRET_KEY}"
                        )
                    if kek.get("optional"):
                        problems.append(f"{where}: {KEK_ENV} is optional (nothing would be sealed)")
                if any(v.get("name") == KEK_FILE_ENV for v in c.get("env", [])):
                    problems.append(f"{where}: {KEK_FILE_ENV} beside {KEK_ENV}")
                url = _secret_ref(c, KEYS_URL_ENV)
                user = users.get(service)
                if url is None:
                    problems.append(f"{where}: no {KEYS_URL_ENV}")
                elif url.get("literal"):
                    problems.append(f"{where}: {KEYS_URL_ENV} is a literal, not a Secret reference")
                elif user is None:
                    problems.append(f"{where}: the key store has no user {service}")
                elif url.get("name") != user.get("connectionStringSecretName") or url.get(
                    "optional"
                ):
                    problems.append(
                        f"{where}: {KEYS_URL_ENV} from {url.get('name')}, not the key store "
                        f"user's {user.get('connectionStringSecretName')} (required)"
                    )
    for service in sorted(set(names) - running):
        problems.append(f"{service}: no workload runs its image")
    return problems


def key_store_problems(docs: list[Manifest], facts: list[ServiceFacts]) -> list[str]:
    """The key store is a replica set of its own with one user per service, each with
    only the key store's custom roles; only ``KEY_ERASERS`` may delete keys."""
    store = by_name(docs, "MongoDBCommunity").get(KEY_STORE)
    if store is None:
        return [f"MongoDBCommunity {KEY_STORE}: missing (the key store's own replica set)"]
    problems: list[str] = []
    spec = store.get("spec") or {}
    custom = {r["role"]: r for r in (spec.get("security") or {}).get("roles", [])}
    for role in custom.values():
        for privilege in role.get("privileges", []):
            resource = privilege.get("resource") or {}
            if resource != {"db": KEY_STORE_DATABASE, "collection": KEY_STORE_COLLECTION}:
                problems.append(f"{KEY_STORE}: role {role['role']} reaches beyond data_keys")
        if role.get("roles"):
            problems.append(f"{KEY_STORE}: role {role['role']} inherits {role['roles']}")
    users = key_store_users(docs)
    for f in facts:
        user = users.get(f.name)
        if user is None:
            problems.append(f"{KEY_STORE}: no user {f.name}")
            continue
        actions: set[str] = set()
        for grant in user.get("roles", []):
            role = custom.get(grant.get("name")) if grant.get("db") == "admin" else None
            if role is None:
                problems.append(f"{KEY_STORE}: user {f.name} has role {grant} (not a key role)")
                continue
            for privilege in role.get("privileges", []):
                actions |= set(privilege.get("actions", []))
        for needed in ("find", "insert"):
            if needed not in actions:
                problems.append(f"{KEY_STORE}: user {f.name} may not {needed} keys")
        if ("remove" in actions) != (f.name in KEY_ERASERS):
            may = "may" if "remove" in actions else "may not"
            problems.append(f"{KEY_STORE}: user {f.name} {may} delete keys")
        extra = actions - {"find", "insert", "createCollection", "remove"}
        if extra:
            problems.append(f"{KEY_STORE}: user {f.name} may {sorted(extra)}")
    service_sets = {f.mongo for f in facts}
    for name, mongo in by_name(docs, "MongoDBCommunity").items():
        if name in service_sets:
            for user in (mongo.get("spec") or {}).get("users", []):
                for grant in user.get("roles", []):
                    if grant.get("db") == KEY_STORE_DATABASE:
                        problems.append(f"{name}: user {user['name']} has a role on the keys")
    return problems


def _strings(node: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}/{i}")
    elif isinstance(node, str):
        yield path, node


def looks_like_a_key(text: str) -> bool:
    """Base64 of exactly 32 bytes: what the kit takes as a master key (and what
    ``openssl rand -base64 32`` prints). Random bytes in base64 have upper and lower case
    letters (all but about 1 in 5 billion keys); names such as a trigger's
    ``lag-support-privacy-...`` of the same length do not."""
    candidate = text.strip()
    if not _BASE64_KEY.match(candidate) or candidate.lower() == candidate:
        return False
    if candidate.upper() == candidate:
        return False
    try:
        MasterKey.from_text(candidate)
    except ValueError:
        return False
    return True


def key_material_problems(docs: Iterable[Manifest], where: str) -> list[str]:
    """No master key (nor anything shaped like one) in a manifest, and no KEK variable
    with a literal value or a KEK in a ConfigMap."""
    problems: list[str] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        what = f"{where}: {doc.get('kind')}/{name_of(doc)}"
        for path, text in _strings(doc):
            if any(looks_like_a_key(m.group(0)) for m in _BASE64_WORD.finditer(text)):
                problems.append(f"{what}: {path} holds key material")
        if doc.get("kind") == "ConfigMap":
            for key in (doc.get("data") or {}) | (doc.get("binaryData") or {}):
                if "KEK" in key.upper():
                    problems.append(f"{what}: the master key {key} in a ConfigMap")
        for pod in pod_templates(doc):
            for c in [*pod.get("initContainers", []), *pod.get("containers", [])]:
                for var in c.get("env", []):
                    if "KEK" in str(var.get("name", "")).upper() and "value" in var:
                        problems.append(f"{what}: {var['name']} has a literal value")
    return problems


def key_material_files_problems(root: Path) -> list[str]:
    """Every YAML file under ``root`` (hand-written or generated)."""
    return [p for rel, docs in yaml_files(root) for p in key_material_problems(docs, rel)]


def key_destroyers(services_dir: Path, services: Iterable[str]) -> list[str]:
    """The services whose own code calls ``<key store>.destroy(...)``."""
    found = []
    for service in services:
        for path in (services_dir / service / "src").rglob("*.py"):
            tree = ast.parse(path.read_text())
            if any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "destroy"
                for node in ast.walk(tree)
            ):
                found.append(service)
                break
    return sorted(found)


# --------------------------------------------------------------------------- databases' network

DEFAULT_MONGO_PORT = 27017
"""The operator's ``automationconfig.DefaultDBPort``: mongod's port unless
``additionalMongodConfig`` sets ``net.port``."""


@dataclass
class Pod:
    """A pod of a rendered overlay, as a NetworkPolicy sees it: its namespace and labels."""

    workload: str
    """``Deployment/orders``, ``MongoDBCommunity/catalog-mongo``, ..."""
    namespace: str | None
    labels: dict[str, str]
    service: str | None = None
    """The Kontor service whose image one of its containers runs, if any."""


def replica_set_pod_labels(mongo: Manifest) -> dict[str, str]:
    """The labels the MongoDB Community operator gives a MongoDBCommunity's pods (members
    and arbiters alike), read from its resource as the operator does: ``app`` is the name
    of its headless Service (``spec.statefulSet.spec.serviceName``, else ``<name>-svc``),
    and the labels of ``spec.statefulSet.spec.template.metadata`` are merged in. The
    resource's own ``metadata.labels`` are not copied to the pods (mongodb-kubernetes-operator
    ``controllers/construct/mongodbstatefulset.go``, ``api/v1.MongoDBCommunity.ServiceName``,
    ``controllers/replica_set_controller.go``)."""
    sts = ((mongo.get("spec") or {}).get("statefulSet") or {}).get("spec") or {}
    service_name = sts.get("serviceName") or f"{name_of(mongo)}-svc"
    template_labels = ((sts.get("template") or {}).get("metadata") or {}).get("labels") or {}
    return {**template_labels, "app": str(service_name)}


def mongo_port(mongo: Manifest) -> int:
    """The members' mongod port: ``net.port`` of ``additionalMongodConfig`` (nested or
    dotted, as the operator merges it), else 27017."""
    config = (mongo.get("spec") or {}).get("additionalMongodConfig") or {}
    port = config.get("net.port", (config.get("net") or {}).get("port", DEFAULT_MONGO_PORT))
    return int(port)


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


def pods_of(docs: Iterable[Manifest], services: Iterable[str]) -> list[Pod]:
    """Every pod the overlay makes: the workloads' pod templates and the replica sets'
    members (which the operator's StatefulSets make; they are not in the overlay)."""
    names = list(services)
    pods: list[Pod] = []
    for doc in docs:
        where = f"{doc.get('kind')}/{name_of(doc)}"
        namespace = (doc.get("metadata") or {}).get("namespace")
        if doc.get("kind") == "MongoDBCommunity":
            pods.append(Pod(where, namespace, replica_set_pod_labels(doc)))
            continue
        spec = doc.get("spec") or {}
        if doc.get("kind") == "CronJob":
            spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        template = spec.get("template")
        if doc.get("kind") not in WORKLOADS or not isinstance(template, dict):
            continue
        containers = (template.get("spec") or {}).get("containers", [])
        images = [service_of_image(str(c.get("image", "")), names) for c in containers]
        service = next((s for s in images if s is not None), None)
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        pods.append(Pod(where, namespace, labels, service))
    return pods


def selects(selector: Manifest | None, labels: dict[str, str]) -> bool:
    """A label selector (``matchLabels``, ``matchExpressions``) matches these labels;
    the empty selector matches every pod."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _namespace_labels(namespace: str | None) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace} if namespace else {}


def ingress_policies(docs: Iterable[Manifest], target: Pod) -> list[Manifest]:
    """The NetworkPolicies that isolate this pod for ingress (its namespace, its labels,
    ``Ingress`` in their policyTypes, which is the default)."""
    found = []
    for policy in of_kind(docs, "NetworkPolicy"):
        spec = policy.get("spec") or {}
        if (policy.get("metadata") or {}).get("namespace") != target.namespace:
            continue
        if "Ingress" not in spec.get("policyTypes", ["Ingress"]):
            continue
        if selects(spec.get("podSelector"), target.labels):
            found.append(policy)
    return found


def _peer_admits(peer: Manifest, policy_namespace: str | None, source: Pod) -> bool:
    if "ipBlock" in peer:
        return True  # an address range: it may hold any pod's address
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], _namespace_labels(source.namespace)):
            return False
    elif source.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector"), source.labels)


def _port_admits(entry: Manifest, port: int, protocol: str) -> bool:
    if entry.get("protocol", "TCP") != protocol:
        return False
    first = entry.get("port")
    if first is None or isinstance(first, str):
        return True  # every port, or a named one (assumed to be this one)
    last = entry.get("endPort")
    return int(first) <= port <= int(first if last is None else last)


def ingress_admits(
    docs: Iterable[Manifest], target: Pod, source: Pod, port: int, protocol: str = "TCP"
) -> bool:
    """The NetworkPolicies of the overlay let ``source`` connect to ``target`` on this
    port: no policy isolates the target, or a rule of one of them admits the source."""
    policies = ingress_policies(docs, target)
    if not policies:
        return True
    for policy in policies:
        namespace = (policy.get("metadata") or {}).get("namespace")
        for rule in (policy.get("spec") or {}).get("ingress") or []:
            peers = rule.get("from") or []
            ports = rule.get("ports") or []
            if peers and not any(_peer_admits(p, namespace, source) for p in peers):
                continue
            if ports and not any(_port_admits(p, port, protocol) for p in ports):
                continue
            return True
    return False


def database_access_problems(docs: list[Manifest], facts: list[ServiceFacts]) -> list[str]:
    """Every replica set's pods are isolated by a NetworkPolicy that admits on mongod's
    port only its own members and the pods that run its service's code (the key store's:
    every service's), and nothing on any other port (ADR 0147)."""
    names = [f.name for f in facts]
    pods = pods_of(docs, names)
    problems: list[str] = []
    for mongo in of_kind(docs, "MongoDBCommunity"):
        name = name_of(mongo)
        (target,) = [p for p in pods if p.workload == f"MongoDBCommunity/{name}"]
        port = mongo_port(mongo)
        policies = ingress_policies(docs, target)
        if not policies:
            problems.append(f"MongoDBCommunity/{name}: no NetworkPolicy selects its pods")
            continue
        clients = set(names) if name == KEY_STORE else {f.name for f in facts if f.mongo == name}
        stranger = Pod("a pod without Kontor's labels", target.namespace, {"run": "shell"})
        for source in [*pods, stranger]:
            wanted = source.workload == target.workload or source.service in clients
            admitted = ingress_admits(docs, target, source, port)
            if admitted and not wanted:
                problems.append(f"{name}: admits {source.workload} on {port}")
            if wanted and not admitted:
                problems.append(f"{name}: does not admit {source.workload} on {port}")
        for policy in policies:
            for rule in (policy.get("spec") or {}).get("ingress") or []:
                if rule.get("ports") != [{"protocol": "TCP", "port": port}]:
                    problems.append(
                        f"{name}: NetworkPolicy/{name_of(policy)} admits ports "
                        f"{rule.get('ports') or 'all'}, not only {port}"
                    )
    return problems
