#!/usr/bin/env bash
# Build the image of every Kontor service from the repository root (`make images`).
#
# Needs a Docker-compatible engine (docker with BuildKit, or podman via ENGINE=podman).
# Where none is reachable it says so and builds nothing; it exits 0 then, unless
# REQUIRE_ENGINE=1 (CI that must produce images), where it exits 1.
#
#   REGISTRY   image name prefix            (default: kontor)
#   TAG        image tag                    (default: git short hash, else "dev")
#   SERVICES   which services to build      (default: all six)
#   PUSH=1     push after building
set -euo pipefail

cd "$(dirname "$0")/.."

ENGINE="${ENGINE:-docker}"
REGISTRY="${REGISTRY:-kontor}"
TAG="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
SERVICES="${SERVICES:-catalog orders billing support marketing analytics}"

if ! command -v "$ENGINE" >/dev/null 2>&1 || ! "$ENGINE" info >/dev/null 2>&1; then
    echo "make images: no container engine available ('$ENGINE info' failed or '$ENGINE' is not installed)." >&2
    echo "make images: NOTHING WAS BUILT. Run this where Docker (or ENGINE=podman) works," >&2
    echo "make images: e.g. in CI; the Dockerfiles are services/<name>/Dockerfile, context = repo root." >&2
    if [[ "${REQUIRE_ENGINE:-0}" == "1" ]]; then
        exit 1
    fi
    exit 0
fi

export DOCKER_BUILDKIT=1
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
for service in $SERVICES; do
    image="$REGISTRY/$service:$TAG"
    echo "make images: building $image"
    "$ENGINE" build \
        --file "services/$service/Dockerfile" \
        --tag "$image" \
        --label "org.opencontainers.image.title=kontor-$service" \
        --label "org.opencontainers.image.revision=$revision" \
        .
    if [[ "${PUSH:-0}" == "1" ]]; then
        "$ENGINE" push "$image"
    fi
done
echo "make images: built $(wc -w <<<"$SERVICES") image(s) tagged $TAG"
