#!/usr/bin/env sh
# Set up (idempotent) what the browser test of the page at `/` needs beyond ./scripts/setup.sh, on
# Debian/Ubuntu: Chromium and its WebDriver from the distribution (root or sudo). The test
# (tests/browser/) drives them with Selenium and skips, saying why, when they are missing.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "Installing chromium and chromium-driver"
    run_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    run_as_root apt-get update -q
    run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium chromium-driver fonts-dejavu-core
fi
chromium --version
chromedriver --version
