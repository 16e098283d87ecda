#!/usr/bin/env bash
# Sign-in and token-endpoint benchmark for latchkey (issue 3, "Measure").
#
# Every figure is printed beside a baseline measured in the same run on the same machine:
#   1. TAP sign-ins/s end to end (authorize -> login page -> user name -> pass -> 303 with
#      code) vs raw Argon2id verifications/s (m=19456 KiB, t=2, p=1) on every core.
#   2. client_credentials and refresh_token grants/s vs node's oidc-provider (RS256 JWT
#      access tokens) and vs `openssl speed -multi $(nproc) rsa2048` signs/s.
#   3. latchkey's VmRSS/VmHWM idle and under a 500-connection flood of wrong codes.
#
# Usage: bench/signin/run.sh            (~6 min)
#        QUICK=1 bench/signin/run.sh    (~3 min)
# Knobs: DUR (s per measurement), USERS, CONNS (sign-in), TOKEN_CONNS (grants),
#        FLOOD_CONNS, PORT, NODE_PORT, QUIET_PCT / QUIET_MAX / QUIET_BUDGET (see README),
#        RSBENCH_DIR (optional in-process RS256 backend comparison, see README).
# Output: stdout and bench/results/signin-latest.txt; logs in bench/results/signin-last-run/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then DEF_DUR=4; DEF_USERS=100; else DEF_DUR=10; DEF_USERS=200; fi
DUR=${DUR:-$DEF_DUR}
USERS=${USERS:-$DEF_USERS}
NCPU=$(nproc)
CONNS=${CONNS:-$((NCPU * 8))}
TOKEN_CONNS=${TOKEN_CONNS:-32}
FLOOD_CONNS=${FLOOD_CONNS:-500}
PORT=${PORT:-18390}
NODE_PORT=${NODE_PORT:-18391}
QUIET_PCT=${QUIET_PCT:-25}
QUIET_MAX=${QUIET_MAX:-15}
QUIET_BUDGET=${QUIET_BUDGET:-90}
RSBENCH_DIR=${RSBENCH_DIR:-/tmp/rsbench}
RESULTS=$ROOT/bench/results
LOGS=$RESULTS/signin-last-run
OUT=$RESULTS/signin-latest.txt
mkdir -p "$LOGS"
rm -f "$LOGS"/*
WORK=$(mktemp -d /tmp/latchkey-signin.XXXXXX)
BIN=$ROOT/target/release
LOAD=$BIN/signin-load
START=$(date +%s)
SERVER_PID=""
NODE_PID=""

log() { echo "[signin $(($(date +%s) - START))s] $*" >&2; }

cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -n $NODE_PID ]] && kill "$NODE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- CPU accounting ------------------------------------------------------------------------
# Busy ticks of the whole machine, and ticks of given processes (with their children's
# threads: /proc/PID/stat counts every thread of the process).
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
pid_ticks() {
  local t=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12+$13}')))
  done
  echo "$t"
}
ours() { # our long-running processes: latchkey serve, node primary + workers
  local p=()
  [[ -n $SERVER_PID ]] && p+=("$SERVER_PID")
  if [[ -n $NODE_PID ]]; then p+=("$NODE_PID"); p+=($(pgrep -P "$NODE_PID" || true)); fi
  echo "${p[@]}"
}
HZ=$(getconf CLK_TCK)
# Share (%) of the machine other processes used over the last second.
other_pct_now() {
  local b0 o0 b1 o1
  b0=$(busy_ticks); o0=$(pid_ticks $(ours)); sleep 1; b1=$(busy_ticks); o1=$(pid_ticks $(ours))
  echo $(( ((b1 - b0) - (o1 - o0)) * 100 / (HZ * NCPU) ))
}
QUIET_USED=0
wait_quiet() { # waits (bounded) until others use less than QUIET_PCT % of the machine
  local waited=0 pct
  pct=$(other_pct_now)
  while (( pct > QUIET_PCT && waited < QUIET_MAX && QUIET_USED < QUIET_BUDGET )); do
    sleep 1; waited=$((waited + 2)); QUIET_USED=$((QUIET_USED + 2)); pct=$(other_pct_now)
  done
  BEFORE_PCT=$pct
}
# measure NAME CMD...: runs a load command, records the other load during it (machine busy
# minus our servers minus the driver's own CPU time, which it prints as *_driver_cpu_s).
declare -A FIG
declare -A OTHER
declare -A SRV_MS # server CPU milliseconds per successful operation
measure() {
  local name=$1; shift
  wait_quiet
  local b0 o0 t0 b1 o1 t1 out drv
  b0=$(busy_ticks); o0=$(pid_ticks $(ours)); t0=$(date +%s.%N)
  out=$("$@" 2> "$LOGS/$name.err") || { cat "$LOGS/$name.err" >&2; echo "$out" > "$LOGS/$name.txt"; log "$name failed"; return 1; }
  b1=$(busy_ticks); o1=$(pid_ticks $(ours)); t1=$(date +%s.%N)
  echo "$out" > "$LOGS/$name.txt"
  drv=$(echo "$out" | sed -n 's/^.*_driver_cpu_s=//p' | head -1)
  OTHER[$name]=$(awk -v b=$(( b1 - b0 )) -v o=$(( o1 - o0 )) -v d="${drv:-0}" -v hz="$HZ" -v n="$NCPU" -v t0="$t0" -v t1="$t1" \
    'BEGIN { p = (b - o - d * hz) * 100 / (hz * n * (t1 - t0)); if (p < 0) p = 0; printf "%.0f", p }')
  OTHER[$name]="${OTHER[$name]}% (before: ${BEFORE_PCT}%)"
  local ok; ok=$(echo "$out" | sed -n 's/^[a-z_]*_ok=//p' | head -1)
  SRV_MS[$name]=$(awk -v o=$(( o1 - o0 )) -v hz="$HZ" -v n="${ok:-0}" -v d="${drv:-0}" 'BEGIN { if (n > 0) printf "%.2f (driver %.2f)", o * 1000 / hz / n, d * 1000 / n; else print "n/a" }')
  while IFS='=' read -r k v; do [[ -n $k ]] && FIG[$k]=$v; done <<< "$out"
}
# baseline NAME CMD...: a CPU-bound baseline; only the other load before it is known.
baseline() {
  local name=$1; shift
  wait_quiet
  local out
  out=$("$@" 2> "$LOGS/$name.err") || { cat "$LOGS/$name.err" >&2; log "$name failed"; return 1; }
  echo "$out" > "$LOGS/$name.txt"
  OTHER[$name]="before: ${BEFORE_PCT}%"
  while IFS='=' read -r k v; do [[ -n $k ]] && FIG[$k]=$v; done <<< "$out"
}
rss_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# --- build and tools -----------------------------------------------------------------------
log "building (release) latchkey and signin-load"
cargo build --release -q -p latchkey --bin latchkey 2> "$LOGS/build.err" || { cat "$LOGS/build.err" >&2; exit 1; }
cargo build --release -q -p latchkey-bench --bin signin-load 2>> "$LOGS/build.err" || { cat "$LOGS/build.err" >&2; exit 1; }
command -v openssl > /dev/null || { log "installing openssl"; apt-get install -y -q openssl > /dev/null; }
if [[ ! -d bench/signin/node/node_modules/oidc-provider ]]; then
  log "installing oidc-provider (npm ci)"
  (cd bench/signin/node && npm ci --no-audit --no-fund --loglevel=error > "$LOGS/npm.log" 2>&1)
fi

# --- latchkey: init, app, server, users ----------------------------------------------------
DB="sqlite:$WORK/l.db"
KEY=$WORK/k
LK=("$BIN/latchkey" --database-url "$DB" --master-key-file "$KEY")
"${LK[@]}" init --output json > "$WORK/init.json" 2> "$LOGS/init.log"
TID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenantId"])' "$WORK/init.json")
AUTO_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client"]["clientId"])' "$WORK/init.json")
AUTO_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client"]["clientSecret"])' "$WORK/init.json")
"${LK[@]}" app add "bench web app" --web-redirect http://localhost/cb --secret --output json > "$WORK/app.json" 2>> "$LOGS/init.log"
APP_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["appId"])' "$WORK/app.json")
APP_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clientSecret"])' "$WORK/app.json")

RUST_LOG=${RUST_LOG:-warn} "${LK[@]}" serve --listen "127.0.0.1:$PORT" --public-url "http://localhost:$PORT" \
  --rate-limit-per-minute 0 > "$LOGS/latchkey.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/$TID/v2.0/.well-known/openid-configuration" > /dev/null && break
  sleep 0.1
done
sleep 1
IDLE_RSS=$(rss_kib "$SERVER_PID" VmRSS)
TARGET=(--addr "127.0.0.1:$PORT" --host "localhost:$PORT")
FLOW=(--tenant "$TID" --client-id "$APP_ID" --client-secret "$APP_SECRET" --redirect-uri http://localhost/cb --users "$WORK/users.tsv")
log "creating $USERS users with multi-use passes (Graph API)"
"$LOAD" prepare "${TARGET[@]}" --tenant "$TID" --client-id "$AUTO_ID" --client-secret "$AUTO_SECRET" \
  --count "$USERS" --conns "$NCPU" --out "$WORK/users.tsv" > "$LOGS/prepare.txt"
sleep 1
IDLE_RSS_USERS=$(rss_kib "$SERVER_PID" VmRSS)

# --- 1. TAP sign-ins vs Argon2id ----------------------------------------------------------
log "1. Argon2id baseline, TAP sign-ins, Argon2id again"
baseline argon2_before "$LOAD" argon2 --seconds "$DUR"
A1=${FIG[argon2_verify_per_s]}
measure signin "$LOAD" signin "${TARGET[@]}" "${FLOW[@]}" --conns "$CONNS" --seconds "$DUR" --warmup 2 --pid "$SERVER_PID"
baseline argon2_after "$LOAD" argon2 --seconds "$DUR"
A2=${FIG[argon2_verify_per_s]}
ARGON2=$(awk -v a="$A1" -v b="$A2" 'BEGIN{printf "%.1f", (a+b)/2}')
SIGNIN_RSS=${FIG[signin_rss_peak_kib]}
measure signin_redeem "$LOAD" signin "${TARGET[@]}" "${FLOW[@]}" --conns "$CONNS" --seconds "$DUR" --warmup 1 --redeem

# --- 2. token grants vs oidc-provider vs openssl ------------------------------------------
log "2. RS256 limit (openssl speed), client credentials and refresh grants"
openssl_speed() {
  local line
  line=$(openssl speed -seconds "$1" -multi "$NCPU" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}' | tail -1)
  echo "openssl_rsa2048_sign_per_s=$line"
}
OSSL_SECS=$(( DUR < 10 ? DUR : 10 ))
baseline openssl openssl_speed "$OSSL_SECS"
"$LOAD" tokens "${TARGET[@]}" "${FLOW[@]}" --count "$TOKEN_CONNS" --out "$WORK/refresh.txt" > "$LOGS/tokens.txt"
CC_BODY="grant_type=client_credentials&client_id=$AUTO_ID&client_secret=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$AUTO_SECRET")&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
measure lk_cc "$LOAD" post "${TARGET[@]}" --path "/$TID/oauth2/v2.0/token" --body "$CC_BODY" --conns "$TOKEN_CONNS" --seconds "$DUR" --pid "$SERVER_PID"
LK_CC=${FIG[post_per_s]}; LK_CC_P99=${FIG[post_p99_ms]}; LK_CC_ERR="${FIG[post_fail]}/${FIG[post_errors]}"
measure lk_refresh "$LOAD" refresh "${TARGET[@]}" --path "/$TID/oauth2/v2.0/token" --client-id "$APP_ID" --client-secret "$APP_SECRET" \
  --tokens "$WORK/refresh.txt" --conns "$TOKEN_CONNS" --seconds "$DUR" --pid "$SERVER_PID"
LK_RF=${FIG[refresh_per_s]}; LK_RF_P99=${FIG[refresh_p99_ms]}; LK_RF_ERR="${FIG[refresh_fail]}/${FIG[refresh_errors]}"
TOKENS_RSS=$(rss_kib "$SERVER_PID" VmHWM)

# latchkey stops while node runs, so each server has the machine to itself.
kill -STOP "$SERVER_PID"
(cd bench/signin/node && NODE_ENV=production exec node server.mjs "$NODE_PORT" "$NCPU") > "$LOGS/oidc-provider.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 150); do grep -q workers "$LOGS/oidc-provider.log" 2>/dev/null && break; sleep 0.1; done
NODE_CC_BODY="grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret-0123456789abcdef0123456789abcdef&scope=User.Read"
NTARGET=(--addr "127.0.0.1:$NODE_PORT" --host "localhost:$NODE_PORT")
measure node_cc "$LOAD" post "${NTARGET[@]}" --path /token --body "$NODE_CC_BODY" --conns "$TOKEN_CONNS" --seconds "$DUR"
N_CC=${FIG[post_per_s]}; N_CC_P99=${FIG[post_p99_ms]}; N_CC_ERR="${FIG[post_fail]}/${FIG[post_errors]}"
measure node_refresh "$LOAD" refresh "${NTARGET[@]}" --path /token --client-id bench-client \
  --client-secret bench-secret-0123456789abcdef0123456789abcdef --mint /bench/mint --conns "$TOKEN_CONNS" --seconds "$DUR"
N_RF=${FIG[refresh_per_s]}; N_RF_P99=${FIG[refresh_p99_ms]}; N_RF_ERR="${FIG[refresh_fail]}/${FIG[refresh_errors]}"
NODE_RSS=0
for p in "$NODE_PID" $(pgrep -P "$NODE_PID" || true); do NODE_RSS=$((NODE_RSS + $(rss_kib "$p" VmRSS))); done
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""
kill -CONT "$SERVER_PID"

# Optional: in-process RS256 signing, jsonwebtoken rust_crypto vs aws_lc_rs (scratch crate).
RSB=""
if [[ -x $RSBENCH_DIR/target-rc/release/rsbench && -x $RSBENCH_DIR/target-aws/release/rsbench ]]; then
  log "in-process RS256 backends ($RSBENCH_DIR)"
  wait_quiet; RSB_BEFORE=$BEFORE_PCT
  RSB=$( { "$RSBENCH_DIR/target-rc/release/rsbench" "$(( DUR < 5 ? 2 : 3 ))"; "$RSBENCH_DIR/target-aws/release/rsbench" "$(( DUR < 5 ? 2 : 3 ))"; } 2>&1 )
  echo "$RSB" > "$LOGS/rsbench.txt"
fi

# --- 3. memory under a flood of wrong codes -----------------------------------------------
log "3. $FLOOD_CONNS-connection flood of wrong codes"
sleep 1
PRE_FLOOD_RSS=$(rss_kib "$SERVER_PID" VmRSS)
measure flood "$LOAD" flood "${TARGET[@]}" --tenant "$TID" --users "$WORK/users.tsv" --conns "$FLOOD_CONNS" --seconds "$DUR" --warmup 2 --pid "$SERVER_PID"
sleep 2
POST_FLOOD_RSS=$(rss_kib "$SERVER_PID" VmRSS)
HWM=$(rss_kib "$SERVER_PID" VmHWM)

# --- report --------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
OSSL=${FIG[openssl_rsa2048_sign_per_s]}
SI=${FIG[signin_per_s]}
{
  echo "latchkey sign-in / token benchmark   $(date -u +%Y-%m-%dT%H:%M:%SZ)   $(nproc) cores, $(uname -r)"
  echo "QUICK=$QUICK DUR=${DUR}s USERS=$USERS sign-in conns=$CONNS token conns=$TOKEN_CONNS flood conns=$FLOOD_CONNS; SQLite; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "'other' = share of the machine used by processes other than the server(s) and the driver during the measurement (before: the second before it)"
  echo
  echo "1. TAP sign-in end to end vs Argon2id"
  printf "  %-58s %10s   other %s\n" "Argon2id verifications/s, $NCPU threads (before)" "$A1" "${OTHER[argon2_before]}"
  printf "  %-58s %10s   other %s\n" "Argon2id verifications/s, $NCPU threads (after)" "$A2" "${OTHER[argon2_after]}"
  printf "  %-58s %10s   other %s\n" "TAP sign-ins/s (authorize→login→username→tap→303 code)" "$SI" "${OTHER[signin]}"
  printf "  %-58s %10s   goal >= 0.9\n" "  ratio to Argon2id (mean of before/after)" "$(ratio "$SI" "$ARGON2")"
  printf "  %-58s %10s\n" "  latency p50 / p99 (ms), ok / refused / errors" "${FIG[signin_p50_ms]} / ${FIG[signin_p99_ms]}, ${FIG[signin_ok]} / ${FIG[signin_fail]} / ${FIG[signin_errors]}"
  printf "  %-58s %10s\n" "  mean ms per step: authorize/login page/user name/pass" "${FIG[signin_step_ms]%/*}"
  printf "  %-58s %10s\n" "  server CPU ms per sign-in (one Argon2id: ${FIG[argon2_verify_ms]} ms alone)" "${SRV_MS[signin]}"
  printf "  %-58s %10s   other %s\n" "TAP sign-ins/s incl. code exchange (+1 request, 2 RS256)" "${FIG[signin_redeem_per_s]}" "${OTHER[signin_redeem]}"
  printf "  %-58s %10s\n" "  ratio to Argon2id" "$(ratio "${FIG[signin_redeem_per_s]}" "$ARGON2")"
  printf "  %-58s %10s\n" "  server CPU ms per sign-in with exchange" "${SRV_MS[signin_redeem]}"
  echo
  echo "2. token endpoint vs oidc-provider $(node -e "console.log(require('./bench/signin/node/node_modules/oidc-provider/package.json').version)") (node $(node --version), $NCPU cluster workers) vs openssl"
  printf "  %-58s %10s   other %s\n" "openssl speed -multi $NCPU rsa2048: RS256 signs/s" "$OSSL" "${OTHER[openssl]}"
  printf "  %-58s %10s   other %s\n" "latchkey client_credentials grants/s (1 RS256 each)" "$LK_CC" "${OTHER[lk_cc]}"
  printf "  %-58s %10s   other %s\n" "oidc-provider client_credentials grants/s (JWT, RS256)" "$N_CC" "${OTHER[node_cc]}"
  printf "  %-58s %10s   goal >= 0.8\n" "  latchkey / openssl signs/s" "$(ratio "$LK_CC" "$OSSL")"
  printf "  %-58s %10s   (issue: about 1.7)\n" "  latchkey / oidc-provider" "$(ratio "$LK_CC" "$N_CC")"
  printf "  %-58s %10s\n" "  oidc-provider / openssl signs/s" "$(ratio "$N_CC" "$OSSL")"
  printf "  %-58s %10s\n" "  p99 ms latchkey / oidc-provider; refused/errors" "$LK_CC_P99 / $N_CC_P99; $LK_CC_ERR vs $N_CC_ERR"
  printf "  %-58s %s\n" "  server CPU ms per grant: latchkey" "${SRV_MS[lk_cc]}"
  printf "  %-58s %s\n" "  server CPU ms per grant: oidc-provider" "${SRV_MS[node_cc]}"
  printf "  %-58s %10s   other %s\n" "latchkey refresh grants/s (rotating; AT + ID token = 2 RS256)" "$LK_RF" "${OTHER[lk_refresh]}"
  printf "  %-58s %10s   other %s\n" "oidc-provider refresh grants/s (rotating; JWT AT + ID token)" "$N_RF" "${OTHER[node_refresh]}"
  printf "  %-58s %10s   (ceiling 0.5: two signatures per grant)\n" "  latchkey refresh / openssl signs/s" "$(ratio "$LK_RF" "$OSSL")"
  printf "  %-58s %10s\n" "  latchkey / oidc-provider" "$(ratio "$LK_RF" "$N_RF")"
  printf "  %-58s %10s\n" "  p99 ms latchkey / oidc-provider; refused/errors" "$LK_RF_P99 / $N_RF_P99; $LK_RF_ERR vs $N_RF_ERR"
  printf "  %-58s %s\n" "  server CPU ms per grant: latchkey" "${SRV_MS[lk_refresh]}"
  printf "  %-58s %s\n" "  server CPU ms per grant: oidc-provider" "${SRV_MS[node_refresh]}"
  if [[ -n $RSB ]]; then
    echo "  in-process RS256 sign (jsonwebtoken::encode, 2048-bit key; other before: ${RSB_BEFORE}%):"
    echo "$RSB" | sed 's/^/    /'
  fi
  echo
  echo "3. resident memory of latchkey serve"
  printf "  %-58s %10s\n" "VmRSS idle after start" "$(mib "$IDLE_RSS")"
  printf "  %-58s %10s\n" "VmRSS idle after creating $USERS users and passes" "$(mib "$IDLE_RSS_USERS")"
  printf "  %-58s %10s\n" "VmRSS peak during TAP sign-ins ($CONNS conns)" "$(mib "$SIGNIN_RSS")"
  printf "  %-58s %10s\n" "VmHWM after the token loads" "$(mib "$TOKENS_RSS")"
  printf "  %-58s %10s\n" "VmRSS before the flood" "$(mib "$PRE_FLOOD_RSS")"
  printf "  %-58s %10s   other %s\n" "VmRSS peak during the flood ($FLOOD_CONNS conns, wrong codes)" "$(mib "${FIG[flood_rss_peak_kib]}")" "${OTHER[flood]}"
  printf "  %-58s %10s\n" "VmRSS 2 s after the flood" "$(mib "$POST_FLOOD_RSS")"
  printf "  %-58s %10s\n" "VmHWM (peak over the whole run)" "$(mib "$HWM")"
  printf "  %-58s %10s\n" "flood answers/s; statuses" "$(awk -v a="${FIG[flood_ok]}" -v b="${FIG[flood_fail]}" -v d="$DUR" 'BEGIN{printf "%.1f", (a+b)/d}'); ${FIG[flood_statuses]}"
  printf "  %-58s %10s\n" "flood latency p50 / p99 (ms, 401 answers); errors" "${FIG[flood_p50_ms]} / ${FIG[flood_p99_ms]}; ${FIG[flood_errors]}"
  printf "  %-58s %s\n" "  server CPU ms per refused attempt" "${SRV_MS[flood]}"
  printf "  %-58s %10s\n" "oidc-provider RSS after its loads (all workers)" "$(mib "$NODE_RSS")"
  echo
  echo "took $(($(date +%s) - START)) s; raw outputs in bench/results/signin-last-run/"
} | tee "$OUT"
