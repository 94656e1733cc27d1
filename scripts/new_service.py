# ruff: noqa: E501  (the templates are the files as they will be written)
"""Lay out a service in the shape every Kontor service shares (docs/service-shape.md).

    python scripts/new_service.py support "Customer contact on every channel."

Writes the rooms that are missing (``domain/``, ``application/``, ``store/``,
``consumers/``, ``api/``, ``context.py``, ``main.py``) and leaves every existing file
alone, so it is safe to run on a service that has grown. The files are the smallest
correct version of each room, the same for every service: billing shows them filled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FILES: dict[str, str] = {
    "domain/__init__.py": '''"""{Title}'s business rules: pure (no framework, broker or database)."""
''',
    "domain/events.py": '''"""What {name}'s aggregates record when they change (``kontor_servicekit.aggregate``).

Frozen dataclasses; ``application/`` turns each into the contract event it announces.
"""
''',
    "application/__init__.py": '''"""{Title}'s use cases: commands in, events out; the only callers of ``domain/``."""
''',
    "application/unit_of_work.py": '''"""What {name}'s use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`{Cls}UnitOfWork`.
"""

from __future__ import annotations

from typing import Protocol

from kontor_servicekit.uow import UnitOfWork


class {Cls}UnitOfWork(UnitOfWork, Protocol):
    """The repositories of {name} (none yet) plus the outbox and sequences."""
''',
    "store/__init__.py": '''"""{Title}'s database: repositories, unit of work, queries, indexes."""
''',
    "store/unit_of_work.py": '''"""{Title}'s unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork


class Mongo{Cls}UnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
''',
    "store/memory.py": '''"""{Title}'s unit of work in memory: the unit tests' database."""

from __future__ import annotations

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork


class InMemory{Cls}UnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
''',
    "store/queries.py": '''"""{Title}'s read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


class {Cls}Queries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
''',
    "store/indexes.py": '''"""{Title}'s indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """None yet: each collection brings its indexes with the feature that adds it."""
''',
    "consumers/__init__.py": '''"""{Title}'s subscriptions: contract event -> use case, built in ``main.py``."""
''',
    "api/__init__.py": '''"""{Title}'s HTTP routes: parse, call one use case or one query, map the result."""
''',
    "context.py": '''"""{Title}'s container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.uow import Transactor

from kontor_{name}.application.unit_of_work import {Cls}UnitOfWork
from kontor_{name}.store.queries import {Cls}Queries


@dataclass
class {Cls}Context:
    transactor: Transactor[{Cls}UnitOfWork]
    queries: {Cls}Queries
    clock: Clock


Context = Annotated[{Cls}Context, Depends(context_dependency({Cls}Context))]
''',
    "main.py": '''"""Composition root of the {name} service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.uow import MongoTransactor

from kontor_{name}.context import {Cls}Context
from kontor_{name}.settings import {Cls}Settings
from kontor_{name}.store.indexes import ensure_indexes
from kontor_{name}.store.queries import {Cls}Queries
from kontor_{name}.store.unit_of_work import Mongo{Cls}UnitOfWork


def definition(settings: {Cls}Settings, clock: Clock = utc_now) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor {name}",
        description="{description}",
        routers=[],
        subscriptions=[],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: {Cls}Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    app = create_service_app(definition(settings or {Cls}Settings(), clock))
    store = app.state.kit.store
    context = {Cls}Context(
        transactor=MongoTransactor(store, Mongo{Cls}UnitOfWork),
        queries={Cls}Queries(store.db),
        clock=clock,
    )
    attach_context(app, context)
    return app


def run() -> None:
    run_service(create_app, {Cls}Settings)
''',
}


def lay_out(name: str, description: str) -> list[Path]:
    package = ROOT / "services" / name / "src" / f"kontor_{name}"
    if not (package / "settings.py").is_file():
        raise SystemExit(
            f"{package}/settings.py is missing: add the package and its settings first"
        )
    values = {
        "name": name,
        "Title": name.capitalize(),
        "Cls": name.capitalize(),
        "description": description,
    }
    written = []
    for relative, text in FILES.items():
        target = package / relative
        if target.exists() and target.read_text().strip():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.format(**values))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service")
    parser.add_argument("description")
    parser.add_argument(
        "--replace-main",
        action="store_true",
        help="rewrite main.py from the template (a service with no features)",
    )
    args = parser.parse_args(argv)
    if args.replace_main:
        main_py = ROOT / "services" / args.service / "src" / f"kontor_{args.service}" / "main.py"
        main_py.unlink(missing_ok=True)
    for path in lay_out(args.service, args.description):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
