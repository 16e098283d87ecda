#!/usr/bin/env bash
# latchkey's pages in a real browser: Debian's Chromium, headless, driven by Playwright for
# Python (pinned in requirements.txt beside this file), against `latchkey serve` on a free
# port at http://localhost:PORT. Covers a pass sign-in landing on My Security Info (and
# its banner), passkeys (CDP virtual authenticator: registration, sign-in with and without
# the user name, answers for the wrong or a used ceremony, a cancelled ceremony), the
# authenticator app (pyotp: enrolment, sign-in, a replayed code), deleting the pass (the
# session ends, the pass stops working), an application sign-in (code flow with PKCE; a
# pass sign-in offers a passkey first), a phone-sized viewport with keyboard-only use,
# labels on every field, and that no page requests anything outside the server.
#
#   crates/latchkey/tests/browser/run.sh [TEST_NAME ...]
#
# Environment (all optional):
#   BROWSER_VENV         the Python venv (default <repo>/.venv, shared with oidc_rp and openapi_fuzz)
#   CHROMIUM             the browser (default /usr/bin/chromium; `apt-get install chromium`)
#   PORT                 the port to serve on (default: a free one)
#   LATCHKEY_BIN         a latchkey binary to test instead of building target/debug/latchkey
#   BROWSER_SCREENSHOTS  where screenshots and the server's log go (default
#                        <target>/browser-screenshots, emptied first)
#
# The browser is never downloaded (no `playwright install`). The last line is
# `browser: N passed, M failed`; the exit status is non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
VENV=${BROWSER_VENV:-$ROOT/.venv}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REQUIREMENTS=$HERE/requirements.txt
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SHOTS=${BROWSER_SCREENSHOTS:-$TARGET_DIR/browser-screenshots}

log() { printf '== %s\n' "$*" >&2; }

if [ ! -x "$CHROMIUM" ]; then
    echo "no Chromium at $CHROMIUM: install Debian's (apt-get install chromium) or set CHROMIUM" >&2
    echo "browser: 0 passed, 1 failed"
    exit 1
fi

# (a) Playwright and pyotp, pinned, in the venv (pip is not asked when the pins are met).
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" - "$REQUIREMENTS" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, pin = line.split("==")
        assert version(name) == pin, name
EOF
    log "installing $(grep -v '^#' "$REQUIREMENTS" | tr '\n' ' ')into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

# (b) the server.
if [ -n "${LATCHKEY_BIN:-}" ]; then
    BIN=$LATCHKEY_BIN
else
    log "building latchkey"
    (cd "$ROOT" && cargo build --quiet -p latchkey)
    BIN=$TARGET_DIR/debug/latchkey
fi

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
# A WebAuthn relying-party id must be a domain name: browse at localhost, never 127.0.0.1.
BASE=http://localhost:$PORT
DB=(--database-url "sqlite:$TMP/l.db" --master-key-file "$TMP/k")

log "initialising a tenant in $TMP"
"$BIN" init --output json "${DB[@]}" >"$TMP/init.json" 2>"$TMP/cli.log"
# A single-page app whose redirect URI is on the server's own origin, so the browser never
# leaves it (the page there is a 404; the test reads the code from the address).
"$BIN" app add "Browser test app" --spa-redirect "$BASE/browser-test/callback" --output json "${DB[@]}" \
    >"$TMP/app.json" 2>>"$TMP/cli.log"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
python3 - "$TMP/init.json" "$TMP/app.json" "$BASE" "$CHROMIUM" "$SHOTS" >"$TMP/config.json" <<'EOF'
import json, sys
init_file, app_file, base, chromium, shots = sys.argv[1:]
init, app = json.load(open(init_file)), json.load(open(app_file))
json.dump({
    "publicUrl": base,
    "tenantId": init["tenantId"],
    "primaryDomain": init["primaryDomain"],
    "client": init["client"],
    "app": {"clientId": app["appId"], "displayName": app["displayName"], "redirectUri": f"{base}/browser-test/callback"},
    "chromium": chromium,
    "screenshots": shots,
}, sys.stdout)
EOF

log "serving on $BASE"
# The tests sign in many times from one address; wrong-code lockouts per user still apply.
LATCHKEY_RATE_LIMIT_PER_MINUTE=0 LATCHKEY_LOG=${LATCHKEY_LOG:-info,sqlx=warn} NO_COLOR=1 \
    "$BIN" serve --listen "127.0.0.1:$PORT" --public-url "$BASE" "${DB[@]}" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
DISCOVERY=http://127.0.0.1:$PORT/$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tenantId"])' "$TMP/init.json")/v2.0/.well-known/openid-configuration
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$DISCOVERY" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -sf -o /dev/null "$DISCOVERY" || { echo "the server did not come up" >&2; cat "$TMP/server.log" >&2; exit 1; }

# (c) the browser.
status=0
"$VENV/bin/python" "$HERE/browser_tests.py" "$TMP/config.json" "$@" | tee "$TMP/browser.out" || status=$?
cp "$TMP/server.log" "$SHOTS/server.log"
if [ "$status" -ne 0 ]; then
    log "server log (last 40 lines; all of it in $SHOTS/server.log)"
    tail -n 40 "$TMP/server.log" >&2
    # The summary stays the last line (one is made up if the script died before it).
    grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$TMP/browser.out" | tail -n 1 | grep . ||
        echo "browser: 0 passed, 1 failed"
fi
exit "$status"
