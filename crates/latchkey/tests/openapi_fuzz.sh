#!/usr/bin/env bash
# Fuzzes a running latchkey against its own OpenAPI document (/openapi.json) with
# schemathesis: no answer may be a 5xx, and every answer must have a documented status,
# content type and body shape.
#
#   crates/latchkey/tests/openapi_fuzz.sh
#
# Environment (all optional):
#   FUZZ_MAX_EXAMPLES  test cases per operation in the fuzzing phase (default 100)
#   FUZZ_WORKERS       concurrent schemathesis workers (default 1: with 2, CPython 3.11.7's ast.parse
#                      races in hypothesis' lambda descriptions, "AST constructor recursion depth
#                      mismatch", a tool crash that is not a finding)
#   FUZZ_SEED          reproduce an earlier run (schemathesis prints its seed)
#   FUZZ_CHECKS        override the comma-separated list of checks
#   FUZZ_VENV          where the Python venv lives (default <repo>/.venv)
#   PORT               the port to serve on (default: a free one)
#
# It needs python3 (3.11) with network access to PyPI the first time, cargo, and curl.
# The last run's reports (JUnit, and a HAR of every request and response) are left in
# target/openapi-fuzz/ for reading after a failure.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
VENV=${FUZZ_VENV:-$ROOT/.venv}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-100}
WORKERS=${FUZZ_WORKERS:-1}
# Every check but three. positive_data_acceptance and negative_data_rejection: the schemas
# say which shapes are accepted, not every business rule (a UPN must be in the tenant's
# domain, lifetimes must fit the policy), so they would flag correct 400s.
# missing_required_header wants 401 before anything else, but the OAuth endpoints first
# refuse an unknown tenant with 400, as Entra does.
CHECKS=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method,allow_header_conformance,ignored_auth,use_after_free,ensure_resource_availability}

log() { printf '\n== %s\n' "$*" >&2; }

# (a) schemathesis, pinned, in a venv.
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# (b) the server.
log "building latchkey"
(cd "$ROOT" && cargo build --quiet -p latchkey)
BIN=$TARGET_DIR/debug/latchkey

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
BASE=http://127.0.0.1:$PORT
DB=(--database-url "sqlite:$TMP/l.db" --master-key-file "$TMP/k")

# (c) a fresh tenant, the server, and an app-only token.
log "initialising a tenant in $TMP"
"$BIN" init --output json "${DB[@]}" >"$TMP/init.json"
json() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
TENANT=$(json "$TMP/init.json" '["tenantId"]')
DOMAIN=$(json "$TMP/init.json" '["primaryDomain"]')
CLIENT_ID=$(json "$TMP/init.json" '["client"]["clientId"]')
CLIENT_SECRET=$(json "$TMP/init.json" '["client"]["clientSecret"]')
ADMIN_UPN=$(json "$TMP/init.json" '["admin"]["userPrincipalName"]')
ADMIN_PASS=$(json "$TMP/init.json" '["admin"]["temporaryAccessPass"]')
# A confidential web application for the browser sign-in below.
"$BIN" app add --output json "${DB[@]}" --web-redirect http://127.0.0.1:9/cb --secret fuzz-web >"$TMP/app.json"
WEB_APP_ID=$(json "$TMP/app.json" '["appId"]')
WEB_APP_SECRET=$(json "$TMP/app.json" '["clientSecret"]')

log "serving on $BASE"
# Per-address rate limits would throttle a fuzzer that sends everything from one address.
LATCHKEY_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=${RUST_LOG:-warn} \
    "$BIN" serve --listen "127.0.0.1:$PORT" --public-url "$BASE" "${DB[@]}" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$BASE/openapi.json" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -sf -o /dev/null "$BASE/openapi.json" || { echo "the server did not come up" >&2; cat "$TMP/server.log" >&2; exit 1; }

curl -sf "$BASE/$TENANT/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$CLIENT_ID" \
    --data-urlencode "client_secret=$CLIENT_SECRET" \
    --data-urlencode scope=https://graph.microsoft.com/.default >"$TMP/token.json"
TOKEN=$(json "$TMP/token.json" '["access_token"]')

# A delegated token too, so the /me operations and UserInfo get past "app-only tokens may
# not": the admin signs in with the pass `init` printed, through the authorization
# endpoint and the sign-in pages, as a browser would. Best effort: without it those
# operations are still fuzzed, with the app token.
sign_in() {
    local jar=$TMP/cookies redirect=http://127.0.0.1:9/cb location request csrf code
    location=$(curl -sf -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -G "$BASE/$TENANT/oauth2/v2.0/authorize" \
        --data-urlencode "client_id=$WEB_APP_ID" --data-urlencode "redirect_uri=$redirect" \
        -d response_type=code --data-urlencode 'scope=openid profile offline_access') || return 1
    request=${location##*request=}
    curl -sf -o /dev/null -c "$jar" -b "$jar" "$location" || return 1
    csrf=$(awk '$6 == "lk_csrf" { print $7 }' "$jar")
    curl -sf -o /dev/null -c "$jar" -b "$jar" "$BASE/$TENANT/login" --data-urlencode "csrf=$csrf" \
        --data-urlencode "request=$request" -d step=username --data-urlencode "username=$ADMIN_UPN" || return 1
    location=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$BASE/$TENANT/login" --data-urlencode "csrf=$csrf" \
        --data-urlencode "request=$request" -d step=tap --data-urlencode "username=$ADMIN_UPN" --data-urlencode "tap=$ADMIN_PASS")
    code=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$location" 2>/dev/null) ||
        return 1
    curl -sf "$BASE/$TENANT/oauth2/v2.0/token" -d grant_type=authorization_code --data-urlencode "code=$code" \
        --data-urlencode "redirect_uri=$redirect" --data-urlencode "client_id=$WEB_APP_ID" \
        --data-urlencode "client_secret=$WEB_APP_SECRET" | json /dev/stdin '["access_token"]' 2>/dev/null
}
USER_TOKEN=$(sign_in) || USER_TOKEN=
if [ -z "$USER_TOKEN" ]; then
    log "WARNING: could not sign the admin in; /me and UserInfo are fuzzed with the app-only token"
fi

# Objects and values for the fuzzer to aim at. Left to chance, a generated id never names
# anything and a generated userPrincipalName is never in the tenant's domain, so the
# handlers past the first 404 or 400 (and their success bodies) would go untested.
# Deleting operations get their own victims, so the others keep something to find.
graph_post() { curl -sf "$BASE/v1.0/$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2"; }
new_user() { graph_post users "{\"userPrincipalName\":\"$1@$DOMAIN\",\"displayName\":\"$1\"}" | json /dev/stdin '["id"]'; }
new_group() { graph_post groups "{\"displayName\":\"$1\"}" | json /dev/stdin '["id"]'; }
USERS=() VICTIMS=() GROUPS_=() DOOMED_GROUPS=()
for i in 1 2 3 4; do USERS+=("$(new_user "fuzz$i")"); done
USERS+=("fuzz1@$DOMAIN")
for i in 1 2 3; do VICTIMS+=("$(new_user "victim$i")"); done
for i in 1 2; do GROUPS_+=("$(new_group "fuzz group $i")"); done
for i in 1 2; do DOOMED_GROUPS+=("$(new_group "doomed group $i")"); done
graph_post "groups/${GROUPS_[0]}/members/\$ref" "{\"@odata.id\":\"$BASE/v1.0/directoryObjects/${USERS[1]}\"}" >/dev/null
PASS_ID=$(graph_post "users/${USERS[0]}/authentication/temporaryAccessPassMethods" '{}' | json /dev/stdin '["id"]')
# Passes that only reading (holder) or only deleting (victim) aims at, so a fuzzed create
# cannot replace them first.
new_pass() { graph_post "users/$1/authentication/temporaryAccessPassMethods" '{}' | json /dev/stdin '["id"]'; }
HOLDER=$(new_user holder) && HOLDER_PASS=$(new_pass "$HOLDER")
PASS_VICTIM=$(new_user pass-victim) && VICTIM_PASS=$(new_pass "$PASS_VICTIM")
curl -sf "$BASE/v1.0/roleManagement/directory/roleDefinitions" -H "Authorization: Bearer $TOKEN" >"$TMP/roles.json"
mapfile -t ROLES < <(python3 -c 'import json, sys; [print(r["id"]) for r in json.load(open(sys.argv[1]))["value"]]' "$TMP/roles.json")
ASSIGNMENT_ID=$(graph_post roleManagement/directory/roleAssignments \
    "{\"principalId\":\"${USERS[2]}\",\"roleDefinitionId\":\"${ROLES[0]}\",\"directoryScopeId\":\"/\"}" | json /dev/stdin '["id"]')
new_app() { graph_post applications "{\"displayName\":\"$1\"}" | json /dev/stdin '["id"]'; }
APP=$(new_app "fuzz app")
VICTIM_APP=$(new_app "victim app")
FUZZ_DOMAIN=fuzz.example
graph_post domains "{\"id\":\"$FUZZ_DOMAIN\"}" >/dev/null

toml_list() { printf '"%s", ' "$@" | sed 's/, $//'; }
cat >"$TMP/schemathesis.toml" <<EOF
[dictionaries.users]
values = [$(toml_list "${USERS[@]}")]

[dictionaries.victims]
values = [$(toml_list "${VICTIMS[@]}")]

[dictionaries.groups]
values = [$(toml_list "${GROUPS_[@]}")]

[dictionaries.doomed-groups]
values = [$(toml_list "${DOOMED_GROUPS[@]}")]

[dictionaries.ids]
values = [$(toml_list "$PASS_ID" "$ASSIGNMENT_ID" "${ROLES[@]:0:3}" TemporaryAccessPass)]

[dictionaries.holder]
values = [$(toml_list "$HOLDER")]

[dictionaries.holder-pass]
values = [$(toml_list "$HOLDER_PASS")]

[dictionaries.pass-victim]
values = [$(toml_list "$PASS_VICTIM")]

[dictionaries.victim-pass]
values = [$(toml_list "$VICTIM_PASS")]

[dictionaries.apps]
values = [$(toml_list "$APP")]

[dictionaries.victim-apps]
values = [$(toml_list "$VICTIM_APP")]

[dictionaries.domains]
values = [$(toml_list "$FUZZ_DOMAIN" "$DOMAIN")]

[dictionaries.fed-domains]
values = [$(toml_list "$FUZZ_DOMAIN")]

[dictionaries.new-domains]
values = [$(toml_list $(for i in $(seq 1 20); do echo "new$i.example"; done))]

[dictionaries.idp-urls]
values = ["https://idp.fabrikam.test/adfs/ls/"]

[dictionaries.roles]
values = [$(toml_list "${ROLES[@]}")]

[dictionaries.tenants]
values = [$(toml_list "$TENANT" "$DOMAIN")]

[dictionaries.new-upns]
values = [$(toml_list $(for i in $(seq 1 40); do echo "new$i@$DOMAIN"; done))]

[dictionaries.guest-emails]
values = [$(toml_list $(for i in $(seq 1 20); do echo "guest$i@fabrikam.test"; done))]

[dictionaries.user-types]
values = ["Member", "Guest"]

[dictionaries.guest]
values = ["Guest"]

[dictionaries.redirects]
values = ["https://myapps.example/"]

[dictionaries.client-ids]
values = [$(toml_list "$CLIENT_ID")]

[dictionaries.client-secrets]
values = [$(toml_list "$CLIENT_SECRET")]

[dictionaries.client-credentials]
values = ["client_credentials"]

[dictionaries.scopes]
values = ["https://graph.microsoft.com/.default", "00000003-0000-0000-c000-000000000000/.default", "openid profile offline_access"]

[dictionaries.response-types]
values = ["code"]

[dictionaries.states]
values = ["enabled", "disabled"]

[dictionaries.lifetimes]
values = [10, 60, 120, 480, 43200]

[dictionaries.lengths]
values = [8, 12, 48]

[dictionaries.target-types]
values = ["group"]

[dictionaries.target-ids]
values = [$(toml_list all_users "${GROUPS_[@]}")]

[parameters]
"path.tenant" = { dictionary = "tenants", probability = 0.8 }
"path.user" = { dictionary = "users", probability = 0.6 }
"path.member" = { dictionary = "users", probability = 0.5 }
"path.group" = { dictionary = "groups", probability = 0.6 }
"path.id" = { dictionary = "ids", probability = 0.6 }
"path.application" = { dictionary = "apps", probability = 0.6 }
"body.passiveSignInUri" = { dictionary = "idp-urls", probability = 0.6 }
"body.issuerUri" = { dictionary = "idp-urls", probability = 0.6 }
"body.principalId" = { dictionary = "users", probability = 0.5 }
"body.roleDefinitionId" = { dictionary = "roles", probability = 0.5 }
"body.userPrincipalName" = { dictionary = "new-upns", probability = 0.6 }
"body.userType" = { dictionary = "user-types", probability = 0.6 }
"body.invitedUserEmailAddress" = { dictionary = "guest-emails", probability = 0.6 }
"body.inviteRedirectUrl" = { dictionary = "redirects", probability = 0.6 }
"body.invitedUserType" = { dictionary = "guest", probability = 0.6 }
"body.grant_type" = { dictionary = "client-credentials", probability = 0.5 }
"body.client_id" = { dictionary = "client-ids", probability = 0.7 }
"query.client_id" = { dictionary = "client-ids", probability = 0.5 }
"body.scope" = { dictionary = "scopes", probability = 0.6 }
"query.response_type" = { dictionary = "response-types", probability = 0.6 }
"body.response_type" = { dictionary = "response-types", probability = 0.6 }
"body.client_secret" = { dictionary = "client-secrets", probability = 0.7 }
"body.state" = { dictionary = "states", probability = 0.6 }
"body.lifetimeInMinutes" = { dictionary = "lifetimes", probability = 0.6 }
"body.minimumLifetimeInMinutes" = { dictionary = "lifetimes", probability = 0.6 }
"body.maximumLifetimeInMinutes" = { dictionary = "lifetimes", probability = 0.6 }
"body.defaultLifetimeInMinutes" = { dictionary = "lifetimes", probability = 0.6 }
"body.defaultLength" = { dictionary = "lengths", probability = 0.6 }
"body.includeTargets[*].targetType" = { dictionary = "target-types", probability = 0.6 }
"body.includeTargets[*].id" = { dictionary = "target-ids", probability = 0.6 }
"body.excludeTargets[*].targetType" = { dictionary = "target-types", probability = 0.6 }
"body.excludeTargets[*].id" = { dictionary = "target-ids", probability = 0.6 }

$(if [ -n "$USER_TOKEN" ]; then
    for op in get_me list_my_methods list_my_passes get_my_pass delete_my_pass userinfo userinfo_post; do
        printf '[[operations]]\ninclude-operation-id = "%s"\nheaders = { Authorization = "Bearer %s" }\n\n' "$op" "$USER_TOKEN"
    done
fi)

[[operations]]
include-operation-id = "get_pass"
parameters = { "path.user" = { dictionary = "holder", probability = 0.7 }, "path.id" = { dictionary = "holder-pass", probability = 0.7 } }

[[operations]]
include-operation-id = "delete_pass"
parameters = { "path.user" = { dictionary = "pass-victim", probability = 0.7 }, "path.id" = { dictionary = "victim-pass", probability = 0.7 } }

[[operations]]
include-operation-id = "delete_user"
parameters = { "path.user" = { dictionary = "victims", probability = 0.6 } }

[[operations]]
include-operation-id = "delete_application"
parameters = { "path.application" = { dictionary = "victim-apps", probability = 0.6 } }

[[operations]]
include-operation-id = "get_domain"
parameters = { "path.id" = { dictionary = "domains", probability = 0.7 } }

[[operations]]
include-operation-id = "create_federation"
parameters = { "path.id" = { dictionary = "fed-domains", probability = 0.7 } }

[[operations]]
include-operation-id = "create_domain"
parameters = { "body.id" = { dictionary = "new-domains", probability = 0.6 } }

[[operations]]
include-operation-id = "delete_group"
parameters = { "path.group" = { dictionary = "doomed-groups", probability = 0.6 } }
EOF

# (d) the fuzzing run. The bearer header goes on every request; the OAuth endpoints
# ignore it (the token endpoint reads only Basic credentials from Authorization), so the
# token endpoint is fuzzed too.
log "fuzzing $BASE/openapi.json (checks: $CHECKS)"
REPORTS=$TARGET_DIR/openapi-fuzz
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
ARGS=(
    run "$BASE/openapi.json"
    --header "Authorization: Bearer $TOKEN"
    --checks "$CHECKS"
    --max-examples "$MAX_EXAMPLES"
    --workers "$WORKERS"
    --request-timeout 10
    --generation-database none
    --report junit,har --report-dir "$REPORTS"
    --no-color
)
if [ -n "${FUZZ_SEED:-}" ]; then ARGS+=(--seed "$FUZZ_SEED"); fi
STATUS=0
(cd "$TMP" && "$VENV/bin/schemathesis" --config-file "$TMP/schemathesis.toml" "${ARGS[@]}") || STATUS=$?

# (e) a panic caught by the server's guard is a 500 the fuzzer saw; say so plainly too.
if grep -qiE 'panic|internal error' "$TMP/server.log"; then
    log "the server logged internal errors:"
    grep -iE 'panic|internal error' "$TMP/server.log" | head -20 >&2
    if [ "$STATUS" -eq 0 ]; then STATUS=1; fi
fi
if [ "$STATUS" -ne 0 ]; then
    log "FAILED (exit $STATUS); reports in $REPORTS"
else
    log "passed"
fi
exit "$STATUS"
