#!/usr/bin/env sh
# Set up (idempotent), then detect shapes in the bundled sample image and print the JSON.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
