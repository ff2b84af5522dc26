#!/usr/bin/env bash
# munged.sh start DIR | stop DIR — a private munged for tests and the local cluster.
# DIR gets munge.key (0400), the socket DIR/munge.socket, pid/log/seed files. Prints the socket path.
# As root munged runs as the 'munge' user when that user exists (it refuses keys it does not own).
set -euo pipefail
cmd=${1:?usage: munged.sh start|stop DIR}
dir=${2:?usage: munged.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/munge.socket"
pidf="$dir/munged.pid"

case "$cmd" in
start)
    if [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then echo "$sock"; exit 0; fi
    runas=()
    if [ "$(id -u)" = 0 ] && id munge >/dev/null 2>&1; then runas=(runuser -u munge --); fi
    [ -s "$dir/munge.key" ] || dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
    chmod 0755 "$dir"
    chmod 0400 "$dir/munge.key"
    if [ ${#runas[@]} -gt 0 ]; then chown munge: "$dir" "$dir/munge.key"; fi
    munged=$(command -v munged || echo /usr/sbin/munged)
    "${runas[@]}" "$munged" --key-file="$dir/munge.key" --socket="$sock" --pid-file="$pidf" \
        --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" --force
    for _ in $(seq 1 100); do
        if munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; then echo "$sock"; exit 0; fi
        sleep 0.05
    done
    echo "munged did not start; see $dir/munged.log" >&2
    exit 1
    ;;
stop)
    if [ -s "$pidf" ]; then
        pid=$(cat "$pidf")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -f "$pidf"
    ;;
*) echo "usage: munged.sh start|stop DIR" >&2; exit 2 ;;
esac
