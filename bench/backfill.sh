#!/usr/bin/env bash
# bench/backfill.sh — one command: a deep backfill cycle, FLURM next to SLURM 22.05, with the
# real clients and the real node daemons.
#
# For each controller in turn (never both at once), on this machine:
#   FLURM: flurmctld + 16 `flurmnd -N nK`;  SLURM: slurmctld + 16 `slurmd -N nK` (own ports),
# both with one private munged, the same nodes (n[1-16], 32 CPUs, 64000 MB), one partition and
# the same SchedulerParameters (every pending job tested: bf_max_job_test=100000, a 2-day
# bf_window, bf_continue, bf_max_time=3600). Once the nodes are idle:
#   1. 16 `sbatch --exclusive` jobs fill the nodes, with limits of 1, 2, ... 16 hours;
#   2. JOBS jobs are submitted with `sbatch` from CONC submitters: the same seeded mix on both
#      sides (70% one node with 1-32 tasks, the rest 2-4 nodes with 1-16 tasks per node; 5%
#      --exclusive; --mem 100-4000 MB per node; limits 10 minutes to 2 days). None can start
#      before the fill jobs end, so every backfill cycle tests all of them;
#   3. sdiag is read until CYCLES backfill cycles have begun and ended after the last submit
#      (and for at least 10 s).
# Printed per side: the backfill cycle as sdiag reports it (slurmctld's excludes its lock-yield
# sleeps), depth, the main cycle, the controller's CPU time per backfill cycle over those
# cycles (all it did in that time: FLURM's sdiag figure is its scheduler's pass alone, without
# building the scheduler's view), how many pending jobs squeue shows a planned start for, the
# controller's RSS; then the table  figure | flurm | slurm | ratio  (ratio > 1 = FLURM better).
# Everything started here is stopped (also on Ctrl-C) and the temporary directory removed.
#
# Must run as root (slurmd runs as root; SlurmUser=root).
# Knobs (defaults in brackets):
#   BENCH_QUICK=1          2000 jobs instead of 10000
#   BENCH_JOBS [10000]     pending jobs (overrides BENCH_QUICK; at most 100000)
#   BENCH_CYCLES [3]       backfill cycles measured after the last submit
#   BENCH_ONLY             flurm | slurm: measure one side only
#   BENCH_CONC [8]         parallel sbatch submitters
#   BENCH_CYCLE_WAIT [900] seconds allowed for those cycles
#   BENCH_NODE_WAIT [60]   seconds allowed for the 16 nodes to become idle
#   BENCH_OUT              file that receives the raw figure lines as well
#   BENCH_KEEP=1           keep the temporary directory (confs, logs)
#   BUILD_DIR [build]      meson build directory (set up when missing)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${BENCH_QUICK:-0}" = 1 ]; then JOBS="${BENCH_JOBS:-2000}"; else JOBS="${BENCH_JOBS:-10000}"; fi
CONC="${BENCH_CONC:-8}"
CYCLES="${BENCH_CYCLES:-3}"
CYCLE_WAIT="${BENCH_CYCLE_WAIT:-900}"
LOG_TAG=backfill NODES=16 NODE_CPUS=32 NODE_MEM=64000
[ "$JOBS" -ge 1 ] && [ "$JOBS" -le 100000 ] || { echo "BENCH_JOBS must be 1..100000" >&2; exit 1; }

bench_extra_conf() {
    echo "SchedulerParameters=bf_max_job_test=100000,bf_window=2880,bf_resolution=60,bf_interval=10,bf_max_time=3600,bf_continue,default_queue_depth=100"
}
. "$ROOT/bench/lib.sh"

# The job mix: one line of sbatch options per job, the same on both sides.
python3 - "$JOBS" > "$TMP/jobs.args" <<'EOF'
import random, sys
rnd = random.Random(2205)
for _ in range(int(sys.argv[1])):
    if rnd.random() < 0.7:
        shape = f"-N 1 -n {rnd.randint(1, 32)}"
    else:
        shape = f"-N {rnd.randint(2, 4)} --ntasks-per-node={rnd.randint(1, 16)}"
    if rnd.random() < 0.05:
        shape += " --exclusive"
    print(f"{shape} --mem={rnd.randint(1, 40) * 100} -t {rnd.randint(10, 2880)} -o /dev/null --wrap=true")
EOF

sdiag_get() {   # sdiag_get: "main_last bf_cycles bf_last bf_depth bf_try" from one sdiag
    SLURM_CONF="$CONF" timeout 30 sdiag 2>/dev/null | awk -F: '
        /^Main schedule statistics/ { sec = "main" }
        /^Backfilling stats/ { sec = "bf" }
        { k = $1; gsub(/^[ \t]+|[ \t]+$/, "", k); v = $2; gsub(/[ \t]/, "", v) }
        sec == "main" && k == "Last cycle" { ml = v }
        sec == "bf" && k == "Total cycles" { bc = v }
        sec == "bf" && k == "Last cycle" { bl = v }
        sec == "bf" && k == "Last depth cycle" { bd = v }
        sec == "bf" && k == "Last depth cycle (try sched)" { bt = v }
        END { if (bc == "") exit 1; print ml + 0, bc + 0, bl + 0, bd + 0, bt + 0 }'
}

count_state() {   # count_state STATE: jobs in it
    SLURM_CONF="$CONF" timeout 60 squeue -h -t "$1" -o %i 2>/dev/null | wc -l
}

run_side() {   # run_side flurm|slurm
    local side="$1" i n t0
    start_side "$side" || return 0

    log "$side: 16 exclusive jobs fill the nodes"
    for i in $(seq 1 "$NODES"); do
        SLURM_CONF="$CONF" sbatch -Q --exclusive -N 1 -t $((60 * i)) -o /dev/null --wrap='sleep 100000'
    done
    t0=$SECONDS
    until [ "$(count_state R)" -ge "$NODES" ]; do
        if [ $((SECONDS - t0)) -ge 120 ]; then
            SLURM_CONF="$CONF" squeue >&2 || true
            log "$side: the fill jobs did not all start within 120 s: its column is n/a"
            stop_side; return 0
        fi
        sleep 0.5
    done

    log "$side: $JOBS jobs from $CONC submitters"
    local s0 s1 ok
    s0="$(date +%s.%N)"
    SLURM_CONF="$CONF" xargs -P "$CONC" -L 1 sbatch --parsable < "$TMP/jobs.args" \
        > "$SIDE_DIR/ids.txt" 2> "$SIDE_DIR/sbatch.err" &
    BENCH_PID=$!
    wait "$BENCH_PID" || true
    BENCH_PID=""
    s1="$(date +%s.%N)"
    ok="$(grep -c '^[0-9]' "$SIDE_DIR/ids.txt" || true)"
    [ "$ok" = "$JOBS" ] || log "$side: $((JOBS - ok)) submits failed; first errors: $(head -c 300 "$SIDE_DIR/sbatch.err")"
    n="$(count_state PD)"
    log "$side: $ok submitted in $(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.1f", b-a}') s, $n pending"

    # cycles: wait for one to end (it may have begun before the last submit), then take at
    # least CYCLES, over at least 10 s: the controller's CPU per cycle is taken over that span
    local first c0 c l d tr s c_seen=0 cyc=() depth=0 try=0 main=0 c_a=0 cpu_a=0 t_a=0
    read -r _ c0 _ _ _ < <(sdiag_get) || c0=0
    first=$((c0 + 1))
    t0=$SECONDS
    log "$side: waiting for $CYCLES backfill cycles after cycle $first"
    while [ "${#cyc[@]}" -lt "$CYCLES" ] || [ $((SECONDS - t_a)) -lt 10 ]; do
        if [ $((SECONDS - t0)) -ge "$CYCLE_WAIT" ]; then
            log "$side: only ${#cyc[@]} of $CYCLES cycles within ${CYCLE_WAIT}s"; break
        fi
        sleep 0.5
        read -r s c l d tr < <(sdiag_get) || continue
        if [ "$c" -gt "$first" ] && [ "$c" -gt "$c_seen" ]; then
            cyc+=("$l"); depth="$d"; try="$tr"; main="$s"; c_seen="$c"
            if [ "$c_a" = 0 ]; then c_a="$c"; cpu_a="$(cpu_s self "$CTLD_PID")"; t_a=$SECONDS; fi
        fi
    done
    local cpu_cyc=n/a
    if [ "$c_seen" -gt "$c_a" ]; then
        cpu_cyc="$(awk -v a="$cpu_a" -v b="$(cpu_s self "$CTLD_PID")" -v n=$((c_seen - c_a)) \
            'BEGIN { printf "%.1f", (b - a) * 1000 / n }')"
    fi
    local planned rss cmin cmed
    # kept with BENCH_KEEP=1: the fill jobs' starts and every planned start, to compare sides
    SLURM_CONF="$CONF" timeout 60 squeue -h -t R -o '%i %S %e %N' > "$SIDE_DIR/running.txt" 2>/dev/null || true
    SLURM_CONF="$CONF" timeout 60 squeue -h -t PD -o '%i %S %N' 2>/dev/null | awk '$2 != "N/A"' > "$SIDE_DIR/planned.txt" || true
    planned="$(wc -l < "$SIDE_DIR/planned.txt")"
    rss="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$CTLD_PID/status" 2>/dev/null || echo n/a)"
    if [ "${#cyc[@]}" -gt 0 ]; then
        cmin="$(printf '%s\n' "${cyc[@]}" | sort -n | head -1 | awk '{printf "%.1f", $1 / 1000}')"
        cmed="$(printf '%s\n' "${cyc[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] / 1000}')"
    else
        cmin=n/a cmed=n/a
    fi
    echo "backfill label=$side submitted=$ok submit_s=$(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.1f", b-a}') pending=$n cycles=${#cyc[@]} cycle_min_ms=$cmin cycle_med_ms=$cmed depth=$depth depth_try=$try main_ms=$(awk -v m="$main" 'BEGIN{printf "%.2f", m / 1000}') cpu_per_cycle_ms=$cpu_cyc planned=$planned rss_mb=$rss" |
        tee -a "$RAW" >&2
    log "$side: stopping (cancelling $n jobs)"
    stop_side
}

run_sides

echo
echo "$JOBS pending jobs behind 16 running exclusive ones, $NODES nodes x $NODE_CPUS CPUs; every job tested (bf_max_job_test=100000, bf_window 2 days)"
awk "$table_awk"'
END {
    head()
    row("jobs submitted (sbatch)", "backfill_submitted", "")
    row("submit wall time s", "backfill_submit_s", "lo")
    row("jobs pending", "backfill_pending", "")
    row("backfill cycles measured", "backfill_cycles", "")
    row("backfill cycle ms (sdiag Last cycle), lowest", "backfill_cycle_min_ms", "lo")
    row("backfill cycle ms, median", "backfill_cycle_med_ms", "lo")
    row("    depth (sdiag Last depth cycle)", "backfill_depth", "")
    row("    depth (try sched)", "backfill_depth_try", "")
    row("main cycle ms (sdiag Last cycle)", "backfill_main_ms", "lo")
    row("controller CPU ms per backfill cycle", "backfill_cpu_per_cycle_ms", "lo")
    row("pending jobs with a planned start", "backfill_planned", "")
    row("controller RSS MB", "backfill_rss_mb", "lo")
}' "$RAW"
