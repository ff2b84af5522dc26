# bench/lib.sh — sourced by nodes.sh and backfill.sh: one controller and its node daemons on this
# machine, FLURM's or SLURM 22.05's, with a private munged, free ports and a temporary directory.
#
# The sourcing script sets before sourcing:
#   LOG_TAG          prefix of its log lines
#   NODES            node daemons per side (n1..nNODES)
#   NODE_CPUS, NODE_MEM   what each node is configured with (slurmd: config_overrides)
# and may define bench_extra_conf (printed into every slurm.conf, after the common lines).
# After sourcing: TMP (removed on exit unless BENCH_KEEP=1), SOCK, MUNGED_PID, BUILD, FLURMCTLD,
# FLURMND, SLURMCTLD, SLURMD, RAW (the figure lines); start_side SIDE starts a side (CTLD_PID,
# NG_PID, CONF, SIDE_DIR) and stop_side stops it; run_sides runs the script's run_side SIDE. A script that runs a client in the background keeps its pid in BENCH_PID so
# that Ctrl-C stops it first.

. "$ROOT/bench/conf.sh"

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (slurmd runs as root, SlurmUser=root)"
case "${BENCH_ONLY:-}" in ''|flurm|slurm) ;; *) die "BENCH_ONLY must be flurm or slurm" ;; esac
for t in ss python3 sbatch scontrol sinfo scancel; do command -v "$t" >/dev/null || die "$t not found"; done
SLURMCTLD="$(command -v slurmctld || echo /usr/sbin/slurmctld)"
SLURMD="$(command -v slurmd || echo /usr/sbin/slurmd)"
if [ "${BENCH_ONLY:-}" != flurm ]; then
    [ -x "$SLURMCTLD" ] && [ -x "$SLURMD" ] || die "slurmctld/slurmd (Debian slurmctld, slurmd) not installed"
fi

BUILD="${BUILD_DIR:-$ROOT/build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
meson compile -C "$BUILD" -j 2 >&2 || die "build failed"
FLURMCTLD="$BUILD/bin/flurmctld/flurmctld"
FLURMND="$BUILD/bin/flurmnd/flurmnd"
NODEGROUP="$ROOT/bench/nodegroup.py"
NODE_WAIT="${BENCH_NODE_WAIT:-60}"

# ---------------------------------------------------------------- temp dir, cleanup
TMP="$(mktemp -d "/tmp/flurm-$LOG_TAG.XXXXXX")"
chmod 0755 "$TMP"          # munged (user munge) must reach its directory below
CTLD_PID="" NG_PID="" CONF="" BENCH_PID="" SIDE_DIR=""
stop_pid() {     # stop_pid PID: SIGTERM, SIGKILL after 30 s, reaped
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
stop_nodes() { stop_pid "$NG_PID"; NG_PID=""; }   # nodegroup stops the daemons and their leftovers
stop_ctld() { stop_pid "$CTLD_PID"; CTLD_PID=""; }
cancel_all() {   # jobs still queued or running on the controller under test
    [ -n "$CTLD_PID" ] && [ -n "$CONF" ] || return 0
    SLURM_CONF="$CONF" timeout 30 scancel -u root >/dev/null 2>&1 || true
}
stop_side() { cancel_all; stop_nodes; stop_ctld; CONF=""; }
cleanup() {
    set +e
    if [ -n "$BENCH_PID" ]; then kill -TERM "$BENCH_PID" 2>/dev/null; wait "$BENCH_PID" 2>/dev/null; fi
    stop_side
    "$ROOT/tests/lib/munged.sh" stop "$TMP/munge" >/dev/null 2>&1
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK="$("$ROOT/tests/lib/munged.sh" start "$TMP/munge")"
RAW="$TMP/raw.txt"
: > "$RAW"
MUNGED_PID="$(cat "$TMP/munge/munged.pid")"

# ---------------------------------------------------------------- ports, slurm.conf
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
SLURMD_PORT="$(pick_ports $((SLURM_PORT + 1)) "$NODES")"
FLURM_PORT="$(pick_ports $((SLURMD_PORT + NODES)) 1)"
FLURM_NODE_PORT="$(pick_ports $((FLURM_PORT + 1)) 1)"
HOST="$(hostname -s)"   # slurmctld only acts as controller where SlurmctldHost == hostname -s
CLK_TCK="$(getconf CLK_TCK)"

write_conf() {   # write_conf SIDE DIR PORT
    local side="$1" d="$2" i
    cat <<EOF
# written by bench/$LOG_TAG.sh for $side
ClusterName=bench$LOG_TAG
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
MaxJobCount=200000
MinJobAge=300
EOF
    if declare -F bench_extra_conf >/dev/null; then bench_extra_conf; fi
    if [ "$side" = slurm ]; then
        # slurmd: one port per node on one address; trust the config, not the host's hardware
        echo "SlurmdParameters=config_overrides"
        for i in $(seq 1 "$NODES"); do
            echo "NodeName=n$i NodeHostname=$HOST NodeAddr=127.0.0.1 Port=$((SLURMD_PORT + i - 1)) CPUs=$NODE_CPUS RealMemory=$NODE_MEM State=UNKNOWN"
        done
    else
        # flurmnd dials the controller's node port (SLURM clients reject unknown keys)
        echo "SlurmctldParameters=flurm_node_port=$FLURM_NODE_PORT"
        echo "NodeName=n[1-$NODES] NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$NODE_MEM State=UNKNOWN"
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

# ---------------------------------------------------------------- one side
# start_side flurm|slurm: its controller on an empty state and NODES node daemons, all idle.
# Sets SIDE_DIR, CONF, CTLD_PID, NG_PID. Returns 1 (everything stopped again, the reason logged)
# when the controller does not answer or the nodes do not all become idle within NODE_WAIT.
start_side() {
    local side="$1" port d i up=0 n
    d="$TMP/$side"
    SIDE_DIR="$d"
    mkdir -p "$d/state" "$d/spool" "$d/run" "$d/log" "$d/out" "$d/nodes"
    for i in $(seq 1 "$NODES"); do mkdir -p "$d/spool/n$i"; done   # slurmd does not create it
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
        return 1
    fi

    : > "$d/nodes.cmd"
    for i in $(seq 1 "$NODES"); do
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
        [ "$n" -ge "$NODES" ] && break
        if [ $((SECONDS - t0)) -ge "$NODE_WAIT" ]; then
            SLURM_CONF="$CONF" sinfo -N >&2 || true
            log "$side: only $n of $NODES nodes idle after ${NODE_WAIT}s: its column is n/a"
            stop_nodes; stop_ctld
            return 1
        fi
        sleep 0.2
    done
    log "$side: $NODES nodes idle after $((SECONDS - t0))s"
}

# run_sides: the script's run_side for slurm, then for flurm (BENCH_ONLY: one of them); RAW
# (the figure lines) copied to BENCH_OUT when set.
run_sides() {
    if [ "${BENCH_ONLY:-}" != flurm ]; then run_side slurm; fi
    if [ "${BENCH_ONLY:-}" != slurm ]; then
        if [ -x "$FLURMCTLD" ] && [ -x "$FLURMND" ]; then run_side flurm
        else log "flurmctld/flurmnd not built: the flurm column is n/a"; fi
    fi
    if [ -n "${BENCH_OUT:-}" ]; then cp "$RAW" "$BENCH_OUT"; fi
}

# ---------------------------------------------------------------- the table
# table_awk: awk that reads figure lines "KIND label=flurm|slurm [what=W] k=v ..." into
# val[label, P "_" k] (P = W, else KIND); an END block then prints head() and
# row(NAME, P_k, hi|lo|""): ratio > 1 = FLURM better ("hi": flurm/slurm, "lo": slurm/flurm).
table_awk='
function get(label, key) { return (label SUBSEP key) in val ? val[label, key] : "n/a" }
function row(name, key, better,   f, s, r) {
    f = get("flurm", key); s = get("slurm", key); r = "-"
    if (f != "n/a" && s != "n/a" && f + 0 > 0 && s + 0 > 0) {
        if (better == "hi") r = sprintf("%.2f", f / s)
        else if (better == "lo") r = sprintf("%.2f", s / f)
    }
    printf "%-48s | %10s | %10s | %6s\n", name, f, s, r
}
function head() {
    printf "%-48s | %10s | %10s | %6s\n", "figure", "flurm", "slurm", "ratio"
    printf "%s\n", "-------------------------------------------------+------------+------------+-------"
}
{
    delete v
    for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
    pre = ("what" in v) ? v["what"] : $1
    for (k in v) if (k != "label" && k != "what") val[v["label"], pre "_" k] = v[k]
}'
