"""The rendered overlays are valid and agree with the contracts and the services' code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deploy.k8s import checks, generate, validate
from deploy.k8s.generate import ServiceFacts

pytestmark = pytest.mark.unit

Docs = list[dict[str, Any]]


def test_both_overlays_exist_and_validate_strictly(rendered: dict[str, Docs]) -> None:
    assert {"dev", "prod"} <= set(rendered)
    for overlay, docs in rendered.items():
        report = validate.validate_manifests(overlay, docs)
        assert report.errors == [], f"{overlay}: {report.errors}"
        assert report.kinds["Deployment"] >= 6


def test_validate_script_passes() -> None:
    assert validate.main([]) == 0


def test_validation_rejects_an_unknown_field_in_builtin_and_custom_kinds(prod: Docs) -> None:
    deployment = copy.deepcopy(checks.by_name(prod, "Deployment")["orders"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    topic = copy.deepcopy(checks.of_kind(prod, "KafkaTopic")[0])
    topic["spec"]["partition"] = 3
    scaled = copy.deepcopy(checks.of_kind(prod, "ScaledObject")[0])
    scaled["spec"]["triggers"][0]["metadata"]["lagTreshold"] = "5"
    unknown = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}}
    for doc, needle in (
        (deployment, "livenesProbe"),
        (topic, "partition"),
        (scaled, "lagTreshold"),
        (unknown, "without a schema"),
    ):
        errors = validate.validate_resource(doc)
        assert errors and needle in errors[0], errors


def test_generated_manifests_are_up_to_date() -> None:
    """Adding a topic or a consumer in code without regenerating fails here."""
    assert generate.stale_files() == [], "run: uv run python deploy/k8s/generate.py"


def test_staleness_check_notices_a_missing_topic(tmp_path: Any) -> None:
    for rel, text in generate.render().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert generate.stale_files(tmp_path) == []
    topics = tmp_path / "base/kafka/topics.yaml"
    topics.write_text(topics.read_text().replace("orders.order.v1", "orders.order.v0"))
    assert generate.stale_files(tmp_path) == ["base/kafka/topics.yaml"]


def test_every_topic_and_dead_letter_topic_is_declared_for_prod(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    assert checks.topic_problems(prod, facts, replicas=3, min_insync=2) == []


def test_topic_check_reports_a_missing_topic_and_wrong_settings(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    docs = [d for d in prod if (d.get("spec") or {}).get("topicName") != "billing.invoice.v1"]
    docs = copy.deepcopy(docs)
    order = next(d for d in docs if (d.get("spec") or {}).get("topicName") == "orders.order.v1")
    order["spec"]["config"]["min.insync.replicas"] = 1
    problems = checks.topic_problems(docs, facts)
    assert "topic billing.invoice.v1: no KafkaTopic" in problems
    assert "topic orders.order.v1: min.insync.replicas 1 != 2" in problems


def test_no_overlay_asks_for_more_replicas_than_brokers(rendered: dict[str, Docs]) -> None:
    for overlay, docs in rendered.items():
        assert checks.replication_problems(docs) == [], overlay
    brokers = checks.of_kind(rendered["dev"], "KafkaNodePool")[0]["spec"]["replicas"]
    assert brokers == 1
    assert checks.of_kind(rendered["prod"], "KafkaNodePool")[0]["spec"]["replicas"] == 3


def test_kafka_is_kraft_with_node_pools(rendered: dict[str, Docs]) -> None:
    for docs in rendered.values():
        (kafka,) = checks.of_kind(docs, "Kafka")
        annotations = kafka["metadata"]["annotations"]
        assert annotations["strimzi.io/kraft"] == "enabled"
        assert annotations["strimzi.io/node-pools"] == "enabled"
        assert "zookeeper" not in kafka["spec"]


def test_each_service_acls_cover_exactly_what_its_code_does(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    users = checks.by_name(prod, "KafkaUser")
    for f in facts:
        assert checks.acl_problems(f, users.get(f.kafka_user)) == [], f.name


def test_facts_come_from_the_code(facts: list[ServiceFacts]) -> None:
    """Today's wiring, as a sanity check that facts are read, not empty."""
    by = {f.name: f for f in facts}
    assert by["orders"].groups == {
        "orders.catalog-projection": ["catalog.product.v1"],
        "orders.coupon-projection": ["marketing.coupon.v1"],
        "orders.payments": ["billing.payment.v1"],
        "orders.privacy": ["orders.privacy_request.v1"],
        "orders.privacy-requests": ["orders.privacy_request.v1"],
        "orders.quote-orders": ["billing.quote.v1"],
        "orders.reservations": ["catalog.reservation.v1"],
        "orders.shipping-projection": ["catalog.shipping.v1"],
        "orders.support-tickets": ["support.ticket.v1"],
    }
    # billing invoices from orders' order events and corrects from refunds (issue 11),
    # prices quotes from its own read model of the catalog (issue 11), answers privacy
    # requests on orders' protocol topic (issue 13) and plans refunds from its own
    # credit documents (issue 12, payouts)
    assert by["billing"].groups == {
        "billing.invoicing": ["orders.order.v1", "orders.return.v1"],
        "billing.quote-catalog": ["catalog.product.v1"],
        "billing.privacy": ["orders.privacy_request.v1"],
        "billing.payouts": ["billing.invoice.v1"],
    }
    assert by["billing"].dead_letters == [
        "billing.invoicing.dlt",
        "billing.payouts.dlt",
        "billing.privacy.dlt",
        "billing.quote-catalog.dlt",
    ]
    assert "orders.privacy_request.v1" in by["billing"].publishes
    assert "orders.order.v1" in by["orders"].publishes


def test_acl_check_reports_a_missing_topic_and_a_foreign_write(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    billing = next(f for f in facts if f.name == "billing")
    user = copy.deepcopy(checks.by_name(prod, "KafkaUser")[billing.kafka_user])
    acls = user["spec"]["authorization"]["acls"]
    acls[:] = [a for a in acls if a["resource"]["name"] != "billing.invoice.v1"]
    acls.append({"resource": {"type": "topic", "name": "orders.order.v1"}, "operations": ["Write"]})
    problems = checks.acl_problems(billing, user)
    assert any("no Write on topic billing.invoice.v1" in p for p in problems), problems
    assert any("may write topic orders.order.v1" in p for p in problems), problems
    assert checks.acl_problems(billing, None) == ["KafkaUser billing-kafka: missing"]


def test_acl_check_reports_a_missing_group_and_a_wildcard(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    orders = next(f for f in facts if f.name == "orders")
    user = copy.deepcopy(checks.by_name(prod, "KafkaUser")[orders.kafka_user])
    acls = user["spec"]["authorization"]["acls"]
    acls[:] = [a for a in acls if a["resource"]["type"] != "group"]
    acls.append(
        {
            "resource": {"type": "topic", "name": "catalog.", "patternType": "prefix"},
            "operations": ["Read"],
        }
    )
    problems = checks.acl_problems(orders, user)
    assert any("no Read on consumer group orders.catalog-projection" in p for p in problems)
    assert any("may match other owners" in p for p in problems)


def test_scaling_follows_consumption(rendered: dict[str, Docs], facts: list[ServiceFacts]) -> None:
    for overlay, docs in rendered.items():
        assert checks.scaling_problems(docs, facts) == [], overlay


def test_scaling_check_reports_too_many_replicas_and_two_autoscalers(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    docs = copy.deepcopy(prod)
    scaled = checks.by_name(docs, "ScaledObject")["billing"]
    scaled["spec"]["maxReplicaCount"] = 7
    # every service consumes events now, so each scales by lag (a ScaledObject); a CPU
    # autoscaler added beside billing's must be refused
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "billing", "namespace": "kontor"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "billing"},
            "minReplicas": 1,
            "maxReplicas": 3,
        },
    }
    docs.append(hpa)
    problems = checks.scaling_problems(docs, facts)
    assert "billing: maxReplicaCount 7 > 3: its replicas share one serial point (ADR 0125)" in (
        problems
    )
    assert (
        "billing: maxReplicaCount 7 > 6 partitions of "
        "['billing.invoice.v1', 'catalog.product.v1', 'orders.order.v1', "
        "'orders.privacy_request.v1', 'orders.return.v1']" in problems
    )
    assert "Deployment billing: has both a ScaledObject and an HPA" in problems


def test_probes_graceful_shutdown_and_security(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    for overlay, docs in rendered.items():
        for f in facts:
            assert checks.pod_problems(docs, f.name) == [], (overlay, f.name)


def test_pod_check_reports_a_missing_pre_stop_and_short_grace(prod: Docs) -> None:
    docs = copy.deepcopy(prod)
    pod = checks.by_name(docs, "Deployment")["orders"]["spec"]["template"]["spec"]
    del pod["containers"][0]["lifecycle"]
    pod["terminationGracePeriodSeconds"] = 30
    pod["containers"][0]["env"].append({"name": "KONTOR_KAFKA_PASSWORD", "value": "hunter2"})
    problems = checks.pod_problems(docs, "orders")
    assert "orders: no preStop sleep" in problems
    assert any("terminationGracePeriodSeconds 30" in p for p in problems), problems
    assert any("literal" in p for p in problems), problems


def test_no_literal_secret_anywhere_in_the_repository(rendered: dict[str, Docs]) -> None:
    from deploy.k8s.tests.conftest import REPO_ROOT

    assert checks.secret_files_problems(REPO_ROOT / "deploy") == []
    for overlay, docs in rendered.items():
        assert checks.literal_secret_problems(docs, overlay) == []


def test_secret_check_reports_a_committed_secret(tmp_path: Any) -> None:
    (tmp_path / "oops.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: mongo}\nstringData: {password: x}\n"
    )
    assert checks.secret_files_problems(tmp_path) == [
        "oops.yaml: Secret mongo carries literal data"
    ]


def test_network_policy_allows_only_kafka_own_mongo_key_store_collector_and_dns(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    policies = checks.by_name(prod, "NetworkPolicy")
    for f in facts:
        spec = policies[f.name]["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == f.name
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
        peers = [p for rule in spec["egress"] for p in rule["to"]]
        labels = [p.get("podSelector", {}).get("matchLabels", {}) for p in peers]
        assert {"app": f"{f.name}-mongo-svc"} in labels
        # and the key store's own replica set (ADR 0140), no other service's
        assert {"app": f"{generate.KEY_STORE}-svc"} in labels
        assert not any(
            lbl.get("app", "").endswith("-mongo-svc")
            and lbl["app"] not in (f"{f.name}-mongo-svc", f"{generate.KEY_STORE}-svc")
            for lbl in labels
        )
        assert any(lbl.get("strimzi.io/broker-role") == "true" for lbl in labels)
        assert {"app.kubernetes.io/name": "otel-collector"} in labels
        assert {"k8s-app": "kube-dns"} in labels
        # and the mail relay for a service that sends mail (ADR 0046)
        assert (generate.MAIL_RELAY_PODS in labels) == f.sends_mail, f.name
        assert len(peers) == 5 + f.sends_mail


def test_support_s_smtp_receiver_is_served_and_reachable_from_the_mail_relay_only(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    """Mail in (issue 14, ADR 0046): the receiver's port comes from support's settings;
    its container port, Service port 25 and the NetworkPolicy's rule from the mail relay's
    pods agree with it, the ConfigMap makes it listen on the pod's address, and no other
    service exposes SMTP."""
    by = {f.name: f for f in facts}
    assert by["support"].smtp_receiver_port == 2525
    assert sorted(f.name for f in facts if f.sends_mail) == ["marketing", "orders", "support"]
    assert all(
        f.smtp_receiver_port is None for f in facts if f.name not in ("support", "marketing")
    )
    relay = {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": generate.MAIL_RELAY_NAMESPACE}
        },
        "podSelector": {"matchLabels": generate.MAIL_RELAY_PODS},
    }
    for overlay, docs in rendered.items():
        container = checks.by_name(docs, "Deployment")["support"]["spec"]["template"]["spec"][
            "containers"
        ][0]
        assert {"name": "smtp", "containerPort": 2525, "protocol": "TCP"} in container["ports"]
        ports = checks.by_name(docs, "Service")["support"]["spec"]["ports"]
        assert {"name": "smtp", "port": 25, "targetPort": "smtp", "protocol": "TCP"} in ports
        data = checks.by_name(docs, "ConfigMap")["support-settings"]["data"]
        assert data["KONTOR_SUPPORT_SMTP_RECEIVER_HOST"] == "0.0.0.0"
        assert data["KONTOR_SUPPORT_SMTP_RECEIVER_PORT"] == "2525"
        rules = checks.by_name(docs, "NetworkPolicy")["support"]["spec"]["ingress"]
        smtp = [r for r in rules if {"protocol": "TCP", "port": 2525} in r["ports"]]
        assert smtp == [{"from": [relay], "ports": [{"protocol": "TCP", "port": 2525}]}], overlay
        # mail out: the relay's submission port, its login and support's channel keys
        # from Secrets (the chat tokens' key must be one for every replica)
        egress = checks.by_name(docs, "NetworkPolicy")["support"]["spec"]["egress"]
        assert {"to": [relay], "ports": [{"protocol": "TCP", "port": 587}]} in egress
        assert data["KONTOR_SUPPORT_SMTP_HOST"] == generate.MAIL_RELAY_HOST
        assert (data["KONTOR_SUPPORT_SMTP_PORT"], data["KONTOR_SUPPORT_SMTP_SECURITY"]) == (
            "587",
            "starttls",
        )
        secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        for name in ("SMTP_PASSWORD", "CHAT_TOKEN_SECRET", "IMAP_PASSWORD"):
            assert secrets[f"KONTOR_SUPPORT_{name}"]["optional"] is True, name
        for service in (f.name for f in facts if f.name not in ("support", "marketing")):
            names = [p["name"] for p in checks.by_name(docs, "Service")[service]["spec"]["ports"]]
            assert names == ["http"], (overlay, service)
            rules = checks.by_name(docs, "NetworkPolicy")[service]["spec"]["ingress"]
            assert [r["ports"] for r in rules] == [[{"protocol": "TCP", "port": 8080}]]


def test_links_in_mails_point_at_the_service_s_own_ingress_host(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    """A service with public pages (orders' privacy confirmations, marketing's consent,
    support's ratings) puts its ingress host into the links it mails, per overlay: the
    default is make run's loopback address, which no customer can open."""
    linking = sorted(f.name for f in facts if f.public_links)
    assert linking == ["marketing", "orders", "support"]
    for overlay, docs in rendered.items():
        maps = checks.by_name(docs, "ConfigMap")
        scheme = "https" if overlay == "prod" else "http"
        domain = generate.OVERLAY_DOMAINS[overlay]
        for name in linking:
            key = f"KONTOR_{name.upper()}_PUBLIC_BASE_URL"
            assert maps[f"{name}-settings"]["data"][key] == f"{scheme}://{name}.{domain}"
            # the patch adds the key: the base's other settings stay
            assert maps[f"{name}-settings"]["data"]["KONTOR_HTTP_HOST"] == "0.0.0.0"
        assert "KONTOR_CATALOG_PUBLIC_BASE_URL" not in maps["catalog-settings"]["data"]


def test_a_receiver_on_any_free_port_cannot_be_deployed() -> None:
    settings = generate.load_definition("support").settings.model_copy(
        update={"smtp_receiver_port": 0}
    )
    definition = copy.copy(generate.load_definition("support"))
    definition.settings = settings
    with pytest.raises(ValueError, match="fixed port"):
        generate.smtp_receiver_port(definition)
    definition.settings = settings.model_copy(update={"smtp_receiver": False})
    assert generate.smtp_receiver_port(definition) is None


def test_each_service_has_its_own_replica_set_and_user(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    mongos = checks.by_name(prod, "MongoDBCommunity")
    for f in facts:
        spec = mongos[f.mongo]["spec"]
        assert spec["members"] == 3 and spec["type"] == "ReplicaSet"
        (user,) = spec["users"]
        assert user["roles"] == [{"name": "readWrite", "db": f"kontor_{f.name}"}]
        assert user["passwordSecretRef"]["name"] == f"{f.mongo}-password"


def _pods(docs: Docs, facts: list[ServiceFacts]) -> dict[str, checks.Pod]:
    return {p.workload: p for p in checks.pods_of(docs, [f.name for f in facts])}


def test_every_replica_set_admits_only_its_members_and_its_service_s_pods(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    """ADR 0147: a NetworkPolicy isolates every MongoDBCommunity's pods (in the base as in
    both overlays); on 27017 it admits their own members (replication, the operator's
    agents) and the pods of the service whose database it is, no other pod, no other port."""
    base = validate.render(validate.K8S_DIR / "base")
    for overlay, docs in {"base": base, **rendered}.items():
        mongos = checks.of_kind(docs, "MongoDBCommunity")
        assert len(mongos) == 7, overlay
        assert checks.database_access_problems(docs, facts) == [], overlay
        pods = _pods(docs, facts)
        for mongo in mongos:
            target = pods[f"MongoDBCommunity/{checks.name_of(mongo)}"]
            policies = checks.ingress_policies(docs, target)
            # its own policy only: the service's (app.kubernetes.io/name) selects no member
            assert [checks.name_of(p) for p in policies] == [checks.name_of(mongo)], overlay
            assert checks.ingress_admits(docs, target, target, 27017), overlay


def test_a_service_s_database_admits_that_service_and_no_other(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    pods = _pods(prod, facts)
    catalog_db = pods["MongoDBCommunity/catalog-mongo"]
    for source, admitted in (
        ("Deployment/catalog", True),
        ("MongoDBCommunity/catalog-mongo", True),
        ("Deployment/orders", False),
        ("MongoDBCommunity/orders-mongo", False),
        ("MongoDBCommunity/privacy-keys-mongo", False),
        ("Deployment/otel-collector", False),
    ):
        assert checks.ingress_admits(prod, catalog_db, pods[source], 27017) is admitted, source
    assert not checks.ingress_admits(prod, catalog_db, pods["Deployment/catalog"], 5000)
    for f in facts:
        target = pods[f"MongoDBCommunity/{f.mongo}"]
        reaching = {
            p.workload for p in pods.values() if checks.ingress_admits(prod, target, p, 27017)
        }
        assert reaching == {f"Deployment/{f.name}", f"MongoDBCommunity/{f.mongo}"}, f.name
        (policy,) = checks.ingress_policies(prod, target)
        # the service's own selector, as its Deployment and its NetworkPolicy use it
        clients, members = policy["spec"]["ingress"]
        assert clients["from"] == [{"podSelector": {"matchLabels": generate.selector(f)}}]
        assert members["from"] == [{"podSelector": {"matchLabels": {"app": f"{f.mongo}-svc"}}}]


def test_the_database_policies_restrict_ingress_only(rendered: dict[str, Docs]) -> None:
    """Egress stays open (ADR 0147): the agent's readiness probe and the version hook
    call the Kubernetes API, whose address no pod selector names."""
    for overlay, docs in rendered.items():
        for mongo in checks.of_kind(docs, "MongoDBCommunity"):
            policy = checks.by_name(docs, "NetworkPolicy")[checks.name_of(mongo)]
            assert policy["spec"]["policyTypes"] == ["Ingress"], overlay
            assert "egress" not in policy["spec"], overlay


def test_the_database_check_reports_an_open_a_widened_and_a_closed_replica_set(
    prod: Docs, facts: list[ServiceFacts]
) -> None:
    docs = [
        d
        for d in copy.deepcopy(prod)
        if not (d["kind"] == "NetworkPolicy" and checks.name_of(d) == "billing-mongo")
    ]
    policies = checks.by_name(docs, "NetworkPolicy")
    catalog = policies["catalog-mongo"]["spec"]["ingress"]
    orders = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}}}
    catalog[0]["from"].append(orders)
    analytics = policies["analytics-mongo"]["spec"]["ingress"]
    del analytics[1]  # its members no longer reach each other
    policies["support-mongo"]["spec"]["ingress"][0].pop("ports")
    problems = checks.database_access_problems(docs, facts)
    assert sorted(problems) == [
        "MongoDBCommunity/billing-mongo: no NetworkPolicy selects its pods",
        "analytics-mongo: does not admit MongoDBCommunity/analytics-mongo on 27017",
        "catalog-mongo: admits Deployment/orders on 27017",
        "support-mongo: NetworkPolicy/support-mongo admits ports all, not only 27017",
    ]
    # a policy admitting everything beside the right one opens the database again
    allow_all = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-all", "namespace": "kontor"},
        "spec": {"podSelector": {}, "ingress": [{}]},
    }
    assert validate.validate_resource(allow_all) == []
    opened = checks.database_access_problems([*prod, allow_all], facts)
    assert "orders-mongo: admits a pod without Kontor's labels on 27017" in opened
    assert "privacy-keys-mongo: admits Deployment/otel-collector on 27017" in opened


def test_the_replica_sets_pods_carry_the_labels_the_operator_gives_them() -> None:
    """The operator labels a MongoDBCommunity's pods ``app: <its Service>`` (``<name>-svc``
    unless spec.statefulSet.spec.serviceName says otherwise) plus the template's labels;
    the resource's own labels do not reach the pods."""
    mongo = generate.mongodb(generate.service_facts("orders"))
    assert mongo["metadata"]["labels"]["app.kubernetes.io/name"] == "orders"
    assert checks.replica_set_pod_labels(mongo) == {"app": "orders-mongo-svc"}
    assert generate.replica_set_pod_labels("orders-mongo") == {"app": "orders-mongo-svc"}
    assert checks.mongo_port(mongo) == generate.MONGO_PORT == 27017
    sts = mongo["spec"]["statefulSet"]["spec"]
    sts["serviceName"] = "orders-db"
    sts["template"]["metadata"] = {"labels": {"tier": "db", "app": "ignored"}}
    assert checks.replica_set_pod_labels(mongo) == {"tier": "db", "app": "orders-db"}
    mongo["spec"]["additionalMongodConfig"]["net"] = {"port": 27018}
    assert checks.mongo_port(mongo) == 27018


def test_a_crashed_pods_transaction_ends_after_the_same_lifetime_as_locally(prod: Docs) -> None:
    """transactionLifetimeLimitSeconds bounds how long a killed consumer blocks a counter."""
    from kontor_local.runtime import DEFAULT_TRANSACTION_LIFETIME_S

    mongos = checks.of_kind(prod, "MongoDBCommunity")
    assert len(mongos) == 7  # six services' and the key store's (ADR 0140)
    for mongo in mongos:
        parameters = mongo["spec"]["additionalMongodConfig"]["setParameter"]
        assert parameters["transactionLifetimeLimitSeconds"] == 5
    assert generate.MONGO_TRANSACTION_LIFETIME_S == DEFAULT_TRANSACTION_LIFETIME_S


def test_one_message_size_limit_for_every_topic_and_every_service(prod: Docs) -> None:
    """Topics refuse what the services' producers would refuse, and the consumers fetch it."""
    limit = generate.KAFKA_MAX_MESSAGE_BYTES
    assert limit == 1_048_576
    topics = checks.of_kind(prod, "KafkaTopic")
    assert topics
    assert {t["spec"]["topicName"]: t["spec"]["config"]["max.message.bytes"] for t in topics} == {
        t["spec"]["topicName"]: limit for t in topics
    }
    settings = [
        c for c in checks.of_kind(prod, "ConfigMap") if c["metadata"]["name"].endswith("-settings")
    ]
    assert len(settings) == 6
    for config_map in settings:
        assert config_map["data"]["KONTOR_KAFKA_MAX_MESSAGE_BYTES"] == str(limit)


def test_each_hosts_ingress_lets_the_services_own_body_limit_pass(
    rendered: dict[str, Docs], facts: list[ServiceFacts]
) -> None:
    """nginx's body limit is per Ingress: billing's 10 MiB files, the catalog's and
    orders' images and support's chat files (ADR 0123) reach the service, which answers
    a too large body itself."""
    limits = {f.name: f.max_body_bytes for f in facts}
    assert limits["billing"] == 11 * 1024 * 1024
    assert limits["catalog"] == limits["orders"] == limits["support"] == 6 * 1024 * 1024
    for overlay, docs in rendered.items():
        sizes: dict[str, str] = {}
        for ing in checks.of_kind(docs, "Ingress"):
            [rule] = ing["spec"]["rules"]
            service = rule["http"]["paths"][0]["backend"]["service"]["name"]
            assert rule["host"].startswith(f"{service}."), overlay
            sizes[service] = ing["metadata"]["annotations"][
                "nginx.ingress.kubernetes.io/proxy-body-size"
            ]
        assert sizes == {
            "catalog": "6m",
            "orders": "6m",
            "billing": "11m",
            "support": "6m",
            "marketing": "1m",
            "analytics": "1m",
        }, overlay
    assert generate.proxy_body_size(1_048_577) == "2m"
