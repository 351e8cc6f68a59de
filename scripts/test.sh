#!/usr/bin/env bash
# The whole test suite. Starts the local services the integration tests need when they are down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
# The browser tests (tests/browser) drive Debian's Chromium; never `playwright install`.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "/usr/bin/chromium is missing and the browser tests need it: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
fi
.venv/bin/ruff check .
.venv/bin/mypy app benchmarks
status=0
.venv/bin/pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
