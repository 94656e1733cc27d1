"""The shape every service shares, checked on the source (``docs/service-shape.md``).

- ``domain/`` is pure: the standard library, the service's own domain and the kit's
  pure modules, nothing else (no FastAPI, FastStream, PyMongo, pydantic, contracts).
- ``api/`` holds no database access: no PyMongo/BSON/GridFS import, no import of the
  service's ``store`` package, no ``.db`` / ``.store`` attribute, and no ``try`` (the
  kit maps the domain error family once).
- ``application/`` reaches data only through its unit of work: no PyMongo import and
  no ``.db`` attribute.
- the three layered folders exist in every service.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "orders", "billing", "support", "marketing", "analytics")
# kontor_contracts.money is the one owner of rounding to a currency's minor unit; domain
# code uses only its plain functions (quantize), no pydantic model.
KIT_PURE = {
    "kontor_contracts.money",
    "kontor_contracts.bounds",  # the bounds of ADR 0014: constants and one plain function
    "kontor_servicekit.clock",
    "kontor_servicekit.aggregate",
    "kontor_servicekit.domain_errors",
    "kontor_servicekit.shipping_rates",
    "kontor_servicekit.ratelimit",
    "kontor_servicekit.vat_ids",
    "kontor_servicekit.links",  # signed links (HMAC): stdlib only
    "kontor_contracts.placeholders",  # the erased-data placeholders (ADR 0128): stdlib only
    "kontor_contracts.eu_vat",  # the EU rates table and threshold rule (ADR 0026): stdlib only
}
DATABASE_MODULES = ("pymongo", "bson", "gridfs", "motor")


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / f"kontor_{service}"


def modules(service: str, layer: str) -> Iterator[Path]:
    yield from sorted((package(service) / layer).rglob("*.py"))


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_rooms(service: str) -> None:
    for room in ("domain", "application", "store", "consumers", "api"):
        assert (package(service) / room / "__init__.py").is_file(), f"{service} lacks {room}/"
    for module in ("main.py", "settings.py", "context.py"):
        assert (package(service) / module).is_file(), f"{service} lacks {module}"
    assert (ROOT / "services" / service / "README.md").is_file()


@pytest.mark.parametrize("service", SERVICES)
def test_domain_is_pure(service: str) -> None:
    own = f"kontor_{service}.domain"
    found = []
    for path in modules(service, "domain"):
        for line, name in imported(ast.parse(path.read_text())):
            top = name.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or name == own
                or name.startswith(own + ".")
                or name in KIT_PURE
            )
            if not allowed:
                found.append(f"{where(path, line)} imports {name}")
    assert found == []


@pytest.mark.parametrize("service", SERVICES)
def test_routes_do_not_touch_the_database_or_catch_domain_errors(service: str) -> None:
    found = []
    for path in modules(service, "api"):
        tree = ast.parse(path.read_text())
        for line, name in imported(tree):
            if name.split(".")[0] in DATABASE_MODULES:
                found.append(f"{where(path, line)} imports {name}")
            if name.startswith(f"kontor_{service}.store"):
                found.append(f"{where(path, line)} imports the store ({name})")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"db", "store", "collection"}:
                found.append(f"{where(path, node.lineno)} uses .{node.attr}")
            if isinstance(node, ast.Try):
                found.append(f"{where(path, node.lineno)} has a try block")
    assert found == []


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_reach_data_only_through_their_unit_of_work(service: str) -> None:
    found = []
    for path in modules(service, "application"):
        tree = ast.parse(path.read_text())
        for line, name in imported(tree):
            if name.split(".")[0] in DATABASE_MODULES or name == "kontor_servicekit.store":
                found.append(f"{where(path, line)} imports {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"db", "session"}:
                found.append(f"{where(path, node.lineno)} uses .{node.attr}")
    assert found == []


#: Kit modules that define answer models of their own (the admin routes).
KIT_ANSWER_MODULES = ("outbox_admin.py", "deadletters.py")


def _answer_modules() -> Iterator[Path]:
    for service in SERVICES:
        yield from modules(service, "api")
    kit = ROOT / "libs" / "servicekit" / "src" / "kontor_servicekit"
    for name in KIT_ANSWER_MODULES:
        yield kit / name


def test_answers_write_moments_in_one_form() -> None:
    """Every time field of a response model is the kit's ``Instant`` (UTC with ``Z``);
    a bare ``datetime`` would be written in whatever zone it was computed in. Request
    models (``...In``) may take ``AwareDatetime``: they parse, they do not write."""
    found = []
    for path in _answer_modules():
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef) or cls.name.endswith("In"):
                continue
            for node in cls.body:
                if not isinstance(node, ast.AnnAssign):
                    continue
                names = {n.id for n in ast.walk(node.annotation) if isinstance(n, ast.Name)}
                if names & {"datetime", "AwareDatetime", "NaiveDatetime"}:
                    found.append(f"{where(path, node.lineno)} {cls.name}: not an Instant")
    assert found == []


#: Writing routes whose effect is not in a unit of work, so nothing can be rolled back
#: (the photo is a blob with no registration: an unused one expires with the blob store).
#: The two multipart uploads of billing write their file to GridFS before (and outside)
#: any unit of work and run several blocks (a statement: its bookings, then one block per
#: booking to reconcile; an incoming invoice: the duplicate look-up, then the record);
#: their status (201 new, 200 the same bytes again) is known only after the last one.
#: Both are idempotent by the file's SHA-256: a retry after a failed answer gets the
#: first record with 200, nothing is booked twice.
# post_public_request writes nothing: it mails a signed link (ADR 0037)
OUTSIDE_A_UNIT_OF_WORK = {"post_photo", "post_statement", "post_incoming", "post_public_request"}


def _writing_routes() -> Iterator[tuple[Path, ast.AsyncFunctionDef]]:
    for service in SERVICES:
        for path in modules(service, "api"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.AsyncFunctionDef):
                    continue
                for deco in node.decorator_list:
                    if (
                        isinstance(deco, ast.Call)
                        and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr in {"post", "put", "patch", "delete"}
                        and not any(
                            k.arg == "include_in_schema" and isinstance(k.value, ast.Constant)
                            for k in deco.keywords
                        )
                        and not any(
                            k.arg == "status_code" and "204" in ast.unparse(k.value)
                            for k in deco.keywords
                        )
                    ):
                        yield path, node


def test_every_writing_route_renders_its_answer_before_the_commit() -> None:
    """Issue 9: a response-model failure can never follow a committed write. Every
    POST/PUT/PATCH/DELETE with a body in its answer goes through ``ctx.answers``
    (``respond`` with Idempotency-Key, ``answer`` for the rest); 204 answers have no
    body to fail, the HTML form posts answer pages, not models."""
    found = [
        f"{where(path, route.lineno)} {route.name}"
        for path, route in _writing_routes()
        if route.name not in OUTSIDE_A_UNIT_OF_WORK
        and not any(
            isinstance(call, ast.Attribute)
            and call.attr in {"answer", "respond"}
            and isinstance(call.value, ast.Attribute)
            and call.value.attr == "answers"
            for call in ast.walk(route)
        )
    ]
    assert found == []
    assert len(list(_writing_routes())) >= 25  # the walk finds the routes at all
