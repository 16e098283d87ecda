#!/usr/bin/env bash
# Passkey and authenticator-app (TOTP) sign-ins/s end to end, against Temporary Access
# Pass sign-ins/s on the same server, users and run (issue 4, "Measure").
#
#   bench/methods/run.sh                      (SQLite; ~2 min after the release build)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_methods bench/methods/run.sh
#
# Knobs: USERS (default 2400: each can sign in with a code once per 30 s step, so the TOTP
# slice needs many), CONNS (16), ROUNDS (3), SLICE (s per measurement, 3), PORT.
# Each round measures pass, passkey and code sign-ins in turn (see methods-load.rs for the
# exact requests); the figures are medians over the rounds, and the ratios are to the
# pass sign-ins of the same rounds. Output: stdout and bench/results/methods-latest.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
USERS=${USERS:-2400}
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-3}
SLICE=${SLICE:-3}
PORT=${PORT:-18395}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
WORK=$(mktemp -d /tmp/latchkey-methods.XXXXXX)
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet -p latchkey -p latchkey-bench --bin latchkey --bin methods-load
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
DB=${DATABASE_URL:-sqlite:$WORK/latchkey.db}
if [[ $DB == postgres* ]]; then
  # A fresh database for every run.
  ADMIN_URL=${DB%/*}/postgres
  NAME=${DB##*/}
  psql "$ADMIN_URL" -qc "drop database if exists \"$NAME\"" >/dev/null
  psql "$ADMIN_URL" -qc "create database \"$NAME\"" >/dev/null
fi
export LATCHKEY_MASTER_KEY_FILE=$WORK/latchkey.key
"$BIN/latchkey" init --database-url "$DB" --output json >"$WORK/init.json" 2>"$WORK/init.log"
read -r TENANT CLIENT_ID CLIENT_SECRET < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["tenantId"], d["client"]["clientId"], d["client"]["clientSecret"])' "$WORK/init.json")

# A passkey's relying-party id must be a domain name: the public URL is localhost.
LATCHKEY_RATE_LIMIT_PER_MINUTE=0 LATCHKEY_LOG=warn "$BIN/latchkey" serve --database-url "$DB" \
  --listen "127.0.0.1:$PORT" --public-url "http://localhost:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/openapi.json" >/dev/null 2>&1 && break
  sleep 0.1
done

{
  echo "# latchkey sign-in methods benchmark, $(date -u +%FT%TZ), git $(git rev-parse --short HEAD)"
  echo "# $(nproc) cores; database ${DB%%:*}; users=$USERS conns=$CONNS rounds=$ROUNDS slice=${SLICE}s"
  "$BIN/methods-load" --base "http://localhost:$PORT" --tenant "$TENANT" --client-id "$CLIENT_ID" \
    --client-secret "$CLIENT_SECRET" --users "$USERS" --conns "$CONNS" --rounds "$ROUNDS" --slice "$SLICE"
  echo "# server peak RSS: $(grep VmHWM /proc/$SERVER_PID/status | awk '{print $2, $3}')"
} | tee "$RESULTS/methods-latest.txt"
