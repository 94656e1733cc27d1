# Kontor: one entry point. `make run` starts the platform, `make test` runs every test tier.
SHELL := /bin/bash
UV := $(shell ./scripts/bootstrap.sh)
# --compile-bytecode, and compileall for the workspace's own sources: with
# PYTHONDONTWRITEBYTECODE=1 (set on the development machines) no import ever writes a
# .pyc, so every process compiled every module again (3.4 -> 1.8 CPU-s for the services'
# code, ADR 0144)
SYNC := $(UV) sync --locked --all-packages --quiet --compile-bytecode
WORKSPACE_SOURCES := contracts/src libs/servicekit/src deploy/local/src $(wildcard services/*/src)
RUN := $(UV) run --locked --all-packages

.PHONY: help setup run infra token test test-unit test-service test-integration test-security test-browser lint format bench bench-peer bench-replicas soak \
        contracts-check contracts-update asyncapi asyncapi-check dockerfiles images k8s-validate k8s-generate clean

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

setup: ## install the locked dependencies into .venv, compiled to bytecode
	$(SYNC)
	@.venv/bin/python -m compileall -q $(WORKSPACE_SOURCES) >/dev/null

run: setup ## the whole platform on the embedded broker and database (Ctrl-C stops it)
	$(RUN) kontor-local run

infra: setup ## only the embedded broker and database
	$(RUN) kontor-local infra

token: setup ## a bearer token with every scope (last line)
	@$(RUN) kontor-local token

# The browser tier needs a headless Chromium: ensure-browser.sh finds one or installs Debian's.
BROWSER = KONTOR_BROWSER="$$(./scripts/ensure-browser.sh)"
# Billing's PDF render proof (a unit test) needs Debian's poppler-utils (pdftoppm, pdftotext).
POPPLER = ./scripts/ensure-debian-packages.sh poppler-utils:pdftoppm
# The suite mostly waits (group joins, polling deadlines, start-ups): pytest-xdist runs it in
# KONTOR_TEST_WORKERS processes, each with its own broker and database; tests that share a
# module- or package-wide fixture stay on one worker (loadgroup). 0 runs it in one process.
TEST_WORKERS ?= $(or $(KONTOR_TEST_WORKERS),3)

test: setup ## every tier: unit, service (in-memory broker), integration (real broker + database), security, browser
	$(POPPLER)
	$(BROWSER) $(RUN) pytest -n $(TEST_WORKERS) --dist loadgroup

test-unit: setup ## tests that need no broker and no database (fast)
	$(POPPLER)
	$(RUN) pytest -m unit

test-service: setup ## services with the in-memory broker over a real database
	$(RUN) pytest -m service

test-integration: setup ## real Kafka-protocol broker and MongoDB-protocol server
	$(RUN) pytest -m integration

test-security: setup ## hostile input against every service's HTTP edge (real broker + database)
	$(RUN) pytest -m security

test-browser: setup ## the pages in headless Chromium (installs Debian's chromium-headless-shell if missing)
	$(BROWSER) $(RUN) pytest -m browser

lint: setup ## ruff and mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy contracts/src libs/servicekit/src deploy/local/src services/*/src deploy/k8s

format: setup
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: setup ## orders/s and latency through the HTTP API vs raw Kafka and raw Mongo
	$(RUN) python -m kontor_local.bench

bench-peer: setup ## the storefront flow beside the Medusa peer's (../shared/peers/medusa), as a ratio
	$(RUN) python -m kontor_local.bench_peer $(BENCH_PEER_ARGS)

bench-replicas: setup ## billing with 1, 2 and 4 replicas of its consumer group draining one backlog
	$(RUN) python -m kontor_local.bench_replicas $(BENCH_REPLICAS_ARGS)

soak: setup ## the order life for 3 min while parts of the runtime are SIGKILLed; reconciles every count
	$(RUN) python -m kontor_local.soak $(SOAK_ARGS)

contracts-check: setup ## fail when a committed JSON schema is stale
	$(RUN) python -m kontor_contracts.schemas check

contracts-update: setup ## regenerate the JSON schemas (refuses breaking changes)
	$(RUN) python -m kontor_contracts.schemas write

asyncapi: setup ## regenerate each service's AsyncAPI document
	$(RUN) python -m kontor_servicekit.asyncapi write

asyncapi-check: setup
	$(RUN) python -m kontor_servicekit.asyncapi check

k8s-generate: setup ## regenerate the Kafka topics, users and autoscaling from the code
	$(RUN) python deploy/k8s/generate.py

k8s-validate: setup ## render every overlay and validate it strictly
	$(RUN) python deploy/k8s/validate.py

dockerfiles: setup ## render the six Dockerfiles from deploy/Dockerfile.template
	$(RUN) python deploy/dockerfiles.py write

images: ## build the six container images (needs a Docker engine)
	bash deploy/images.sh

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
