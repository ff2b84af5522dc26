#!/usr/bin/env bash
# bench/nodes.sh — one command: 1,000 real jobs on 16 simulated nodes, FLURM next to SLURM 22.05.
#
# For each controller in turn (never both at once), on this machine:
#   FLURM: flurmctld + 16 `flurmnd -N nK`;  SLURM: slurmctld + 16 `slurmd -N nK` (own ports),
# both with one private munged, the same nodes (n[1-16], 2 CPUs, 1000 MB) and one partition.
# Once all 16 nodes are idle, build/bench/flurm-bench --submit-wrap submits the jobs
# (`sbatch --wrap 'date +%s.%N'`, not held) from 8 threads, polls REQUEST_JOB_INFO until every
# job has finished, reads each job's start instant from its output and prints the figures.
# Then the table  figure | flurm | slurm | ratio  (ratio > 1 = FLURM better).
# Everything started here is stopped (also on Ctrl-C) and the temporary directory removed.
#
# Must run as root (slurmd runs as root; SlurmUser=root; the job description carries uid 0).
# Knobs (defaults in brackets):
#   BENCH_QUICK=1          200 jobs instead of 1000
#   BENCH_JOBS [1000]      number of jobs (overrides BENCH_QUICK)
#   BENCH_ONLY             flurm | slurm: measure one side only
#   BENCH_CONC [8]         parallel submitters
#   BENCH_POLL [0.2]       seconds between REQUEST_JOB_INFO polls (precision of the end instants)
#   BENCH_WAIT_MAX [600]   seconds allowed for the jobs to finish after the last submit
#   BENCH_NODE_WAIT [60]   seconds allowed for the 16 nodes to become idle
#   BENCH_OUT              file that receives the raw figure lines as well
#   BENCH_KEEP=1           keep the temporary directory (confs, logs, per-job raw times)
#   BUILD_DIR [build]      meson build directory (set up when missing)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/bench/conf.sh"
BUILD="${BUILD_DIR:-$ROOT/build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
if [ "${BENCH_QUICK:-0}" = 1 ]; then JOBS="${BENCH_JOBS:-200}"; else JOBS="${BENCH_JOBS:-1000}"; fi
ONLY="${BENCH_ONLY:-}"
CONC="${BENCH_CONC:-8}"
POLL="${BENCH_POLL:-0.2}"
WAIT_MAX="${BENCH_WAIT_MAX:-600}"
NODE_WAIT="${BENCH_NODE_WAIT:-60}"
NODES=16

log() { printf '[nodes] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (slurmd runs as root, SlurmUser=root)"
case "$ONLY" in ''|flurm|slurm) ;; *) die "BENCH_ONLY must be flurm or slurm" ;; esac
for t in ss python3 sbatch scontrol sinfo scancel; do command -v "$t" >/dev/null || die "$t not found"; done
SLURMCTLD="$(command -v slurmctld || echo /usr/sbin/slurmctld)"
SLURMD="$(command -v slurmd || echo /usr/sbin/slurmd)"
if [ "$ONLY" != flurm ]; then
    [ -x "$SLURMCTLD" ] && [ -x "$SLURMD" ] || die "slurmctld/slurmd (Debian slurmctld, slurmd) not installed"
fi

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
meson compile -C "$BUILD" -j 2 >&2 || die "build failed"
BENCH="$BUILD/bench/flurm-bench"
FLURMCTLD="$BUILD/bin/flurmctld/flurmctld"
FLURMND="$BUILD/bin/flurmnd/flurmnd"
NODEGROUP="$ROOT/bench/nodegroup.py"

# ---------------------------------------------------------------- temp dir, cleanup
TMP="$(mktemp -d /tmp/flurm-nodes.XXXXXX)"
chmod 0755 "$TMP"          # munged (user munge) must reach its directory below
CTLD_PID="" NG_PID="" CONF="" BENCH_PID=""
stop_nodes() {   # SIGTERM to nodegroup: it stops the daemons, then kills their leftovers
    [ -n "$NG_PID" ] || return 0
    kill -TERM "$NG_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$NG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$NG_PID" 2>/dev/null && kill -KILL "$NG_PID" 2>/dev/null
    wait "$NG_PID" 2>/dev/null
    NG_PID=""
}
stop_ctld() {
    [ -n "$CTLD_PID" ] || return 0
    kill -TERM "$CTLD_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$CTLD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CTLD_PID" 2>/dev/null && kill -KILL "$CTLD_PID" 2>/dev/null
    wait "$CTLD_PID" 2>/dev/null
    CTLD_PID=""
}
cancel_all() {   # jobs still queued or running on the controller under test
    [ -n "$CTLD_PID" ] && [ -n "$CONF" ] || return 0
    SLURM_CONF="$CONF" timeout 10 scancel -u root >/dev/null 2>&1 || true
}
cleanup() {
    set +e
    if [ -n "$BENCH_PID" ]; then kill -TERM "$BENCH_PID" 2>/dev/null; wait "$BENCH_PID" 2>/dev/null; fi
    cancel_all
    stop_nodes
    stop_ctld
    "$ROOT/tests/lib/munged.sh" stop "$TMP/munge" >/dev/null 2>&1
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK="$("$ROOT/tests/lib/munged.sh" start "$TMP/munge")"
MUNGED_PID="$(cat "$TMP/munge/munged.pid")"

port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
TAKEN=" "
pick_ports() {   # pick_ports START COUNT: first START.. with COUNT consecutive free ports
    local p="$1" i ok
    while :; do
        ok=1
        for i in $(seq 0 $(($2 - 1))); do
            if ! port_free $((p + i)) || [[ "$TAKEN" == *" $((p + i)) "* ]]; then ok=0; p=$((p + i + 1)); break; fi
        done
        [ "$ok" = 1 ] && break
    done
    for i in $(seq 0 $(($2 - 1))); do TAKEN="$TAKEN$((p + i)) "; done
    echo "$p"
}
SLURM_PORT="$(pick_ports 27817 1)"
SLURMD_PORT="$(pick_ports $((SLURM_PORT + 1)) $NODES)"
FLURM_PORT="$(pick_ports $((SLURMD_PORT + NODES)) 1)"
FLURM_NODE_PORT="$(pick_ports $((FLURM_PORT + 1)) 1)"
HOST="$(hostname -s)"   # slurmctld only acts as controller where SlurmctldHost == hostname -s
CLK_TCK="$(getconf CLK_TCK)"

write_conf() {   # write_conf SIDE DIR PORT
    local side="$1" d="$2" i
    cat <<EOF
# written by bench/nodes.sh for $side
ClusterName=benchnodes
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$3
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/run/ctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/ctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
$(bench_conf_plugins)
ReturnToService=2
MaxJobCount=50000
MinJobAge=300
EOF
    if [ "$side" = slurm ]; then
        # slurmd: one port per node on one address; trust the config, not the host's hardware
        echo "SlurmdParameters=config_overrides"
        for i in $(seq 1 $NODES); do
            echo "NodeName=n$i NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((SLURMD_PORT + i - 1)) CPUs=2 RealMemory=1000 State=UNKNOWN"
        done
    else
        # flurmnd dials the controller's node port (SLURM clients reject unknown keys)
        echo "SlurmctldParameters=flurm_node_port=$FLURM_NODE_PORT"
        echo "NodeName=n[1-$NODES] NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN"
    fi
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
}

cpu_s() {   # cpu_s self|all PID...: utime+stime (all: +cutime+cstime) of the PIDs, seconds
    local total=0 pid t mode="$1"
    shift
    for pid in "$@"; do
        t="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
            awk -v m="$mode" '{print $12 + $13 + (m == "all" ? $14 + $15 : 0)}')" || t=0
        total=$((total + ${t:-0}))
    done
    awk -v t="$total" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'
}

nodes_idle() {   # number of nodes sinfo reports idle
    SLURM_CONF="$CONF" timeout 10 sinfo -h -N -o '%N %t' 2>/dev/null | awk '$2 == "idle"' | sort -u | wc -l
}

log_files() {   # log_files DIR ctld|node
    # slurmctld -D writes its log file and (partly) stdout: the log file when there is one
    if [ "$2" = ctld ]; then ls "$1"/log/ctld.log 2>/dev/null || ls "$1"/log/ctld.stdout 2>/dev/null
    else ls "$1"/log/slurmd-*.log "$1"/nodes/*.stdout 2>/dev/null; fi
}
log_mark() {    # log_mark DIR: remember every log's size now
    local f
    for f in $(log_files "$1" ctld) $(log_files "$1" node); do echo "$(stat -c %s "$f") $f"; done > "$1/logmark"
}
log_since() {   # log_since DIR ctld|node: what the logs got after log_mark
    local f off
    for f in $(log_files "$1" "$2"); do
        off="$(awk -v f="$f" '$2 == f { print $1 }' "$1/logmark")"
        tail -c +$((${off:-0} + 1)) "$f"
    done
}

RAW="$TMP/raw.txt"
: > "$RAW"

run_side() {   # run_side flurm|slurm
    local side="$1" port d i up=0 n
    d="$TMP/$side"
    mkdir -p "$d/state" "$d/spool" "$d/run" "$d/log" "$d/out" "$d/nodes"
    for i in $(seq 1 $NODES); do mkdir -p "$d/spool/n$i"; done   # slurmd does not create it
    if [ "$side" = slurm ]; then port="$SLURM_PORT"; else port="$FLURM_PORT"; fi
    CONF="$d/slurm.conf"
    write_conf "$side" "$d" "$port" > "$CONF"

    log "$side: controller on port $port"
    if [ "$side" = slurm ]; then
        setsid "$SLURMCTLD" -D -i -f "$CONF" </dev/null >>"$d/log/ctld.stdout" 2>&1 &
    else
        setsid "$FLURMCTLD" -D -f "$CONF" </dev/null >>"$d/log/ctld.stdout" 2>&1 &
    fi
    CTLD_PID=$!
    for _ in $(seq 1 300); do
        SLURM_CONF="$CONF" timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP' && { up=1; break; }
        kill -0 "$CTLD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$up" != 1 ]; then
        tail -n 20 "$d/log/ctld.stdout" "$d/log/ctld.log" >&2 2>/dev/null || true
        log "$side: controller did not answer scontrol ping: its column is n/a"
        stop_ctld
        return 0
    fi

    : > "$d/nodes.cmd"
    for i in $(seq 1 $NODES); do
        if [ "$side" = slurm ]; then
            echo "n$i $SLURMD -D -N n$i -f $CONF" >> "$d/nodes.cmd"
        else
            echo "n$i $FLURMND -D -N n$i -f $CONF" >> "$d/nodes.cmd"
        fi
    done
    python3 "$NODEGROUP" "$d/nodes" "$d/nodes.cmd" 2>>"$d/log/nodegroup.log" &
    NG_PID=$!
    for _ in $(seq 1 100); do [ -e "$d/nodes/ready" ] && break; sleep 0.1; done
    log "$side: $NODES node daemons started; waiting for them to be idle"
    local t0=$SECONDS
    while :; do
        n="$(nodes_idle)"
        [ "$n" -ge $NODES ] && break
        if [ $((SECONDS - t0)) -ge "$NODE_WAIT" ]; then
            SLURM_CONF="$CONF" sinfo -N >&2 || true
            log "$side: only $n of $NODES nodes idle after ${NODE_WAIT}s: its column is n/a"
            stop_nodes; stop_ctld
            return 0
        fi
        sleep 0.2
    done
    log "$side: $NODES nodes idle after $((SECONDS - t0))s"

    local npids=() ctld0 nd0 ndall0 mu0 ctld1 nd1 mu1 rc=0
    for i in $(seq 1 $NODES); do npids+=("$(cat "$d/nodes/n$i.pid")"); done
    ctld0="$(cpu_s all "$CTLD_PID")"; nd0="$(cpu_s self "${npids[@]}")"; mu0="$(cpu_s all "$MUNGED_PID")"
    ndall0="$(cpu_s all "${npids[@]}")"
    log_mark "$d"
    log "$side: $JOBS jobs from $CONC submitters"
    # in the background: `wait` returns at once on Ctrl-C / SIGTERM, so the trap cleans up now
    SLURM_CONF="$CONF" "$BENCH" -f "$CONF" --label "$side" --submit-wrap "$JOBS" -c "$CONC" \
        --out-dir "$d/out" --poll "$POLL" --wait-max "$WAIT_MAX" --raw "$d/jobs.txt" > "$d/bench.out" &
    BENCH_PID=$!
    wait "$BENCH_PID" || rc=$?
    BENCH_PID=""
    tee -a "$RAW" < "$d/bench.out" >&2
    ctld1="$(cpu_s all "$CTLD_PID")"; nd1="$(cpu_s self "${npids[@]}")"; mu1="$(cpu_s all "$MUNGED_PID")"

    local ctld_alive=1 nd_alive=0
    kill -0 "$CTLD_PID" 2>/dev/null || ctld_alive=0
    for i in "${npids[@]}"; do kill -0 "$i" 2>/dev/null && nd_alive=$((nd_alive + 1)); done
    if [ "$rc" != 0 ]; then
        log "$side: flurm-bench reported errors or unfinished jobs; queue and nodes now:"
        SLURM_CONF="$CONF" timeout 10 squeue -h -o '%i %T %r %N' 2>&1 | awk '{c[$2 " " $3]++} END {for (k in c) print "  " c[k], k}' >&2 || true
        SLURM_CONF="$CONF" timeout 10 sinfo -N -h -o '  %N %t %E' >&2 || true
    fi
    cancel_all
    stop_nodes
    local node_total
    node_total="$(awk -v b="$ndall0" -F'[= ]' '{ printf "%.2f", $2 - b }' "$d/nodes/rusage" 2>/dev/null || echo n/a)"
    stop_ctld

    # lines mentioning "error" that the daemons logged from the first submit to the shutdown
    local ctld_err nd_err
    ctld_err="$(log_since "$d" ctld | grep -ci 'error' || true)"
    nd_err="$(log_since "$d" node | grep -ci 'error' || true)"
    echo "cpu label=$side ctld_s=$(awk -v a="$ctld0" -v b="$ctld1" 'BEGIN{printf "%.2f", b-a}') nodes_s=$(awk -v a="$nd0" -v b="$nd1" 'BEGIN{printf "%.2f", b-a}') node_total_s=$node_total munged_s=$(awk -v a="$mu0" -v b="$mu1" 'BEGIN{printf "%.2f", b-a}') ctld_alive=$ctld_alive nodes_alive=$nd_alive ctld_log_errors=$ctld_err node_log_errors=$nd_err" | tee -a "$RAW" >&2
    if [ "${ctld_err:-0}" != 0 ] || [ "${nd_err:-0}" != 0 ]; then
        log "$side: distinct error lines in the logs (first 10):"
        { log_since "$d" ctld; log_since "$d" node; } |
            grep -i 'error' | sed -E 's/^\[[^]]*\] //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -10 >&2 || true
    fi
    CONF=""
}

if [ "$ONLY" != flurm ]; then run_side slurm; fi
if [ "$ONLY" != slurm ]; then
    if [ -x "$FLURMCTLD" ] && [ -x "$FLURMND" ]; then run_side flurm
    else log "flurmctld/flurmnd not built: the flurm column is n/a"; fi
fi
[ -n "${BENCH_OUT:-}" ] && cp "$RAW" "$BENCH_OUT"

# ---------------------------------------------------------------- table
echo
echo "$JOBS jobs (sbatch --wrap 'date +%s.%N', not held), $NODES nodes x 2 CPUs, $CONC submitters; end instants to ${POLL}s (poll period)"
awk '
function get(label, key) { return (label SUBSEP key) in val ? val[label, key] : "n/a" }
# better: "hi" (flurm/slurm) or "lo" (slurm/flurm) or "" (no ratio)
function row(name, key, better,   f, s, r) {
    f = get("flurm", key); s = get("slurm", key); r = "-"
    if (f != "n/a" && s != "n/a" && f + 0 > 0 && s + 0 > 0) {
        if (better == "hi") r = sprintf("%.2f", f / s)
        else if (better == "lo") r = sprintf("%.2f", s / f)
    }
    printf "%-44s | %10s | %10s | %6s\n", name, f, s, r
}
$1 == "wrap" || $1 == "cpu" {
    delete v
    for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
    for (k in v) if (k != "label") val[v["label"], ($1 == "wrap" ? v["what"] "_" : "cpu_") k] = v[k]
}
END {
    printf "%-44s | %10s | %10s | %6s\n", "figure", "flurm", "slurm", "ratio"
    printf "%s\n", "---------------------------------------------+------------+------------+-------"
    row("jobs submitted", "submit_submitted", "")
    row("submit errors", "submit_errors", "")
    row("(a) submit throughput, jobs/s", "submit_submit_rps", "hi")
    row("    submit RPC p50 us", "submit_rpc_p50_us", "lo")
    row("    submit RPC p99 us", "submit_rpc_p99_us", "lo")
    row("(b) makespan s (first submit -> last end)", "run_makespan_s", "lo")
    row("(c) completions/s (first start -> last end)", "run_completions_per_s", "hi")
    row("    starts/s (first start -> last start)", "run_starts_per_s", "hi")
    row("(d) submit->start p50 ms", "run_start_p50_ms", "lo")
    row("    submit->start p90 ms", "run_start_p90_ms", "lo")
    row("    submit->start p99 ms", "run_start_p99_ms", "lo")
    row("    submit->start max ms", "run_start_max_ms", "lo")
    row("    submit->end p50 ms", "run_end_p50_ms", "lo")
    row("    submit->end p90 ms", "run_end_p90_ms", "lo")
    row("    submit->end p99 ms", "run_end_p99_ms", "lo")
    row("jobs finished", "run_finished", "")
    row("jobs not finished (stuck)", "run_not_finished", "")
    row("jobs finished not COMPLETED", "run_not_completed", "")
    row("jobs without output", "run_missing_out", "")
    row("(e) controller CPU s", "cpu_ctld_s", "lo")
    row("    node daemons CPU s (16, own only)", "cpu_nodes_s", "lo")
    row("    node side CPU s (+stepd/supervisors+jobs)", "cpu_node_total_s", "lo")
    row("    munged CPU s", "cpu_munged_s", "lo")
    row("controller alive after the run", "cpu_ctld_alive", "")
    row("node daemons alive after the run", "cpu_nodes_alive", "")
    row("log lines with \"error\" (run): controller", "cpu_ctld_log_errors", "")
    row("log lines with \"error\" (run): node daemons", "cpu_node_log_errors", "")
}' "$RAW"
