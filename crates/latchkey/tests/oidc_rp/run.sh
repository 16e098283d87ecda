#!/usr/bin/env bash
# latchkey against an independent OpenID Connect relying-party library (Authlib, pinned in
# requirements.txt beside this file): discovery, the code flow with PKCE S256, state and
# nonce, the code exchange for a confidential web client (client_secret_basic and
# client_secret_post) and a public SPA (PKCE only), ID token validation against the JWKS,
# UserInfo, refresh-token rotation, RP-initiated logout, and tampered ID tokens.
#
#   crates/latchkey/tests/oidc_rp/run.sh
#
# Environment (all optional):
#   OIDC_RP_VENV  where the Python venv lives (default <repo>/.venv, shared with openapi_fuzz.sh)
#   PORT          the port to serve on (default: a free one)
#   LATCHKEY_BIN  a latchkey binary to test instead of building target/debug/latchkey
#
# It needs python3 with access to PyPI the first time, and cargo. The last line is
# `oidc-rp: N passed, M failed[, K skipped]` (skipped: known server deviations, listed as
# KNOWN above it); the exit status is non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
VENV=${OIDC_RP_VENV:-$ROOT/.venv}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REQUIREMENTS=$HERE/requirements.txt

log() { printf '== %s\n' "$*" >&2; }

# (a) the relying party, pinned, in the venv (pip is not asked when the pins are met).
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
BASE=http://localhost:$PORT
DB=(--database-url "sqlite:$TMP/l.db" --master-key-file "$TMP/k")
json() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# (c) a tenant, a user with a pass, and the two clients. The redirect URIs are never
# fetched: the test reads the Location the server sends the browser to.
log "initialising a tenant in $TMP"
"$BIN" init --output json "${DB[@]}" >"$TMP/init.json" 2>"$TMP/cli.log"
DOMAIN=$(json "$TMP/init.json" '["primaryDomain"]')
WEB_REDIRECT=http://localhost:8400/web/callback
SPA_REDIRECT=http://localhost:8401/spa/callback
"$BIN" app add "OIDC RP web" --web-redirect "$WEB_REDIRECT" --secret --output json "${DB[@]}" >"$TMP/web.json" 2>>"$TMP/cli.log"
"$BIN" app add "OIDC RP spa" --spa-redirect "$SPA_REDIRECT" --output json "${DB[@]}" >"$TMP/spa.json" 2>>"$TMP/cli.log"
USER_NAME="Rita Relying"
"$BIN" user add "rita@$DOMAIN" --display-name "$USER_NAME" --output json "${DB[@]}" >"$TMP/user.json" 2>>"$TMP/cli.log"
"$BIN" tap create "rita@$DOMAIN" --lifetime 120 --output json "${DB[@]}" >"$TMP/tap.json" 2>>"$TMP/cli.log"

python3 - "$TMP" "$BASE" "$WEB_REDIRECT" "$SPA_REDIRECT" "$USER_NAME" >"$TMP/config.json" <<'EOF'
import json, sys
tmp, base, web_redirect, spa_redirect, user_name = sys.argv[1:]
load = lambda name: json.load(open(f"{tmp}/{name}.json"))
init, web, spa, user, tap = (load(n) for n in ("init", "web", "spa", "user", "tap"))
json.dump({
    "publicUrl": base,
    "tenantId": init["tenantId"],
    "user": {"id": user["id"], "userPrincipalName": user["userPrincipalName"], "displayName": user_name,
             "temporaryAccessPass": tap["temporaryAccessPass"]},
    "web": {"clientId": web["appId"], "clientSecret": web["clientSecret"], "redirectUri": web_redirect},
    "spa": {"clientId": spa["appId"], "redirectUri": spa_redirect},
}, sys.stdout)
EOF

log "serving on $BASE"
# This suite is about protocol conformance; it signs in several times from one address.
LATCHKEY_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=${RUST_LOG:-warn} \
    "$BIN" serve --listen "127.0.0.1:$PORT" --public-url "$BASE" "${DB[@]}" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
DISCOVERY=http://127.0.0.1:$PORT/$(json "$TMP/init.json" '["tenantId"]')/v2.0/.well-known/openid-configuration
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$DISCOVERY" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -sf -o /dev/null "$DISCOVERY" || { echo "the server did not come up" >&2; cat "$TMP/server.log" >&2; exit 1; }

# (d) the relying party.
status=0
"$VENV/bin/python" "$HERE/relying_party.py" "$TMP/config.json" | tee "$TMP/rp.out" || status=$?
if [ "$status" -ne 0 ]; then
    log "server log (last 40 lines)"
    tail -n 40 "$TMP/server.log" >&2
    tail -n 1 "$TMP/rp.out"  # the summary stays the last line
fi
exit "$status"
