"""Repo-root conftest: applies to every test below (contracts, libs, deploy, services, tests).

The kontor_local plugin provides the ``infra``, ``namespace``, ``topic_prefix``,
``mongo_db_name`` and ``create_topics`` fixtures and marks tests by directory.
"""

pytest_plugins = ["kontor_local.pytest_plugin", "kontor_servicekit.testing"]
