"""Each service's Dockerfile builds only that service, the way the issue asks."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest
from kontor_contracts.registry import SERVICES

from deploy.k8s.tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit


def _dockerfiles() -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dockerfiles", Path(__file__).resolve().parents[2] / "dockerfiles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOCKERFILES = _dockerfiles()


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile(service: str) -> None:
    text = (REPO_ROOT / "services" / service / "Dockerfile").read_text()
    instructions = [ln for ln in text.splitlines() if ln and not ln.lstrip().startswith("#")]
    body = "\n".join(instructions)
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", body, re.M)
    assert len(stages) >= 2, "multi-stage"
    assert f"uv sync --locked --package kontor-{service} --no-dev --no-editable" in body
    final = body.rsplit("\nFROM ", 1)[1]
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "/uv" not in final, "no build tools in the final stage"
    # apt-get only for the run-time libraries the service declares (billing: weasyprint's
    # Pango, HarfBuzz and fonts), without recommends and without the package lists after
    packages = DOCKERFILES.RUNTIME_PACKAGES.get(service, ())
    apt = [ln.strip() for ln in final.splitlines() if "apt" in ln]
    if packages:
        assert apt == [
            "RUN apt-get update \\",
            f"&& apt-get install -y --no-install-recommends {' '.join(packages)} \\",
            "&& rm -rf /var/lib/apt/lists/*",
        ]
    else:
        assert apt == [], "no apt-get in the final stage"
    assert not re.search(r"\b(gcc|g\+\+|build-essential|[a-z0-9.+-]+-dev)\b", final), "no compiler"
    assert re.search(r"^USER\s+(?!0\b|root\b)\S+", final, re.M), "non-root user"
    assert "HEALTHCHECK" not in body
    assert f'CMD ["python", "-m", "kontor_{service}"]' in final
    for other in SERVICES:
        if other != service:
            assert f"COPY services/{other}/ " not in body, f"copies {other}'s source"


def test_dockerignore_keeps_local_state_out() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".git", "**/.venv", "**/__pycache__", ".kontor"):
        assert entry in lines


def test_dockerfiles_are_rendered_from_the_one_template(tmp_path: Path) -> None:
    dockerfiles = DOCKERFILES
    assert dockerfiles.stale() == [], "run `make dockerfiles`"
    # a hand edit in one service's Dockerfile is noticed
    for service in dockerfiles.SERVICES:
        target = tmp_path / "services" / service / "Dockerfile"
        target.parent.mkdir(parents=True)
        target.write_text(dockerfiles.render(service))
    (tmp_path / "services" / "orders" / "Dockerfile").write_text("FROM scratch\n")
    assert dockerfiles.stale(tmp_path) == ["orders"]


def test_billing_and_orders_get_weasyprints_libraries_and_no_other_service_any() -> None:
    assert set(DOCKERFILES.RUNTIME_PACKAGES) == {"billing", "orders"}  # the kit's pdf extra
    for service in ("billing", "orders"):
        rendered = DOCKERFILES.render(service)
        for package in (
            "libpango-1.0-0",
            "libpangoft2-1.0-0",
            "libharfbuzz-subset0",
            "fonts-dejavu",
        ):
            assert package in rendered
        assert "{runtime_packages}" not in rendered
    assert "apt-get" not in DOCKERFILES.render("catalog")
