#!/usr/bin/env sh
# Set up (idempotent) what the container suite needs beyond ./scripts/setup.sh, on Debian/Ubuntu:
#   - podman, buildah, runc, debootstrap and docker-compose from the distribution (root or sudo);
#   - .work/venv-ray: Ray Serve with our packages (editable), kept apart from .venv because Ray
#     brings uvloop and httptools, which would change the plain server under the benchmarks.
# Then: VISIONHOST_CONTAINER_TESTS=1 ./scripts/test.sh tests/containers
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh

missing=""
for tool in podman buildah runc debootstrap docker-compose; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "Installing container tools:$missing"
    run_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    run_as_root apt-get update -q
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc debootstrap
    # Only the compose client: its recommended docker.io daemon is not wanted.
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose
fi

PYTHON="${PYTHON:-python3}"
RAY_VENV=.work/venv-ray
[ -x "$RAY_VENV/bin/python" ] || "$PYTHON" -m venv "$RAY_VENV"
"$RAY_VENV/bin/python" -m pip install --quiet --upgrade pip
"$RAY_VENV/bin/python" -m pip install --quiet -e packages/inference-core -e "packages/backend-onnx[cpu]" \
    -e "packages/inference-server[ray]"
