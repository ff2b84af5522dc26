#!/usr/bin/env bash
# bench/nodechan.sh — the node channel's cost: heartbeat and job-event throughput of flurmctld's
# node port with the authenticated channel, next to the same controller before it (plain
# protobuf, commit BEFORE, built in a scratch worktree) and to the munge floor, in one run.
#
#   sudo bench/nodechan.sh     BEFORE=da19210 SECONDS_PER_CELL=3 CONNS="1 4 16 64" ROUNDS=3
#   BEFORE_FLURMCTLD=path      an already built "before" controller (skips the build)
#
# Both controllers get the same slurm.conf (64 nodes on 127.0.0.1), an empty state and the same
# private munged; they run one after the other, alternating for ROUNDS rounds, and each cell
# keeps its best round (the client shares the machine: a slow round is the machine, not the
# controller). node-bench (bench/node-bench.c) plays the node daemons. Figures, not assertions.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
BEFORE="${BEFORE:-da19210}"
SECS="${SECONDS_PER_CELL:-3}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-1 4 16 64}"
log() { printf '[nodechan] %s\n' "$*" >&2; }

BUILD="${BUILD_DIR:-$ROOT/build}"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" >&2
meson compile -C "$BUILD" >&2
TMP="$(mktemp -d /tmp/flurm-nodechan.XXXXXX)"
chmod 0755 "$TMP"
CTLD_PID=""
cleanup() {
    set +e
    [ -n "$CTLD_PID" ] && kill "$CTLD_PID" 2>/dev/null && wait "$CTLD_PID" 2>/dev/null
    "$ROOT/tests/lib/munged.sh" stop "$TMP/munge" >/dev/null 2>&1
    git -C "$ROOT" worktree remove --force "$TMP/before-src" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

OLD="${BEFORE_FLURMCTLD:-}"
if [ -z "$OLD" ]; then
    log "building $BEFORE (the controller before the authenticated channel)"
    git -C "$ROOT" worktree add --detach "$TMP/before-src" "$BEFORE" >/dev/null 2>&1
    meson setup "$TMP/before-build" "$TMP/before-src" -Dtests=disabled >/dev/null
    meson compile -C "$TMP/before-build" bin/flurmctld/flurmctld >/dev/null
    OLD="$TMP/before-build/bin/flurmctld/flurmctld"
fi

SOCK="$("$ROOT/tests/lib/munged.sh" start "$TMP/munge")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ="$(getconf CLK_TCK)"

run_side() {   # run_side NAME FLURMCTLD PLAIN(0|1)
    local name=$1 exe=$2 plain=$3 dir="$TMP/$1" port nport
    mkdir -p "$dir/state"
    port="$(free_port)" nport="$(free_port)"
    cat > "$dir/slurm.conf" <<CONF
ClusterName=nodechan
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$port
AuthType=auth/munge
AuthInfo=socket=$SOCK
SlurmUser=root
StateSaveLocation=$dir/state
SlurmctldParameters=flurm_node_port=$nport
SlurmdTimeout=300
NodeName=n[1-64] NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    "$exe" -D -f "$dir/slurm.conf" > "$dir/ctld.log" 2>&1 &
    CTLD_PID=$!
    for _ in $(seq 1 100); do SLURM_CONF="$dir/slurm.conf" scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
    local flag=""
    [ "$plain" = 1 ] && flag=-p
    for kind in heartbeat event; do
        for c in $CONNS; do
            local t0 t1 line
            t0="$(cpu_ticks "$CTLD_PID")"
            line="$("$BUILD/bench/node-bench" -u "tcp://127.0.0.1:$nport" -m "$SOCK" -c "$c" -d "$SECS" -k "$kind" $flag)"
            t1="$(cpu_ticks "$CTLD_PID")"
            echo "$name $line ctld_cpu_s=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')"
        done
    done
    kill "$CTLD_PID"; wait "$CTLD_PID" 2>/dev/null || true; CTLD_PID=""
}

RAW="$TMP/raw.txt"
"$BUILD/bench/node-bench" -k munge -m "$SOCK" | sed 's/^/floor /' > "$RAW"
"$BUILD/bench/node-bench" -k seal | sed 's/^/seal /' >> "$RAW"
for r in $(seq 1 "$ROUNDS"); do
    log "round $r of $ROUNDS"
    rm -rf "$TMP/before" "$TMP/after"
    run_side before "$OLD" 1 >> "$RAW"
    run_side after "$BUILD/bin/flurmctld/flurmctld" 0 >> "$RAW"
done

python3 - "$RAW" "$SECS" <<'PY'
import sys
rows = {}
floor = None
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
    if f[0] == "floor":
        floor = float(kv["us_per_encode_decode_pair"])
        continue
    if f[0] == "seal":
        seal = float(kv["us_per_seal_and_open"])
        continue
    kind = kv["kind"].replace("-plain", "")
    key = (kind, int(kv["conns"]), f[0])
    if key not in rows or float(kv["ops_per_s"]) > float(rows[key]["ops_per_s"]):
        rows[key] = kv   # the best round
print("munge floor: %.1f us per encode+decode pair (a SLURM node RPC carries one credential each way:"
      " 2 pairs, %.0f us, per message)" % (floor, 2 * floor))
print("FLURM channel: %.2f us to seal and open one 80-byte message (after one handshake per connection)" % seal)
print()
print("| kind | conns | before ops/s | after ops/s | ratio | before p50/p99 us | after p50/p99 us | "
      "ctld CPU us/op before | after | handshake us |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (kind, c, side) in sorted(k for k in rows if k[2] == "before"):
    b, a = rows[(kind, c, "before")], rows.get((kind, c, "after"))
    if not a:
        continue
    bo, ao = float(b["ops_per_s"]), float(a["ops_per_s"])
    bc = 1e6 * float(b["ctld_cpu_s"]) / max(1, int(b["ops"]))
    ac = 1e6 * float(a["ctld_cpu_s"]) / max(1, int(a["ops"]))
    print("| %s | %d | %.0f | %.0f | %.2f | %s/%s | %s/%s | %.1f | %.1f | %s |" % (
        kind, c, bo, ao, ao / bo if bo else 0, b["p50_us"], b["p99_us"], a["p50_us"], a["p99_us"], bc, ac,
        a["handshake_us"]))
PY
