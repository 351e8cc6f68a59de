#!/usr/bin/env bash
# The demo on the embedded default: SQLite app database, a generated SQLite legacy database,
# no broker. Migrates, generates, imports, validates, classifies, dry-runs, then serves the
# review workspace on loopback with a demo administrator whose one-time password it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
ROWS=${DEMO_ROWS:-2000}
PORT=${DEMO_PORT:-5000}
export LEGACY_DATABASE_URL="sqlite:///$PWD/instance/legacy_demo.sqlite"
unset CELERY_BROKER_URL

$BIN/flask db upgrade
$BIN/flask legacy make-demo-db --url "$LEGACY_DATABASE_URL" --rows "$ROWS"
$BIN/flask legacy import --connection=legacy --label=demo
run=$($BIN/flask legacy status --json | $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["runs"][-1]["run_id"])')
$BIN/flask legacy validate --run="$run" >/dev/null
$BIN/flask legacy classify --run="$run" >/dev/null
$BIN/flask legacy dry-run --run="$run"
echo
ECOIN_DEMO=1 $BIN/flask users demo-admin
if [ "${DEMO_SERVE:-1}" = "1" ]; then
  echo "Review workspace: http://127.0.0.1:$PORT/  (Ctrl-C to stop)"
  SESSION_COOKIE_SECURE=0 exec $BIN/flask run --host 127.0.0.1 --port "$PORT"
fi
