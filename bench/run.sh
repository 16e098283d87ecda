#!/usr/bin/env bash
# latchkey throughput / scaling / memory benchmark. See bench/README.md.
#
#   bench/run.sh              full run: 10k and 1M users, 5 rounds of 8 s measurements
#   QUICK=1 bench/run.sh      10k and 100k users, 2 rounds of 5 s measurements
#
# Every figure is printed beside a baseline measured in the same run on the same box
# (axum hello world for requests/s, raw Argon2id hashes/s for pass creation), and the
# table is also written to bench/results/latest.txt.
#
# Per backend: `latchkey init`, seed the small directory, copy the database, seed the
# original up to the large size; then serve both copies side by side and measure them in
# alternating rounds (hello, small, large / hello, large, small, ...), so that drift on a
# shared machine hits both sizes alike and the large/small ratio stays meaningful.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SMALL=${SMALL:-10000}; LARGE=${LARGE:-100000}; DUR=${DUR:-5}; ROUNDS=${ROUNDS:-2}
else
  SMALL=${SMALL:-10000}; LARGE=${LARGE:-1000000}; DUR=${DUR:-8}; ROUNDS=${ROUNDS:-5}
fi
THREADS=${THREADS:-2}                # wrk threads
CONNS=${CONNS:-32}                   # wrk connections
WARMUP=${WARMUP:-2}                  # seconds of unrecorded load after each start
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_URL_BASE=${PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}
PG_ADMIN_DB=${PG_ADMIN_DB:-test}     # an existing database to run CREATE/DROP DATABASE from
HELLO_PORT=${HELLO_PORT:-18180}
PORT_SMALL=${PORT_SMALL:-18181}
PORT_LARGE=${PORT_LARGE:-18182}
SAMPLE=${SAMPLE:-2000}               # user ids the load spreads over
BIN=$ROOT/target/release
RESULTS_DIR=$ROOT/bench/results
LUA=$ROOT/bench/lua/users.lua

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: apt-get install -y jq" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }

WORK=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
TSV=$WORK/results.tsv
: >"$TSV"
HELLO_PID=""
declare -A SRV_PID=() SRV_BASE=() SRV_TOKEN=() SRV_IDS=() SRV_DB=()
PG_DBS=""
RUN_STARTED=$(date +%s)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

log() { printf '[%s +%4ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - RUN_STARTED ))" "$*" >&2; }

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_servers() {
  local k
  for k in "${!SRV_PID[@]}"; do stop_pid "${SRV_PID[$k]}"; done
  SRV_PID=()
}

drop_pg_dbs() {
  local db
  for db in $PG_DBS; do
    psql -q "$PG_URL_BASE/$PG_ADMIN_DB" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  PG_DBS=""
}

cleanup() {
  stop_servers
  stop_pid "$HELLO_PID"; HELLO_PID=""
  drop_pg_dbs
  if [ -d "$WORK" ]; then
    mkdir -p "$RESULTS_DIR/last-run"
    rm -rf "$RESULTS_DIR/last-run"/*
    cp "$WORK"/*.txt "$WORK"/*.log "$WORK"/*.tsv "$WORK"/*.json "$RESULTS_DIR/last-run/" 2>/dev/null || true
    [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$TSV"; } # backend users key value

kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; } # kib PID VmRSS|VmHWM

wait_http() { # wait_http URL SECONDS: until the server answers at all
  local url=$1 deadline=$(( $(date +%s) + $2 ))
  until curl -s -o /dev/null --max-time 2 "$url"; do
    [ "$(date +%s)" -lt "$deadline" ] || { log "no answer from $url"; return 1; }
    sleep 0.2
  done
}

cpu_ticks() { awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $2+$3+$4+$7+$8+$9 }' /proc/stat; } # "all busy" jiffies
proc_ticks() { # proc_ticks PID...: CPU jiffies (user+system) used so far by these processes
  local s=0 p t
  for p in "$@"; do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || t=0
    s=$((s + ${t:-0}))
  done
  echo "$s"
}
our_pg_pids() { # the PostgreSQL backends serving the benchmark databases (their CPU is latchkey's load)
  [ -n "$PG_DBS" ] || return 0
  local list
  list=$(printf "'%s'," $PG_DBS)
  psql -tA "$PG_URL_BASE/$PG_ADMIN_DB" -c "SELECT pid FROM pg_stat_activity WHERE datname IN (${list%,})" 2>/dev/null | tr '\n' ' '
}

# wait_quiet: the machine is shared; before a measurement, wait (at most QUIET_MAX s, and at
# most QUIET_BUDGET s over the whole run) until other processes use under QUIET_PCT % of it.
QUIET_PCT=${QUIET_PCT:-20}; QUIET_MAX=${QUIET_MAX:-10}; QUIET_BUDGET=${QUIET_BUDGET:-150}
QUIET_SPENT=0
wait_quiet() {
  local waited=0 c0 b0 c1 b1 pct
  while :; do
    read -r c0 b0 < <(cpu_ticks); sleep 1; read -r c1 b1 < <(cpu_ticks)
    pct=$(( c1 > c0 ? 100 * (b1 - b0) / (c1 - c0) : 0 ))
    [ "$pct" -lt "$QUIET_PCT" ] && break
    if [ "$waited" -ge "$QUIET_MAX" ] || [ "$QUIET_SPENT" -ge "$QUIET_BUDGET" ]; then
      log "  (machine still ${pct}% busy with other work; measuring anyway)"
      break
    fi
    waited=$((waited + 1)); QUIET_SPENT=$((QUIET_SPENT + 1))
  done
  [ "$waited" -eq 0 ] || log "  (waited ${waited} s for other work on the machine to calm down)"
}

# run_wrk NAME PID URL [wrk args...]: runs wrk for $DUR s while sampling PID's VmRSS;
# sets RPS, NON2XX, SOCKERR, LAT_AVG, RSS_MAX_KIB, and FOREIGN: the share of the whole
# machine's CPU that processes other than the server, its database backends and wrk used
# meanwhile (other people's work on a shared box; it makes figures noisy).
run_wrk() {
  local name=$1 pid=$2 url=$3
  shift 3
  local out=$WORK/wrk-$name.txt pg_pids c0 b0 c1 b1 s0 s1
  wait_quiet
  pg_pids=$(our_pg_pids)
  read -r c0 b0 < <(cpu_ticks)
  # shellcheck disable=SC2086
  s0=$(proc_ticks "$pid" $pg_pids)
  wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --timeout 10s --latency "$@" "$url" >"$out" 2>&1 &
  local wpid=$! max=0 cur wticks=0 t deadline=$(( $(date +%s) + DUR + 60 ))
  while kill -0 "$wpid" 2>/dev/null; do
    cur=$(kib "$pid" VmRSS); [ "${cur:-0}" -gt "$max" ] && max=$cur
    t=$(proc_ticks "$wpid"); [ "${t:-0}" -gt 0 ] && wticks=$t
    [ "$(date +%s)" -lt "$deadline" ] || kill "$wpid" 2>/dev/null || true
    sleep 0.25
  done
  wait "$wpid" || { log "wrk $name failed:"; cat "$out" >&2; return 1; }
  read -r c1 b1 < <(cpu_ticks)
  # shellcheck disable=SC2086
  s1=$(proc_ticks "$pid" $pg_pids)
  FOREIGN=$(awk -v all=$((c1 - c0)) -v busy=$((b1 - b0)) -v ours=$((s1 - s0 + wticks)) \
    'BEGIN { f = all > 0 ? 100 * (busy - ours) / all : 0; if (f < 0) f = 0; printf "%.0f", f }')
  RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  NON2XX=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out"); NON2XX=${NON2XX:-0}
  SOCKERR=$(awk '/Socket errors:/ { gsub(",", ""); s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s }' "$out")
  SOCKERR=${SOCKERR:-0}
  LAT_AVG=$(awk '$1 == "Latency" && NF >= 4 { print $2; exit }' "$out")
  RSS_MAX_KIB=$max
  # CPU per request of the server (with its PostgreSQL backends) and of wrk: unlike req/s,
  # hardly moved by other processes competing for the machine.
  local reqs; reqs=$(awk '/requests in/ { print $1; exit }' "$out")
  SRV_CPU_US=$(awk -v t=$((s1 - s0)) -v n="${reqs:-0}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  WRK_CPU_US=$(awk -v t="$wticks" -v n="${reqs:-0}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  log "  $name: ${RPS} req/s, avg latency ${LAT_AVG}, non-2xx ${NON2XX}, socket errors ${SOCKERR}, max RSS $((max / 1024)) MiB, server CPU ${SRV_CPU_US} µs/req, other processes ${FOREIGN}% of the CPU"
}

# rec_wrk BACKEND USERS KEY ROUND: records run_wrk's figures under KEY (ROUND may be empty)
rec_wrk() {
  local be=$1 n=$2 key=$3 r=${4:+#$4}
  record "$be" "$n" "${key}_rps$r" "$RPS"
  record "$be" "$n" "${key}_non2xx$r" "$NON2XX"
  record "$be" "$n" "${key}_sockerr$r" "$SOCKERR"
  record "$be" "$n" "${key}_lat$r" "$LAT_AVG"
  record "$be" "$n" "${key}_rss$r" "$RSS_MAX_KIB"
  record "$be" "$n" "${key}_foreign$r" "$FOREIGN"
  record "$be" "$n" "${key}_cpu$r" "$SRV_CPU_US"
  record "$be" "$n" "${key}_wrkcpu$r" "$WRK_CPU_US"
}

warm() { # warm URL [wrk args]: unrecorded load so caches and pools are filled
  timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$@" >/dev/null 2>&1 || true
}

http_code() { curl -s -o "$WORK/last-body.json" -w '%{http_code}' --max-time 30 "$@"; }

# ------------------------------------------------------------------ build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building release binaries (cargo build --release -p latchkey -p latchkey-bench)"
  (cd "$ROOT" && cargo build --release -p latchkey -p latchkey-bench) >&2
fi
for b in latchkey hello seed-users verify-rs256 argon2-rate; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b" >&2; exit 1; }
done

CORES=$(nproc)
record - - meta_date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record - - meta_git "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- crates 2>/dev/null || echo '+dirty')"
record - - meta_cores "$CORES"
record - - meta_cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
record - - meta_wrk "wrk -t$THREADS -c$CONNS -d${DUR}s, $ROUNDS rounds"
record - - meta_quick "$QUICK"
record - - meta_sizes "$SMALL $LARGE"

# ------------------------------------------------------------------ in-process baselines
log "in-process: RS256 verification rate (KeyRing::verify)"
wait_quiet
"$BIN/verify-rs256" --seconds 3 >"$WORK/verify-rs256.txt"
while IFS='=' read -r k v; do record - - "$k" "$v"; done <"$WORK/verify-rs256.txt"
log "  $(tr '\n' ' ' <"$WORK/verify-rs256.txt")"

# ------------------------------------------------------------------ baseline server
log "starting hello baseline on 127.0.0.1:$HELLO_PORT"
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HELLO_PORT/" && { echo "port $HELLO_PORT is in use" >&2; exit 1; }
"$BIN/hello" "127.0.0.1:$HELLO_PORT" 2>"$WORK/hello.log" &
HELLO_PID=$!
wait_http "http://127.0.0.1:$HELLO_PORT/" 20
[ "$(curl -s "http://127.0.0.1:$HELLO_PORT/")" = "Hello, World!" ] || { echo "hello baseline misbehaves" >&2; exit 1; }
warm "http://127.0.0.1:$HELLO_PORT/"

# ------------------------------------------------------------------ latchkey
seed() { # seed BACKEND DB_URL FROM TO: seeds users FROM..TO-1, sets IDS
  log "seeding users $3..$(( $4 - 1 )) into $1"
  timeout 1200 "$BIN/seed-users" --database-url "$2" --from "$3" --to "$4" \
    --sample "$SAMPLE" --sample-out "$WORK/ids-$1-$4.txt" >"$WORK/seed-$1-$4.txt" 2>"$WORK/seed-$1-$4.log"
  IDS=$WORK/ids-$1-$4.txt
  local secs rate total
  secs=$(awk -F= '$1 == "seconds" { print $2 }' "$WORK/seed-$1-$4.txt")
  rate=$(awk -F= '$1 == "users_per_s" { print $2 }' "$WORK/seed-$1-$4.txt")
  total=$(awk -F= '$1 == "total_users" { print $2 }' "$WORK/seed-$1-$4.txt")
  log "  seeded $(( $4 - $3 )) users in ${secs} s (${rate}/s); directory now holds $total users"
  record "$1" "$4" seed_seconds "$secs"
  record "$1" "$4" seed_rate "$rate"
  record "$1" "$4" total_users "$total"
}

# start_server BACKEND USERS DB_URL PORT: serves one database; fills SRV_* for USERS
start_server() {
  local be=$1 n=$2 url=$3 port=$4 base=http://127.0.0.1:$4
  curl -s -o /dev/null --max-time 1 "$base/" && { echo "port $port is in use" >&2; exit 1; }
  "$BIN/latchkey" serve --database-url "$url" --master-key-file "$KEY" \
    --listen "127.0.0.1:$port" --public-url "$base" 2>>"$WORK/latchkey-$be-$n.log" >/dev/null &
  SRV_PID[$n]=$!
  SRV_BASE[$n]=$base
  wait_http "$base/v1.0/me" 60
  local token
  token=$(curl -s --max-time 30 -X POST "$base/$TENANT/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT_ID" \
    --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode scope=https://graph.microsoft.com/.default |
    jq -r .access_token)
  [ -n "$token" ] && [ "$token" != null ] || { echo "no access token" >&2; tail -20 "$WORK/latchkey-$be-$n.log" >&2; exit 1; }
  SRV_TOKEN[$n]=$token
  local one code
  one=$(head -1 "${SRV_IDS[$n]}")
  code=$(http_code -H "Authorization: Bearer $token" "$base/v1.0/users/$one/authentication/methods")
  [ "$code" = 200 ] || { echo "GET methods answered $code: $(cat "$WORK/last-body.json")" >&2; exit 1; }
}

get_methods() { # get_methods BACKEND USERS KEY [ROUND]
  local n=$2
  IDS_FILE=${SRV_IDS[$n]} run_wrk "$1-$n-$3${4:+-r$4}" "${SRV_PID[$n]}" "${SRV_BASE[$n]}/" \
    -s "$LUA" -H "Authorization: Bearer ${SRV_TOKEN[$n]}"
  rec_wrk "$1" "$n" "$3" "${4:-}"
}

create_passes() { # create_passes BACKEND USERS ROUND
  local n=$2
  METHOD=POST BODY='{"lifetimeInMinutes":60,"isUsableOnce":false}' PATH_SUFFIX=/authentication/temporaryAccessPassMethods \
    IDS_FILE=${SRV_IDS[$n]} run_wrk "$1-$n-post-r$3" "${SRV_PID[$n]}" "${SRV_BASE[$n]}/" \
    -s "$LUA" -H "Authorization: Bearer ${SRV_TOKEN[$n]}"
  rec_wrk "$1" "$n" post "$3"
}

hello_round() { # hello_round BACKEND ROUND: the baseline, recorded under both sizes
  run_wrk "$1-hello-r$2" "$HELLO_PID" "http://127.0.0.1:$HELLO_PORT/"
  rec_wrk "$1" "$SMALL" hello "$2"
  rec_wrk "$1" "$LARGE" hello "$2"
}

bench_backend() {
  local be=$1 url_s url_l
  case $be in
    sqlite)
      url_l="sqlite:$WORK/large.db"; url_s="sqlite:$WORK/small.db" ;;
    postgres)
      local db=latchkey_bench_$$_$(date +%s)
      psql -q "$PG_URL_BASE/$PG_ADMIN_DB" -c "CREATE DATABASE $db" >/dev/null
      PG_DBS="$PG_DBS $db"
      url_l="$PG_URL_BASE/$db"; url_s="$PG_URL_BASE/${db}_small" ;;
    *) echo "unknown backend $be" >&2; exit 1 ;;
  esac
  KEY=$WORK/$be.key
  log "[$be] latchkey init"
  "$BIN/latchkey" init --output json --database-url "$url_l" --master-key-file "$KEY" --domain contoso.test \
    >"$WORK/init-$be.json" 2>"$WORK/init-$be.log"
  TENANT=$(jq -r .tenantId "$WORK/init-$be.json")
  CLIENT_ID=$(jq -r .client.clientId "$WORK/init-$be.json")
  CLIENT_SECRET=$(jq -r .client.clientSecret "$WORK/init-$be.json")

  seed "$be" "$url_l" 0 "$SMALL"
  SRV_IDS[$SMALL]=$IDS
  log "copying the $SMALL-user database"
  if [ "$be" = sqlite ]; then
    cp "$WORK/large.db" "$WORK/small.db"   # seed-users checkpointed the WAL into the file
  else
    local try
    for try in $(seq 10); do # fails while anything (autovacuum) is connected to the template
      psql -q "$PG_URL_BASE/$PG_ADMIN_DB" -c "CREATE DATABASE ${url_s##*/} TEMPLATE ${url_l##*/}" >/dev/null 2>"$WORK/createdb.log" && break
      [ "$try" -lt 10 ] || { cat "$WORK/createdb.log" >&2; exit 1; }
      sleep 1
    done
    PG_DBS="$PG_DBS ${url_s##*/}"
  fi
  seed "$be" "$url_l" "$SMALL" "$LARGE"
  SRV_IDS[$LARGE]=$IDS
  if [ "$be" = sqlite ]; then
    record "$be" "$LARGE" db_bytes "$(du -cb "$WORK"/large.db* | awk 'END { print $1 }')"
  else
    record "$be" "$LARGE" db_bytes "$(psql -tA "$url_l" -c 'select pg_database_size(current_database())')"
  fi

  log "[$be] serving $SMALL users on :$PORT_SMALL and $LARGE users on :$PORT_LARGE"
  start_server "$be" "$SMALL" "$url_s" "$PORT_SMALL"
  start_server "$be" "$LARGE" "$url_l" "$PORT_LARGE"
  sleep 2
  local n
  for n in "$SMALL" "$LARGE"; do
    record "$be" "$n" rss_idle "$(kib "${SRV_PID[$n]}" VmRSS)"
    log "  idle RSS, $n users: $(( $(kib "${SRV_PID[$n]}" VmRSS) / 1024 )) MiB"
    IDS_FILE=${SRV_IDS[$n]} warm -s "$LUA" -H "Authorization: Bearer ${SRV_TOKEN[$n]}" "${SRV_BASE[$n]}/"
  done

  # Requests/s of the GET, in rounds: hello, then both sizes in alternating order.
  local r order
  for r in $(seq "$ROUNDS"); do
    log "[$be] GET round $r/$ROUNDS"
    hello_round "$be" "$r"
    if [ $((r % 2)) = 1 ]; then order="$SMALL $LARGE"; else order="$LARGE $SMALL"; fi
    for n in $order; do get_methods "$be" "$n" get "$r"; done
  done

  # Where a GET's time goes, on the small directory: the same URL shape with less work.
  log "[$be] breakdown"
  local base=${SRV_BASE[$SMALL]} pid=${SRV_PID[$SMALL]} token=${SRV_TOKEN[$SMALL]} one code
  one=$(head -1 "${SRV_IDS[$SMALL]}")
  IDS_FILE=${SRV_IDS[$SMALL]} run_wrk "$be-noauth" "$pid" "$base/" -s "$LUA"
  rec_wrk "$be" "$SMALL" noauth
  local sig=${token##*.} head=${token%.*} repl=A
  [ "${sig:0:1}" = A ] && repl=B
  local bad="$head.$repl${sig:1}"      # same length, still below the modulus: the RSA check runs and fails
  code=$(http_code -H "Authorization: Bearer $bad" "$base/v1.0/users/$one/authentication/methods")
  grep -q 'signature does not verify' "$WORK/last-body.json" ||
    log "  WARNING: bad-signature probe answered $code: $(cat "$WORK/last-body.json")"
  IDS_FILE=${SRV_IDS[$SMALL]} run_wrk "$be-badsig" "$pid" "$base/" -s "$LUA" -H "Authorization: Bearer $bad"
  rec_wrk "$be" "$SMALL" badsig
  code=$(http_code -H "Authorization: Bearer $token" "$base/v1.0/me")
  [ "$code" = 400 ] || log "  WARNING: GET /v1.0/me with an app token answered $code (expected 400)"
  run_wrk "$be-authonly" "$pid" "$base/v1.0/me" -H "Authorization: Bearer $token"
  rec_wrk "$be" "$SMALL" authonly

  # Pass creation, in rounds: raw Argon2id hashes/s (servers idle), then both sizes.
  for n in "$SMALL" "$LARGE"; do
    code=$(http_code -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer ${SRV_TOKEN[$n]}" \
      -d '{"lifetimeInMinutes":60,"isUsableOnce":false}' \
      "${SRV_BASE[$n]}/v1.0/users/$(head -1 "${SRV_IDS[$n]}")/authentication/temporaryAccessPassMethods")
    [ "$code" = 201 ] || { echo "POST pass answered $code: $(cat "$WORK/last-body.json")" >&2; exit 1; }
  done
  for r in $(seq "$ROUNDS"); do
    log "[$be] POST round $r/$ROUNDS"
    wait_quiet
    "$BIN/argon2-rate" --seconds "$(( DUR / 2 > 3 ? DUR / 2 : 3 ))" >"$WORK/argon2-$be-r$r.txt"
    local a; a=$(awk -F= '$1 == "argon2_per_s" { print $2 }' "$WORK/argon2-$be-r$r.txt")
    record "$be" "$SMALL" "argon2_rps#$r" "$a"; record "$be" "$LARGE" "argon2_rps#$r" "$a"
    a=$(awk -F= '$1 == "argon2_cpu_ms" { print $2 * 1000 }' "$WORK/argon2-$be-r$r.txt")
    record "$be" "$SMALL" "argon2_cpu#$r" "$a"; record "$be" "$LARGE" "argon2_cpu#$r" "$a"
    log "  argon2 baseline: $(tr '\n' ' ' <"$WORK/argon2-$be-r$r.txt")"
    if [ $((r % 2)) = 1 ]; then order="$SMALL $LARGE"; else order="$LARGE $SMALL"; fi
    for n in $order; do create_passes "$be" "$n" "$r"; done
  done

  sleep 3
  for n in "$SMALL" "$LARGE"; do
    record "$be" "$n" rss_after "$(kib "${SRV_PID[$n]}" VmRSS)"
    record "$be" "$n" rss_hwm "$(kib "${SRV_PID[$n]}" VmHWM)"
    log "  after load, $n users: RSS $(( $(kib "${SRV_PID[$n]}" VmRSS) / 1024 )) MiB, high-water mark $(( $(kib "${SRV_PID[$n]}" VmHWM) / 1024 )) MiB"
  done
  stop_servers
  rm -f "$WORK"/large.db* "$WORK"/small.db*
  drop_pg_dbs
}

for be in $BACKENDS; do bench_backend "$be"; done

stop_pid "$HELLO_PID"; HELLO_PID=""
record - - meta_seconds "$(( $(date +%s) - RUN_STARTED ))"
record - - meta_quiet_waited "$QUIET_SPENT"
mkdir -p "$RESULTS_DIR"
python3 "$ROOT/bench/report.py" "$TSV" | tee "$RESULTS_DIR/latest.txt"
cp "$TSV" "$RESULTS_DIR/latest.tsv"
log "written to bench/results/latest.txt (raw figures: bench/results/latest.tsv, logs: bench/results/last-run/)"
