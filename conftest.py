"""Repo-root conftest: applies to every test below (contracts, libs, deploy, services, tests).

The kontor_local plugin provides the ``infra``, ``namespace``, ``topic_prefix``,
``mongo_db_name`` and ``create_topics`` fixtures and marks tests by directory.

Every test has exactly one tier marker, so ``make test-unit``, ``make test-service``,
``make test-integration``, ``make test-security`` and ``make test-browser`` together
run every test once:

- ``unit``: no broker and no database (pure code, fakes, local files and processes);
- ``service``: FastStream's in-memory ``TestKafkaBroker`` over a real database;
- ``integration``: a real Kafka-protocol broker and MongoDB-protocol server;
- ``security``: hostile input against every service's HTTP edge (``tests/security/``),
  in-process and through a real uvicorn, over the real broker and database;
- ``browser``: the pages in a real headless Chromium against services over real
  sockets (``tests/browser/``; ``scripts/ensure-browser.sh`` provides the browser).

A test without a tier, with two, or a ``unit`` test that asks for the session's
broker and database (the ``infra`` fixture) fails the collection, with or without
``-m``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["kontor_local.pytest_plugin", "kontor_servicekit.testing"]

TIERS = ("unit", "service", "integration", "security", "browser")


def tier_problems(items: list[pytest.Item]) -> list[str]:
    """What is wrong with the tiers of ``items`` (one line per test), in collection order."""
    problems: list[str] = []
    for item in items:
        tiers = [name for name in TIERS if item.get_closest_marker(name) is not None]
        if len(tiers) != 1:
            found = ", ".join(tiers) or "none"
            problems.append(f"{item.nodeid}: needs exactly one of {', '.join(TIERS)} ({found})")
        elif tiers == ["unit"] and "infra" in getattr(item, "fixturenames", ()):
            problems.append(f"{item.nodeid}: a unit test must not use the broker and database")
    return problems


# Runs after the kontor_local plugin marked the tests by directory (a plugin that a
# conftest loads is registered after it, and pluggy calls the later one first) and
# before pytest deselects with -m (its own plugin was registered first of all).
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = tier_problems(items)
    if problems:
        raise pytest.UsageError("tests without exactly one tier marker:\n" + "\n".join(problems))
