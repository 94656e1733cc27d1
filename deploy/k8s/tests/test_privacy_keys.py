"""The privacy master key and the key store in the manifests (issue 13, ADR 0034, 0140).

Every container that runs a service's image gets the master key from the Secret the
operator creates (required, never a literal), and the key store's address from the
connection Secret of its own user of the key store's replica set; the key store is a
replica set of its own whose users may read and make keys, and only the services that
carry out erasures may delete them; no manifest holds key material.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kontor_servicekit.privacy.keys import MasterKey
from kontor_servicekit.privacy.setup import master_key_of
from kontor_servicekit.settings import ServiceSettings

from deploy.k8s import checks, generate, validate
from deploy.k8s.generate import ServiceFacts
from deploy.k8s.tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

Docs = list[dict[str, Any]]


def _container(docs: Docs, service: str) -> dict[str, Any]:
    deployment = checks.by_name(docs, "Deployment")[service]
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _without_env(container: dict[str, Any], name: str) -> None:
    container["env"] = [v for v in container["env"] if v["name"] != name]


def test_every_service_gets_the_master_key_and_the_key_store_in_both_overlays(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    for overlay, docs in rendered.items():
        assert checks.privacy_key_problems(docs, facts) == [], overlay
        for f in facts:
            env = {v["name"]: v for v in _container(docs, f.name)["env"]}
            assert env["KONTOR_PRIVACY_KEK"]["valueFrom"]["secretKeyRef"] == {
                "name": "kontor-privacy-kek",
                "key": "kek",
            }, (overlay, f.name)
            assert env["KONTOR_PRIVACY_KEYS_MONGO_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": f"privacy-keys-mongo-{f.name}-connection",
                "key": "connectionString.standard",
            }, (overlay, f.name)


def test_the_variables_are_the_ones_the_kit_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names in the manifests are the settings the kit builds its PrivacyKit from."""
    key = MasterKey.generate()
    url = "mongodb://orders:pw@privacy-keys-mongo-0.example:27017/admin?replicaSet=x"
    monkeypatch.setenv(checks.KEK_ENV, key.to_text())
    monkeypatch.setenv(checks.KEYS_URL_ENV, url)
    settings = ServiceSettings()
    assert master_key_of(settings) == key
    assert settings.privacy_keys_mongo_url == url
    assert settings.privacy_keys_database == generate.KEY_STORE_DATABASE == "kontor_keys"


def test_the_check_reports_a_service_without_the_master_key_or_the_key_store(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    docs = copy.deepcopy(prod)
    _without_env(_container(docs, "orders"), "KONTOR_PRIVACY_KEK")
    _without_env(_container(docs, "billing"), "KONTOR_PRIVACY_KEYS_MONGO_URL")
    support = _container(docs, "support")
    for var in support["env"]:
        if var["name"] == "KONTOR_PRIVACY_KEK":
            var["valueFrom"]["secretKeyRef"]["optional"] = True
        if var["name"] == "KONTOR_PRIVACY_KEYS_MONGO_URL":  # its own database, not the keys'
            var["valueFrom"]["secretKeyRef"]["name"] = "support-mongo-connection"
    catalog = _container(docs, "catalog")
    _without_env(catalog, "KONTOR_PRIVACY_KEK")
    catalog["env"].append({"name": "KONTOR_PRIVACY_KEK", "value": MasterKey.generate().to_text()})
    problems = checks.privacy_key_problems(docs, facts)
    assert sorted(problems) == [
        "Deployment/billing container billing: no KONTOR_PRIVACY_KEYS_MONGO_URL",
        "Deployment/catalog container catalog: KONTOR_PRIVACY_KEK is a literal, not a Secret "
        "reference",
        "Deployment/orders container orders: no KONTOR_PRIVACY_KEK",
        "Deployment/support container support: KONTOR_PRIVACY_KEK is optional (nothing would "
        "be sealed)",
        "Deployment/support container support: KONTOR_PRIVACY_KEYS_MONGO_URL from "
        "support-mongo-connection, not the key store user's "
        "privacy-keys-mongo-support-connection (required)",
    ]
    assert any("literal" in p for p in checks.pod_problems(docs, "catalog"))


def test_a_job_or_cronjob_that_runs_a_service_s_code_needs_them_too(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    """No Job runs a service's code today; one added later (a rebuild, a purge) must get
    the master key and the key store like the Deployment, or it would seal nothing."""
    container = copy.deepcopy(_container(prod, "orders"))
    container["image"] = "registry.kontor.example/kontor/orders:0.1.0"
    job = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "orders-rebuild"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [container]}}}},
        },
    }
    assert checks.privacy_key_problems([*prod, job], facts) == []
    _without_env(container, "KONTOR_PRIVACY_KEK")
    _without_env(container, "KONTOR_PRIVACY_KEYS_MONGO_URL")
    assert checks.privacy_key_problems([*prod, job], facts) == [
        "CronJob/orders-rebuild container orders: no KONTOR_PRIVACY_KEK",
        "CronJob/orders-rebuild container orders: no KONTOR_PRIVACY_KEYS_MONGO_URL",
    ]
    assert validate.validate_resource(job) == []


def test_the_key_store_is_a_replica_set_of_its_own_with_one_user_per_service(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    for overlay, docs in rendered.items():
        assert checks.key_store_problems(docs, facts) == [], overlay
        store = checks.by_name(docs, "MongoDBCommunity")[generate.KEY_STORE]
        assert store["spec"]["type"] == "ReplicaSet"
        assert store["spec"]["members"] == (3 if overlay == "prod" else 1)
        storage = store["spec"]["statefulSet"]["spec"]["volumeClaimTemplates"][0]["spec"]
        size = "5Gi" if overlay == "prod" else "2Gi"
        assert storage["resources"]["requests"]["storage"] == size
        users = {u["name"]: u for u in store["spec"]["users"]}
        assert sorted(users) == sorted(f.name for f in facts)
        for f in facts:
            assert users[f.name]["passwordSecretRef"] == {
                "name": f"privacy-keys-mongo-{f.name}-password",
                "key": "password",
            }
        # no service's own replica set holds a key store user or a role on the keys
        for f in facts:
            (user,) = checks.by_name(docs, "MongoDBCommunity")[f.mongo]["spec"]["users"]
            assert user["roles"] == [{"name": "readWrite", "db": f"kontor_{f.name}"}]


def test_the_key_store_admits_exactly_the_six_services_and_its_own_members(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    """ADR 0147: the replica set holding every person's data key takes connections on
    27017 from the six services' pods and its own members only; no other pod of the
    namespace (a service's database, the collector, a debugging shell) reaches it."""
    assert len(facts) == 6
    for overlay, docs in rendered.items():
        pods = {p.workload: p for p in checks.pods_of(docs, [f.name for f in facts])}
        store = pods[f"MongoDBCommunity/{generate.KEY_STORE}"]
        assert store.labels == {"app": "privacy-keys-mongo-svc"}
        stranger = checks.Pod("shell", store.namespace, {"run": "shell"})
        admitted = {
            p.workload
            for p in [*pods.values(), stranger]
            if checks.ingress_admits(docs, store, p, 27017)
        }
        assert admitted == {
            f"MongoDBCommunity/{generate.KEY_STORE}",
            *(f"Deployment/{f.name}" for f in facts),
        }, overlay
        (policy,) = checks.ingress_policies(docs, store)
        clients, members = policy["spec"]["ingress"]
        assert clients["from"] == [
            {"podSelector": {"matchLabels": generate.selector(f)}} for f in facts
        ]
        assert members["from"] == [{"podSelector": {"matchLabels": store.labels}}]
        assert not checks.ingress_admits(docs, store, pods["Deployment/orders"], 9216)


def test_only_the_services_that_erase_may_delete_keys(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    """Least privilege from the code: every service reads and makes keys (its outbox seals
    with them), only the services whose code destroys a key may delete one."""
    destroyers = checks.key_destroyers(REPO_ROOT / "services", [f.name for f in facts])
    assert destroyers == sorted(generate.KEY_ERASERS) == ["orders"]
    store = checks.by_name(prod, "MongoDBCommunity")[generate.KEY_STORE]
    roles = {r["role"]: r for r in store["spec"]["security"]["roles"]}
    actions = {
        user["name"]: sorted(
            a
            for grant in user["roles"]
            for p in roles[grant["name"]]["privileges"]
            for a in p["actions"]
        )
        for user in store["spec"]["users"]
    }
    for f in facts:
        expected = ["createCollection", "find", "insert"]
        if f.name in destroyers:
            expected = sorted([*expected, "remove"])
        assert actions[f.name] == expected, f.name
    for role in roles.values():
        for privilege in role["privileges"]:
            assert privilege["resource"] == {"db": "kontor_keys", "collection": "data_keys"}


def test_the_key_store_check_reports_a_missing_store_and_too_much_privilege(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    gone = [d for d in prod if checks.name_of(d) != generate.KEY_STORE]
    assert checks.key_store_problems(gone, facts) == [
        "MongoDBCommunity privacy-keys-mongo: missing (the key store's own replica set)"
    ]
    assert "Deployment/orders container orders: the key store has no user orders" in (
        checks.privacy_key_problems(gone, facts)
    )
    docs = copy.deepcopy(prod)
    store = checks.by_name(docs, "MongoDBCommunity")[generate.KEY_STORE]
    users = {u["name"]: u for u in store["spec"]["users"]}
    users["billing"]["roles"].append({"name": generate.KEY_ERASE_ROLE, "db": "admin"})
    users["orders"]["roles"] = [{"name": generate.KEY_USE_ROLE, "db": "admin"}]
    users["catalog"]["roles"].append({"name": "readWrite", "db": "kontor_keys"})
    store["spec"]["users"] = [u for u in store["spec"]["users"] if u["name"] != "analytics"]
    store["spec"]["security"]["roles"][0]["privileges"][0]["resource"] = {
        "db": "kontor_keys",
        "collection": "",
    }
    problems = checks.key_store_problems(docs, facts)
    assert problems == [
        "privacy-keys-mongo: role kontor-keys-use reaches beyond data_keys",
        "privacy-keys-mongo: user catalog has role {'name': 'readWrite', 'db': 'kontor_keys'} "
        "(not a key role)",
        "privacy-keys-mongo: user orders may not delete keys",
        "privacy-keys-mongo: user billing may delete keys",
        "privacy-keys-mongo: no user analytics",
    ]


def test_a_misspelt_custom_role_field_fails_validation(prod: Docs) -> None:
    store = copy.deepcopy(checks.by_name(prod, "MongoDBCommunity")[generate.KEY_STORE])
    store["spec"]["security"]["roles"][0]["privileges"][0]["action"] = ["remove"]
    errors = validate.validate_resource(store)
    assert errors and "action" in errors[0], errors


def test_no_manifest_holds_key_material(rendered: dict[str, Docs]) -> None:
    assert checks.key_material_files_problems(REPO_ROOT / "deploy") == []
    for overlay, docs in rendered.items():
        assert checks.key_material_problems(docs, overlay) == [], overlay


def test_the_key_material_check_finds_a_key_wherever_it_is_put(prod: Docs, tmp_path: Path) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    url_safe = MasterKey.generate().to_text().rstrip("=")
    docs = copy.deepcopy(prod)
    checks.by_name(docs, "ConfigMap")["kontor-platform"]["data"]["KONTOR_PRIVACY_KEK"] = key
    _container(docs, "orders")["env"].append({"name": "KONTOR_ORDERS_PRIVACY_KEK", "value": "x"})
    annotations = checks.by_name(docs, "Deployment")["billing"]["metadata"]
    annotations["annotations"] = {"note": url_safe}
    assert sorted(checks.key_material_problems(docs, "prod")) == [
        "prod: ConfigMap/kontor-platform: /data/KONTOR_PRIVACY_KEK holds key material",
        "prod: ConfigMap/kontor-platform: the master key KONTOR_PRIVACY_KEK in a ConfigMap",
        "prod: Deployment/billing: /metadata/annotations/note holds key material",
        "prod: Deployment/orders: KONTOR_ORDERS_PRIVACY_KEK has a literal value",
    ]
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "kustomization.yaml").write_text(
        f"secretGenerator:\n- name: kontor-privacy-kek\n  literals:\n  - kek={key}\n"
    )
    assert checks.key_material_files_problems(tmp_path) == [
        "overlay/kustomization.yaml: None/None: /secretGenerator/0/literals/0 holds key material"
    ]


def test_the_documented_command_makes_a_key_the_kit_takes() -> None:
    """docs/operations.md creates the Secret the manifests name, with the key they name,
    from ``openssl rand -base64 32``; the kit decodes that to its 32-byte master key."""
    text = (REPO_ROOT / "docs" / "operations.md").read_text()
    command = re.search(r"kubectl -n kontor create secret generic kontor-privacy-kek[^\n]*", text)
    assert command is not None
    assert '--from-literal=kek="$(openssl rand -base64 32)"' in command.group(0)
    printed = subprocess.run(
        ["openssl", "rand", "-base64", "32"], capture_output=True, text=True, check=True
    ).stdout
    assert len(MasterKey.from_text(printed.strip()).secret) == 32
    assert checks.looks_like_a_key(printed)
