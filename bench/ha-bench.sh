#!/usr/bin/env bash
# bench/ha-bench.sh — flurmctld as a Raft cluster (3 members on 127.0.0.1-3 by default): failover
# time, submit throughput and client-side commit latency next to one flurmctld and the real
# slurmctld 22.05, and the catch-up of a member that missed 100k commands. Figures, never
# assertions; nothing here is part of `meson test`.
#
#   sudo bench/ha-bench.sh                  # ~10 minutes (most of it the 100k catch-up fill)
#   sudo BENCH_QUICK=1 bench/ha-bench.sh    # ~2 minutes: 3 trials, 2 s cells, conc 1,16, 10k catch-up
#
# Knobs (defaults in brackets):
#   BENCH_PARTS [failover,throughput,catchup]   which figures
#   BENCH_TRIALS [10]      failover trials (leader SIGKILL -> first acknowledged sbatch)
#   BENCH_SECS [5]         seconds per flurm-bench cell and for the real-sbatch rate
#   BENCH_CONC [1,4,16,64] concurrent submitting clients
#   BENCH_CATCHUP [100000] submissions the stopped member misses
#   BENCH_MEMBERS [3]      3 or 5
#   BENCH_NO_SLURM=1       skip the real slurmctld column
#   BENCH_SIDES [ha-leader,ha-follower,flurm1,slurm]   throughput columns to measure
#   BENCH_OUT=file         keep the raw figure lines; BENCH_KEEP=1 keep the clusters' temp dirs
#   BUILD_DIR [build]      meson build directory (set up when missing)
#
# Every cluster gets a fresh temp dir, its own munged and free ports (tests/integration/harness.py:
# HACluster for the members, Cluster for one flurmctld and for `slurmctld -D -i`), and is stopped
# on exit, Ctrl-C included. Load generators: build/bench/flurm-bench (submit cells: whole
# REQUEST_SUBMIT_BATCH_JOB RPCs of a held job, reply credential verified), the real sbatch, and the
# SLURM reference peer's rpcbench.py (../shared/tools/slurm-peer) for the exact-count catch-up fill;
# `flurm cluster status` (build/bin/flurm/flurm) for the members' APPLIED indexes.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
log() { printf '[ha-bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (SlurmUser=root; the benchmark's jobs are root's)"
for t in sbatch scontrol squeue munge; do command -v "$t" >/dev/null || die "$t not found (munge, slurm-client)"; done

BUILD="${BUILD_DIR:-$ROOT/build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
meson compile -C "$BUILD" -j 2 >&2 || die "build failed"
export FLURMCTLD="$BUILD/bin/flurmctld/flurmctld"
export FLURM_BENCH="${FLURM_BENCH:-$BUILD/bench/flurm-bench}"
export FLURM_TOOL="${FLURM_TOOL:-$BUILD/bin/flurm/flurm}"
export RPCBENCH="${RPCBENCH:-$ROOT/../shared/tools/slurm-peer/rpcbench.py}"
[ -x "$FLURMCTLD" ] || die "$FLURMCTLD not built"
[ -x "$FLURM_BENCH" ] || die "$FLURM_BENCH not built"
case ",${BENCH_PARTS:-catchup}," in
    *,catchup,*) [ -f "$RPCBENCH" ] || die "rpcbench.py not found at $RPCBENCH (RPCBENCH=...)" ;;
esac
# the members bind 127.0.0.1..N: on Linux all of 127/8 is loopback
python3 - "${BENCH_MEMBERS:-3}" <<'PY' || die "cannot bind 127.0.0.2.. on this machine"
import socket, sys
for i in range(1, int(sys.argv[1]) + 1):
    with socket.socket() as s:
        s.bind(("127.0.0.%d" % i, 0))
PY
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$ROOT/bench/ha_bench.py"
