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
if [ "${BENCH_QUICK:-0}" = 1 ]; then JOBS="${BENCH_JOBS:-200}"; else JOBS="${BENCH_JOBS:-1000}"; fi
CONC="${BENCH_CONC:-8}"
POLL="${BENCH_POLL:-0.2}"
WAIT_MAX="${BENCH_WAIT_MAX:-600}"
LOG_TAG=nodes NODES=16 NODE_CPUS=2 NODE_MEM=1000
. "$ROOT/bench/lib.sh"
BENCH="$BUILD/bench/flurm-bench"

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

run_side() {   # run_side flurm|slurm
    local side="$1" d i
    start_side "$side" || return 0
    d="$SIDE_DIR"

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

run_sides

# ---------------------------------------------------------------- table
echo
echo "$JOBS jobs (sbatch --wrap 'date +%s.%N', not held), $NODES nodes x 2 CPUs, $CONC submitters; end instants to ${POLL}s (poll period)"
awk "$table_awk"'
END {
    head()
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
