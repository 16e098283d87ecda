#!/usr/bin/env bash
# Sign-in and token-endpoint benchmark for latchkey (issue 3, "Measure").
#
# Every figure is printed beside a baseline measured in the same run on the same machine:
#   1. TAP sign-ins/s end to end (authorize -> login page -> user name -> pass -> 303 with
#      code) vs raw Argon2id verifications/s (m=19456 KiB, t=2, p=1) on every core.
#   2. client_credentials and refresh_token grants/s vs node's oidc-provider (RS256 JWT
#      access tokens) and vs `openssl speed -multi $(nproc) rsa2048` signs/s.
#   3. latchkey's VmRSS/VmHWM idle and under a 500-connection flood of wrong codes.
# Baselines and subjects alternate in ROUNDS short slices, so a change in other people's
# load hits both sides; the ratios are medians over the rounds (see README.md).
#
# Usage: bench/signin/run.sh            (~5 min after the build)
#        QUICK=1 bench/signin/run.sh    (~2.5 min after the build)
# Knobs: ROUNDS, SLICE (s per measurement), USERS, CONNS (sign-in), TOKEN_CONNS (grants),
#        FLOOD_CONNS, FLOOD_SECS, PORT, NODE_PORT, QUIET_PCT / QUIET_MAX / QUIET_BUDGET,
#        RSBENCH_DIR (optional in-process RS256 backend comparison, see README.md).
# Output: stdout and bench/results/signin-latest.txt; logs in bench/results/signin-last-run/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then D_ROUNDS=2; D_SLICE=3; D_USERS=100; D_FLOOD=6; else D_ROUNDS=3; D_SLICE=4; D_USERS=200; D_FLOOD=10; fi
ROUNDS=${ROUNDS:-$D_ROUNDS}
SLICE=${SLICE:-$D_SLICE}
USERS=${USERS:-$D_USERS}
FLOOD_SECS=${FLOOD_SECS:-$D_FLOOD}
NCPU=$(nproc)
CONNS=${CONNS:-$((NCPU * 8))}
TOKEN_CONNS=${TOKEN_CONNS:-32}
FLOOD_CONNS=${FLOOD_CONNS:-500}
PORT=${PORT:-18390}
NODE_PORT=${NODE_PORT:-18391}
QUIET_PCT=${QUIET_PCT:-25}
QUIET_MAX=${QUIET_MAX:-10}
QUIET_BUDGET=${QUIET_BUDGET:-60}
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
HZ=$(getconf CLK_TCK)
# Busy ticks of the whole machine, and user+system ticks of given processes (all threads).
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
pid_ticks() {
  local t=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12+$13}')))
  done
  echo "$t"
}
# Our long-running processes: latchkey serve, and node's primary + workers.
ours() {
  local p=()
  [[ -n $SERVER_PID ]] && p+=("$SERVER_PID")
  if [[ -n $NODE_PID ]]; then p+=("$NODE_PID"); p+=($(pgrep -P "$NODE_PID" || true)); fi
  echo "${p[@]}"
}
node_pids() { [[ -n $NODE_PID ]] && echo "$NODE_PID" $(pgrep -P "$NODE_PID" || true); }
# The server a measurement loads (SUBJECT=latchkey|node), for its CPU per operation.
subject_pids() { if [[ ${SUBJECT:-latchkey} == node ]]; then node_pids; else echo "$SERVER_PID"; fi; }
# Share (%) of the machine that other processes used over the last second.
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
declare -A FIG    # FIG[name/key] = value, from the key=value lines each command prints
declare -A OTHER  # other load during (and before) each measurement, in %
declare -A SRVMS  # server CPU ms per successful operation
declare -A DRVMS  # driver CPU ms per successful operation
keep() { local name=$1 out=$2 k v; while IFS='=' read -r k v; do [[ -n $k ]] && FIG[$name/$k]=$v; done <<< "$out"; }
# measure NAME CMD...: a load against a server. Records the other load during it: the
# machine's busy time minus our servers' and the driver's own CPU (it prints *_driver_cpu_s).
measure() {
  local name=$1; shift
  wait_quiet
  local b0 o0 s0 t0 b1 o1 s1 t1 out drv ok
  b0=$(busy_ticks); o0=$(pid_ticks $(ours)); s0=$(pid_ticks $(subject_pids)); t0=$(date +%s.%N)
  out=$("$@" 2> "$LOGS/$name.err") || { cat "$LOGS/$name.err" >&2; log "$name failed"; return 1; }
  b1=$(busy_ticks); o1=$(pid_ticks $(ours)); s1=$(pid_ticks $(subject_pids)); t1=$(date +%s.%N)
  echo "$out" > "$LOGS/$name.txt"
  keep "$name" "$out"
  drv=$(echo "$out" | sed -n 's/^.*_driver_cpu_s=//p' | head -1)
  # CPU is counted over the whole command (warm-up included): divide by every answer.
  ok=$(echo "$out" | sed -n 's/^[a-z_]*_answered_all=//p' | head -1)
  OTHER[$name]=$(awk -v b=$(( b1 - b0 )) -v o=$(( o1 - o0 )) -v d="${drv:-0}" -v hz="$HZ" -v n="$NCPU" -v t0="$t0" -v t1="$t1" \
    'BEGIN { p = (b - o - d * hz) * 100 / (hz * n * (t1 - t0)); if (p < 0) p = 0; printf "%.0f", p }')
  OTHER[$name]="${OTHER[$name]}/${BEFORE_PCT}"
  SRVMS[$name]=$(awk -v o=$(( s1 - s0 )) -v hz="$HZ" -v n="${ok:-0}" 'BEGIN { if (n > 0) printf "%.2f", o * 1000 / hz / n; else print "nan" }')
  DRVMS[$name]=$(awk -v d="${drv:-0}" -v n="${ok:-0}" 'BEGIN { if (n > 0) printf "%.2f", d * 1000 / n; else print "nan" }')
}
# baseline NAME PARSER CMD...: a CPU-bound baseline; PARSER turns its output into key=value
# lines. The other load during it is the machine's busy time minus the command's own CPU
# (from GNU time, when installed).
baseline() {
  local name=$1 parse=$2; shift 2
  wait_quiet
  local out b0 b1 t0 t1 timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%U %S' -o "$LOGS/$name.time")
  b0=$(busy_ticks); t0=$(date +%s.%N)
  out=$("${timer[@]}" "$@" 2> "$LOGS/$name.err") || { cat "$LOGS/$name.err" >&2; log "$name failed"; return 1; }
  b1=$(busy_ticks); t1=$(date +%s.%N)
  out=$(echo "$out" | "$parse")
  echo "$out" > "$LOGS/$name.txt"
  keep "$name" "$out"
  if [[ -s $LOGS/$name.time ]]; then
    OTHER[$name]=$(awk -v b=$(( b1 - b0 )) -v hz="$HZ" -v n="$NCPU" -v t0="$t0" -v t1="$t1" \
      '{ p = (b / hz - $1 - $2) * 100 / (n * (t1 - t0)); if (p < 0) p = 0; printf "%.0f", p }' "$LOGS/$name.time")/$BEFORE_PCT
  else
    OTHER[$name]="-/$BEFORE_PCT"
  fi
}
as_is() { cat; }
openssl_figure() { awk '/^rsa 2048 bits/ { v = $6 } END { print "openssl_rsa2048_sign_per_s=" v }'; }
rss_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
# median / min / max of the arguments
med() { printf '%s\n' "$@" | grep -v nan | sort -g | awk '{v[NR]=$1} END { if (NR == 0) { print "nan"; exit } if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2 }'; }
span() { printf '%s\n' "$@" | grep -v nan | sort -g | awk 'NR==1{lo=$1} {hi=$1} END { if (NR) printf "%s-%s", lo, hi; else print "nan" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# --- build and tools -----------------------------------------------------------------------
log "building (release) latchkey and signin-load"
cargo build --release -q -p latchkey --bin latchkey 2> "$LOGS/build.err" || { cat "$LOGS/build.err" >&2; exit 1; }
cargo build --release -q -p latchkey-bench --bin signin-load 2>> "$LOGS/build.err" || { cat "$LOGS/build.err" >&2; exit 1; }
BUILT=$(date +%s)
command -v openssl > /dev/null || { log "installing openssl"; apt-get install -y -q openssl > /dev/null; }
if [[ ! -d bench/signin/node/node_modules/oidc-provider ]]; then
  log "installing oidc-provider (npm ci)"
  (cd bench/signin/node && npm ci --no-audit --no-fund --loglevel=error > "$LOGS/npm.log" 2>&1)
fi

# --- servers, users ------------------------------------------------------------------------
DB="sqlite:$WORK/l.db"
KEY=$WORK/k
LK=("$BIN/latchkey" --database-url "$DB" --master-key-file "$KEY")
json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2:]]; print(v)' "$@"; }
"${LK[@]}" init --output json > "$WORK/init.json" 2> "$LOGS/init.log"
TID=$(json "$WORK/init.json" tenantId)
AUTO_ID=$(json "$WORK/init.json" client clientId)
AUTO_SECRET=$(json "$WORK/init.json" client clientSecret)
"${LK[@]}" app add "bench web app" --web-redirect http://localhost/cb --secret --output json > "$WORK/app.json" 2>> "$LOGS/init.log"
APP_ID=$(json "$WORK/app.json" appId)
APP_SECRET=$(json "$WORK/app.json" clientSecret)

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

# oidc-provider stays up, idle, beside latchkey: each is loaded only in its own slices.
(cd bench/signin/node && NODE_ENV=production exec node server.mjs "$NODE_PORT" "$NCPU") > "$LOGS/oidc-provider.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 200); do grep -q workers "$LOGS/oidc-provider.log" 2>/dev/null && break; sleep 0.1; done
NTARGET=(--addr "127.0.0.1:$NODE_PORT" --host "localhost:$NODE_PORT")
NODE_SECRET=bench-secret-0123456789abcdef0123456789abcdef

# --- 1. TAP sign-ins vs Argon2id ----------------------------------------------------------
log "1. TAP sign-ins vs Argon2id: $ROUNDS rounds of ${SLICE}s + ${SLICE}s"
SIGNIN_RSS=0
for r in $(seq "$ROUNDS"); do
  baseline "argon2_$r" as_is "$LOAD" argon2 --seconds "$SLICE"
  measure "signin_$r" "$LOAD" signin "${TARGET[@]}" "${FLOW[@]}" --conns "$CONNS" --seconds "$SLICE" --warmup 1 --pid "$SERVER_PID"
  (( ${FIG[signin_$r/signin_rss_peak_kib]:-0} > SIGNIN_RSS )) && SIGNIN_RSS=${FIG[signin_$r/signin_rss_peak_kib]}
done
baseline "argon2_$((ROUNDS + 1))" as_is "$LOAD" argon2 --seconds "$SLICE"
measure signin_redeem "$LOAD" signin "${TARGET[@]}" "${FLOW[@]}" --conns "$CONNS" --seconds "$SLICE" --warmup 1 --redeem
baseline "argon2_$((ROUNDS + 2))" as_is "$LOAD" argon2 --seconds "$SLICE"

# --- 2. token grants vs openssl vs oidc-provider ------------------------------------------
log "2. openssl speed, client credentials and refresh grants: $ROUNDS rounds"
CC_BODY="grant_type=client_credentials&client_id=$AUTO_ID&client_secret=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$AUTO_SECRET")&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
NODE_CC_BODY="grant_type=client_credentials&client_id=bench-client&client_secret=$NODE_SECRET&scope=User.Read"
# Unmeasured warm-up of both token endpoints (node's JIT especially).
"$LOAD" post "${NTARGET[@]}" --path /token --body "$NODE_CC_BODY" --conns "$TOKEN_CONNS" --seconds 2 --warmup 0 > "$LOGS/warmup.txt"
"$LOAD" refresh "${NTARGET[@]}" --path /token --client-id bench-client --client-secret "$NODE_SECRET" --mint /bench/mint --conns "$TOKEN_CONNS" --seconds 1 --warmup 0 >> "$LOGS/warmup.txt"
"$LOAD" post "${TARGET[@]}" --path "/$TID/oauth2/v2.0/token" --body "$CC_BODY" --conns "$TOKEN_CONNS" --seconds 1 --warmup 0 >> "$LOGS/warmup.txt"
for r in $(seq "$ROUNDS"); do
  # `openssl speed` runs signatures, then verifications, SECONDS each.
  baseline "openssl_$r" openssl_figure openssl speed -seconds "$(( SLICE > 2 ? SLICE / 2 : 1 ))" -multi "$NCPU" rsa2048
  measure "lk_cc_$r" "$LOAD" post "${TARGET[@]}" --path "/$TID/oauth2/v2.0/token" --body "$CC_BODY" --conns "$TOKEN_CONNS" --seconds "$SLICE" --warmup 0.5
  SUBJECT=node measure "node_cc_$r" "$LOAD" post "${NTARGET[@]}" --path /token --body "$NODE_CC_BODY" --conns "$TOKEN_CONNS" --seconds "$SLICE" --warmup 0.5
  # Refresh tokens are single use: a fresh chain per connection for every slice.
  "$LOAD" tokens "${TARGET[@]}" "${FLOW[@]}" --count "$TOKEN_CONNS" --out "$WORK/refresh.txt" > "$LOGS/tokens_$r.txt"
  measure "lk_rf_$r" "$LOAD" refresh "${TARGET[@]}" --path "/$TID/oauth2/v2.0/token" --client-id "$APP_ID" --client-secret "$APP_SECRET" \
    --tokens "$WORK/refresh.txt" --conns "$TOKEN_CONNS" --seconds "$SLICE" --warmup 0.5
  SUBJECT=node measure "node_rf_$r" "$LOAD" refresh "${NTARGET[@]}" --path /token --client-id bench-client --client-secret "$NODE_SECRET" \
    --mint /bench/mint --conns "$TOKEN_CONNS" --seconds "$SLICE" --warmup 0.5
done
TOKENS_HWM=$(rss_kib "$SERVER_PID" VmHWM)
NODE_RSS=0
for p in "$NODE_PID" $(pgrep -P "$NODE_PID" || true); do NODE_RSS=$((NODE_RSS + $(rss_kib "$p" VmRSS))); done
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true; NODE_PID=""

# Optional: in-process RS256 signing, jsonwebtoken rust_crypto vs aws_lc_rs (scratch crate).
RSB=""
if [[ -x $RSBENCH_DIR/target-rc/release/rsbench && -x $RSBENCH_DIR/target-aws/release/rsbench ]]; then
  log "in-process RS256 backends ($RSBENCH_DIR)"
  wait_quiet; RSB_BEFORE=$BEFORE_PCT
  RSB=$( { "$RSBENCH_DIR/target-rc/release/rsbench" 2; "$RSBENCH_DIR/target-aws/release/rsbench" 2; } 2>&1 )
  echo "$RSB" > "$LOGS/rsbench.txt"
fi

# --- 3. memory under a flood of wrong codes -----------------------------------------------
log "3. $FLOOD_CONNS-connection flood of wrong codes, ${FLOOD_SECS}s"
sleep 1
PRE_FLOOD_RSS=$(rss_kib "$SERVER_PID" VmRSS)
measure flood "$LOAD" flood "${TARGET[@]}" --tenant "$TID" --users "$WORK/users.tsv" --conns "$FLOOD_CONNS" --seconds "$FLOOD_SECS" --warmup 2 --pid "$SERVER_PID"
sleep 2
POST_FLOOD_RSS=$(rss_kib "$SERVER_PID" VmRSS)
HWM=$(rss_kib "$SERVER_PID" VmHWM)

# --- report --------------------------------------------------------------------------------
f() { echo "${FIG[$1]:-nan}"; }
col() { local pre=$1 key=$2 r out=(); for r in $(seq "$ROUNDS"); do out+=("$(f "${pre}_$r/$key")"); done; echo "${out[@]}"; }
{
  echo "latchkey sign-in / token benchmark   $(date -u +%Y-%m-%dT%H:%M:%SZ)   $NCPU cores, $(uname -r), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- crates 2>/dev/null || echo '+changes')"
  echo "QUICK=$QUICK ROUNDS=$ROUNDS SLICE=${SLICE}s USERS=$USERS; conns: sign-in $CONNS, grants $TOKEN_CONNS, flood $FLOOD_CONNS; SQLite; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "Each round measures the baseline and the subjects back to back; ratios are per round, then the median [range]."
  echo "other = % of the machine used by other processes during the slice / in the second before it."
  echo
  echo "1. TAP sign-in end to end (authorize -> login page -> user name -> pass -> 303 with code) vs Argon2id verify ($NCPU threads)"
  printf "  %-6s %16s %12s %8s   %s\n" round "argon2id/s" "sign-ins/s" ratio "other: argon2 before | sign-in | argon2 after"
  SR=()
  for r in $(seq "$ROUNDS"); do
    x=$(f "argon2_$r/argon2_verify_per_s"); y=$(f "argon2_$((r + 1))/argon2_verify_per_s")
    a=$(awk -v x="$x" -v y="$y" 'BEGIN { print (x > y ? x : y) }')
    s=$(f "signin_$r/signin_per_s"); SR+=("$(ratio "$s" "$a")")
    printf "  %-6s %16s %12s %8s   %s | %s | %s\n" "$r" "$x|$y" "$s" "${SR[-1]}" "${OTHER[argon2_$r]}" "${OTHER[signin_$r]}" "${OTHER[argon2_$((r + 1))]}"
  done
  echo "  (a round's ratio uses the better of the Argon2id slices before and after it: other load only ever lowers a baseline)"
  printf "  %-64s %s\n" "TAP sign-ins / Argon2id verifications, median [range] (goal >= 0.9):" "$(med "${SR[@]}") [$(span "${SR[@]}")]"
  A_CPU=$(med $(col argon2 argon2_cpu_ms))
  S_CPU=$(med $(for r in $(seq "$ROUNDS"); do echo "${SRVMS[signin_$r]}"; done))
  printf "  %-64s %s\n" "CPU per op: Argon2id verify / server per sign-in (driver), ms:" "$A_CPU / $S_CPU ($(med $(for r in $(seq "$ROUNDS"); do echo "${DRVMS[signin_$r]}"; done)))"
  printf "  %-64s %s\n" "  CPU-time ratio (Argon2id verify CPU / server CPU per sign-in):" "$(ratio "$A_CPU" "$S_CPU")"
  printf "  %-64s %s\n" "latency p50 / p99 ms (median over rounds):" "$(med $(col signin signin_p50_ms)) / $(med $(col signin signin_p99_ms))"
  printf "  %-64s %s\n" "mean ms per step, round 1: authorize/login page/user name/pass:" "$(f signin_1/signin_step_ms | sed 's|/[^/]*$||')"
  printf "  %-64s %s\n" "ok / refused / errors, all rounds:" "$(col signin signin_ok | tr ' ' '+') / $(col signin signin_fail | tr ' ' '+') / $(col signin signin_errors | tr ' ' '+')"
  ar=$(awk -v x="$(f "argon2_$((ROUNDS + 1))/argon2_verify_per_s")" -v y="$(f "argon2_$((ROUNDS + 2))/argon2_verify_per_s")" 'BEGIN { print (x > y ? x : y) }')
  printf "  %-64s %s\n" "with the code exchange too (+1 request, 2 RS256), one slice:" "$(f signin_redeem/signin_redeem_per_s)/s vs $ar/s = $(ratio "$(f signin_redeem/signin_redeem_per_s)" "$ar"); server CPU ${SRVMS[signin_redeem]} ms; other ${OTHER[signin_redeem]}"
  echo
  echo "2. token endpoint vs openssl speed -multi $NCPU rsa2048 (signs/s) vs oidc-provider $(node -e "console.log(require('./bench/signin/node/node_modules/oidc-provider/package.json').version)") (node $(node --version), $NCPU workers)"
  echo "   client credentials: 1 RS256 per grant on both servers; refresh: rotating, access + ID token = 2 RS256 per grant on both"
  printf "  %-6s %9s %9s %9s %9s %9s   %s\n" round openssl lk_cc node_cc lk_rf node_rf "other openssl | lk_cc | node_cc | lk_rf | node_rf"
  R1=(); R2=(); R3=(); R4=()
  for r in $(seq "$ROUNDS"); do
    o=$(f "openssl_$r/openssl_rsa2048_sign_per_s"); lc=$(f "lk_cc_$r/post_per_s"); nc=$(f "node_cc_$r/post_per_s"); lr=$(f "lk_rf_$r/refresh_per_s"); nr=$(f "node_rf_$r/refresh_per_s")
    R1+=("$(ratio "$lc" "$o")"); R2+=("$(ratio "$lc" "$nc")"); R3+=("$(ratio "$lr" "$nr")"); R4+=("$(ratio "$nc" "$o")")
    printf "  %-6s %9s %9s %9s %9s %9s   %s | %s | %s | %s | %s\n" "$r" "$o" "$lc" "$nc" "$lr" "$nr" "${OTHER[openssl_$r]}" "${OTHER[lk_cc_$r]}" "${OTHER[node_cc_$r]}" "${OTHER[lk_rf_$r]}" "${OTHER[node_rf_$r]}"
  done
  printf "  %-64s %s\n" "latchkey client_credentials / openssl signs/s (goal >= 0.8):" "$(med "${R1[@]}") [$(span "${R1[@]}")]"
  printf "  %-64s %s\n" "latchkey client_credentials / oidc-provider (issue: about 1.7):" "$(med "${R2[@]}") [$(span "${R2[@]}")]"
  printf "  %-64s %s\n" "oidc-provider client_credentials / openssl signs/s:" "$(med "${R4[@]}") [$(span "${R4[@]}")]"
  printf "  %-64s %s\n" "latchkey refresh / oidc-provider refresh:" "$(med "${R3[@]}") [$(span "${R3[@]}")]"
  cpu() { med $(for r in $(seq "$ROUNDS"); do echo "${SRVMS[${1}_$r]}"; done); }
  LC_CPU=$(cpu lk_cc); NC_CPU=$(cpu node_cc); LR_CPU=$(cpu lk_rf); NR_CPU=$(cpu node_rf)
  printf "  %-64s %s\n" "server CPU ms per grant, cc: latchkey / oidc-provider:" "$LC_CPU / $NC_CPU"
  printf "  %-64s %s\n" "server CPU ms per grant, refresh: latchkey / oidc-provider:" "$LR_CPU / $NR_CPU"
  printf "  %-64s %s\n" "  cc capacity by CPU time ($NCPU cores / CPU per grant), latchkey / oidc-provider:" "$(awk -v c="$LC_CPU" -v n="$NCPU" 'BEGIN{printf "%.0f", n*1000/c}') / $(awk -v c="$NC_CPU" -v n="$NCPU" 'BEGIN{printf "%.0f", n*1000/c}') per s"
  printf "  %-64s %s\n" "p99 ms cc latchkey / oidc-provider; refresh latchkey / oidc-provider:" "$(med $(col lk_cc post_p99_ms)) / $(med $(col node_cc post_p99_ms)); $(med $(col lk_rf refresh_p99_ms)) / $(med $(col node_rf refresh_p99_ms))"
  printf "  %-64s %s\n" "refused + errors, cc latchkey / node; refresh latchkey / node:" "$(col lk_cc post_fail | tr ' ' '+')+$(col lk_cc post_errors | tr ' ' '+') / $(col node_cc post_fail | tr ' ' '+')+$(col node_cc post_errors | tr ' ' '+'); $(col lk_rf refresh_errors | tr ' ' '+') / $(col node_rf refresh_errors | tr ' ' '+')"
  if [[ -n $RSB ]]; then
    echo "  in-process RS256 signatures/s (2048-bit key; other before: ${RSB_BEFORE}%):"
    echo "$RSB" | sed 's/^/    /'
  fi
  echo
  echo "3. resident memory of latchkey serve"
  printf "  %-64s %s\n" "VmRSS idle after start:" "$(mib "$IDLE_RSS")"
  printf "  %-64s %s\n" "VmRSS idle after creating $USERS users and passes:" "$(mib "$IDLE_RSS_USERS")"
  printf "  %-64s %s\n" "VmRSS peak during TAP sign-ins ($CONNS conns):" "$(mib "$SIGNIN_RSS")"
  printf "  %-64s %s\n" "VmHWM after the token loads:" "$(mib "$TOKENS_HWM")"
  printf "  %-64s %s\n" "VmRSS before the flood:" "$(mib "$PRE_FLOOD_RSS")"
  printf "  %-64s %s   other %s\n" "VmRSS peak during the flood ($FLOOD_CONNS conns, wrong codes, ${FLOOD_SECS}s):" "$(mib "$(f flood/flood_rss_peak_kib)")" "${OTHER[flood]}"
  printf "  %-64s %s\n" "VmRSS 2 s after the flood:" "$(mib "$POST_FLOOD_RSS")"
  printf "  %-64s %s\n" "VmHWM (peak over the whole run):" "$(mib "$HWM")"
  printf "  %-64s %s\n" "flood answers/s; statuses:" "$(awk -v a="$(f flood/flood_ok)" -v b="$(f flood/flood_fail)" -v d="$FLOOD_SECS" 'BEGIN{printf "%.1f", (a+b)/d}'); $(f flood/flood_statuses)"
  printf "  %-64s %s\n" "flood latency p50 / p99 ms (401 answers); errors:" "$(f flood/flood_p50_ms) / $(f flood/flood_p99_ms); $(f flood/flood_errors)"
  printf "  %-64s %s\n" "server CPU ms per refused attempt:" "${SRVMS[flood]}"
  printf "  %-64s %s\n" "oidc-provider RSS after its loads (primary + workers):" "$(mib "$NODE_RSS")"
  echo
  echo "took $(($(date +%s) - START)) s ($((BUILT - START)) s building); raw outputs in bench/results/signin-last-run/"
} | tee "$OUT"
