#!/usr/bin/env bash
# bench/run.sh — one command: flurmctld and the real slurmctld measured side by side.
#
# Builds flurm-bench, starts a private munged (one key shared by both controllers), writes one
# slurm.conf per controller (same nodes and partition, own port and StateSaveLocation), and for
# each controller in turn: starts it on an empty state, runs the RPC matrix, restarts it on an
# empty state, runs the deep-queue figure, stops it. Then prints the table
#   figure | flurmctld | slurmctld | ratio
# ratio > 1 means flurmctld is better (throughput: flurm/slurm; latency, memory: slurm/flurm).
# Everything started here is stopped and the temporary directory removed on exit.
#
# Must run as root (SlurmUser=root; the submitted job_desc carries uid/gid 0).
# Knobs (defaults in brackets):
#   BENCH_QUICK=1        ~1 minute: 1 s cells, concurrency 1,4, deep queue 1000 only
#   BENCH_SECS [5]       seconds per (kind, concurrency) cell
#   BENCH_CONC [1,4,16]  concurrency levels
#   BENCH_RPC [ping,jobinfo,submit]
#   BENCH_DEEP [1000,10000]  queue depths for the deep-queue figure ("" skips it)
#   BENCH_SAMPLES [50]   REQUEST_JOB_INFO samples per depth
#   BENCH_FILL_MAX [60]  seconds allowed to submit up to each depth (and for its samples)
#   BENCH_ONLY           "slurmctld" or "flurmctld" to measure one controller
#   BENCH_OUT            file that receives the raw flurm-bench lines as well
#   BENCH_KEEP=1         keep the temporary directory (confs, controller logs) for inspection
#   BUILD_DIR [build]    meson build directory (set up when missing)
#   FLURM_BENCH          flurm-bench binary to use (e.g. a sanitizer build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/bench/conf.sh"
BUILD="${BUILD_DIR:-$ROOT/build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SECS="${BENCH_SECS:-1}"; CONC="${BENCH_CONC:-1,4}"; DEEP="${BENCH_DEEP-1000}"
    SAMPLES="${BENCH_SAMPLES:-20}"; FILL_MAX="${BENCH_FILL_MAX:-20}"
else
    SECS="${BENCH_SECS:-5}"; CONC="${BENCH_CONC:-1,4,16}"; DEEP="${BENCH_DEEP-1000,10000}"
    SAMPLES="${BENCH_SAMPLES:-50}"; FILL_MAX="${BENCH_FILL_MAX:-60}"
fi
RPCS="${BENCH_RPC:-ping,jobinfo,submit}"
ONLY="${BENCH_ONLY:-}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (SlurmUser=root, and the submitted job is root's)"

# ---------------------------------------------------------------- packages, build
missing=()
for p in munge slurm-client slurmctld; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi
command -v ss >/dev/null || die "ss (iproute2) is needed"

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
meson compile -C "$BUILD" -j 2 >&2 || die "build failed"
BENCH="${FLURM_BENCH:-$BUILD/bench/flurm-bench}"
FLURMCTLD="$BUILD/bin/flurmctld/flurmctld"
SLURMCTLD="$(command -v slurmctld || echo /usr/sbin/slurmctld)"

# ---------------------------------------------------------------- temp dir, cleanup
TMP="$(mktemp -d /tmp/flurm-bench.XXXXXX)"
chmod 0755 "$TMP"     # munged (user munge) must reach its directory below
CTLD_PID=""
cleanup() {
    set +e
    stop_ctld
    "$ROOT/tests/lib/munged.sh" stop "$TMP/munge" >/dev/null 2>&1
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
stop_ctld() {
    [ -n "$CTLD_PID" ] || return 0
    kill -TERM "$CTLD_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$CTLD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CTLD_PID" 2>/dev/null && kill -KILL "$CTLD_PID" 2>/dev/null
    wait "$CTLD_PID" 2>/dev/null
    CTLD_PID=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK="$("$ROOT/tests/lib/munged.sh" start "$TMP/munge")"

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {  # pick_port START EXCLUDE: first free port >= START that is not EXCLUDE
    local p="$1"
    while ! port_free "$p" || [ "$p" = "${2:-}" ]; do p=$((p + 1)); done
    echo "$p"
}
SLURM_PORT="$(pick_port 17817)"
FLURM_PORT="$(pick_port $((SLURM_PORT + 1)) "$SLURM_PORT")"
HOST="$(hostname -s)"   # slurmctld only acts as controller where SlurmctldHost == hostname -s

write_conf() {  # write_conf NAME PORT -> path of the conf
    local d="$TMP/$1"
    mkdir -p "$d/state" "$d/spool"
    cat > "$d/slurm.conf" <<EOF
# written by bench/run.sh for $1
ClusterName=bench
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/ctld.pid
SlurmctldLogFile=$d/ctld.log
SlurmctldDebug=info
$(bench_conf_plugins)
MaxJobCount=50000
NodeName=n[1-4] NodeAddr=127.0.0.[1-4] CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    echo "$d/slurm.conf"
}

start_ctld() {  # start_ctld NAME CONF: fresh state, then wait for `scontrol ping` UP
    local name="$1" conf="$2" d
    d="$(dirname "$conf")"
    rm -rf "$d/state"; mkdir -p "$d/state"
    if [ "$name" = slurmctld ]; then
        setsid "$SLURMCTLD" -D -i -f "$conf" </dev/null >>"$d/stdout" 2>&1 &
    else
        setsid "$FLURMCTLD" -D -f "$conf" </dev/null >>"$d/stdout" 2>&1 &
    fi
    CTLD_PID=$!
    for _ in $(seq 1 300); do
        SLURM_CONF="$conf" timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP' && return 0
        kill -0 "$CTLD_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$d/stdout" "$d/ctld.log" >&2 2>/dev/null || true
    stop_ctld
    log "$name did not answer scontrol ping"
    return 1
}

# ---------------------------------------------------------------- measurements
RAW="$TMP/raw.txt"
: > "$RAW"
run_bench() { "$BENCH" "$@" | tee -a "$RAW" >&2; }

log "munge floor (sign+verify pairs against the private munged)"
run_bench -f "$(write_conf floor "$SLURM_PORT")" --label munge --munge-only -t "$SECS" -c "$CONC" || true

measure() {  # measure NAME PORT
    local name="$1" conf
    conf="$(write_conf "$name" "$2")"
    log "$name on port $2: RPC matrix ($RPCS; concurrency $CONC; ${SECS}s per cell)"
    start_ctld "$name" "$conf" || return 0
    run_bench -f "$conf" --label "$name" -t "$SECS" -c "$CONC" --rpc "$RPCS" || log "$name: flurm-bench failed"
    stop_ctld
    if [ -n "$DEEP" ]; then
        log "$name: deep queue ($DEEP jobs; $SAMPLES REQUEST_JOB_INFO samples each)"
        start_ctld "$name" "$conf" || return 0
        run_bench -f "$conf" --label "$name" --deep "$DEEP" --samples "$SAMPLES" --fill-max "$FILL_MAX" --pid "$CTLD_PID" ||
            log "$name: deep-queue run reported errors"
        stop_ctld
    fi
}

if [ "$ONLY" != flurmctld ]; then measure slurmctld "$SLURM_PORT"; fi
if [ "$ONLY" != slurmctld ]; then
    if [ -x "$FLURMCTLD" ]; then measure flurmctld "$FLURM_PORT"
    else log "flurmctld not built ($FLURMCTLD): its column is n/a"; fi
fi
[ -n "${BENCH_OUT:-}" ] && cp "$RAW" "$BENCH_OUT"

# ---------------------------------------------------------------- table
echo
echo "munge floor (sign+verify pairs/s; a client RPC needs 2 pairs = 4 munged round trips):"
awk '$1 == "munge" {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "  conc=%-3s %10s pairs/s  p50 %s us  => at most %s RPC/s\n",
        v["conc"], v["pairs_per_s"], v["p50_us"], v["rpc_ceiling_per_s"] }' "$RAW"
echo
awk -v rpcs="$RPCS" -v conc="$CONC" -v deep="$DEEP" '
function get(label, key) { return (label SUBSEP key) in val ? val[label, key] : "n/a" }
# better: "hi" (throughput: flurm/slurm) or "lo" (latency/memory: slurm/flurm) or "" (no ratio)
# SAME: a key that must be equal in both columns for a ratio (the queue depth reached)
function row(name, key, better, same,   f, s, r) {
    f = get("flurmctld", key); s = get("slurmctld", key); r = "-"
    if (same != "" && get("flurmctld", same) != get("slurmctld", same)) {
        if (better != "" && f != "n/a" && s != "n/a") r = "n/c"
    } else if (f != "n/a" && s != "n/a" && f + 0 > 0 && s + 0 > 0) {
        if (better == "hi") r = sprintf("%.2f", f / s)
        else if (better == "lo") r = sprintf("%.2f", s / f)
    }
    printf "%-34s | %12s | %12s | %6s\n", name, f, s, r
}
$1 == "rpc" || $1 == "deep" {
    delete v
    for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
    if ($1 == "rpc") {
        k = v["kind"] "_c" v["conc"]
        val[v["label"], k "_rps"] = v["rps"]; val[v["label"], k "_p50"] = v["p50_us"]
        val[v["label"], k "_p99"] = v["p99_us"]; val[v["label"], k "_max"] = v["max_us"]
        val[v["label"], k "_err"] = v["errors"]
    } else if ("submitted" in v) {
        k = "deep" (++ndeep[v["label"]])
        val[v["label"], k "_jobs"] = v["jobs"]; val[v["label"], k "_p50"] = v["jobinfo_p50_us"]
        val[v["label"], k "_p99"] = v["jobinfo_p99_us"]; val[v["label"], k "_bytes"] = v["reply_bytes"]
        val[v["label"], k "_rss"] = v["rss_kb"]; val[v["label"], k "_perjob"] = v["rss_per_job_b"]
        val[v["label"], k "_fill"] = v["fill_rps"]; val[v["label"], k "_err"] = v["errors"]
        val[v["label"], k "_jobs"] = v["jobs"]
    } else if ("pid" in v) {
        val[v["label"], "deep0_rss"] = v["rss_kb"]
    }
}
END {
    printf "%-34s | %12s | %12s | %6s\n", "figure", "flurmctld", "slurmctld", "ratio"
    printf "%s\n", "-----------------------------------+--------------+--------------+-------"
    nk = split(rpcs, K, ","); nc = split(conc, C, ",")
    for (i = 1; i <= nk; i++) for (j = 1; j <= nc; j++) {
        k = K[i] "_c" C[j]
        row(K[i] " c=" C[j] " req/s", k "_rps", "hi")
        row(K[i] " c=" C[j] " p50 us", k "_p50", "lo")
        row(K[i] " c=" C[j] " p99 us", k "_p99", "lo")
        row(K[i] " c=" C[j] " max us", k "_max", "lo")
        row(K[i] " c=" C[j] " errors", k "_err", "")
    }
    if (deep != "") row("empty queue: RSS KiB", "deep0_rss", "lo")
    nd = split(deep, D, ",")
    for (i = 1; i <= nd; i++) {
        k = "deep" i
        row(D[i] " pending: jobs reached", k "_jobs", "")
        row(D[i] " pending: jobinfo p50 us", k "_p50", "lo", k "_jobs")
        row(D[i] " pending: jobinfo p99 us", k "_p99", "lo", k "_jobs")
        row(D[i] " pending: reply bytes", k "_bytes", "")
        row(D[i] " pending: RSS KiB", k "_rss", "lo", k "_jobs")
        row(D[i] " pending: RSS B per job", k "_perjob", "lo", k "_jobs")
        row(D[i] " pending: fill submit/s c=4", k "_fill", "hi")
        row(D[i] " pending: errors", k "_err", "")
    }
}' "$RAW"
