#!/usr/bin/env sh
# Set up (idempotent) and run every test of every package.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
