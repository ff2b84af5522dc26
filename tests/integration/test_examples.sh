#!/bin/bash
# tests/integration/test_examples.sh — out-of-tree consumers of an installed libflurm work:
# `meson install --destdir` of the current build, then examples/site-tool and
# examples/sched-plugin are copied out of the tree and built with their own Makefiles through
# pkg-config (PKG_CONFIG_PATH + PKG_CONFIG_SYSROOT_DIR pointing into the staged install); the
# site tool parses a slurm.conf and schedules through the built-in scheduler and through the
# example plugin (SchedulerType=sched/fifo_small, PluginDir = where it was built).
#
# Environment (tests/integration/meson.build sets them): BUILD_ROOT, SOURCE_ROOT, SANITIZE
# (the build's b_sanitize; the examples are built with the same runtime when not "none").
set -euo pipefail

: "${BUILD_ROOT:?}" "${SOURCE_ROOT:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

dest=$tmp/dest
meson install -C "$BUILD_ROOT" --no-rebuild --destdir "$dest" --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "meson install"; }

pc=$(find "$dest" -name flurm.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "no flurm.pc installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
incdir=$(find "$dest" -type d -path '*/include/flurm' | head -n1)
[ -n "$incdir" ] || fail "no include/flurm installed"

# every public header of the source tree (and the generated version.h) is installed
for h in "$SOURCE_ROOT"/include/flurm/*.h; do
    [ -f "$incdir/$(basename "$h")" ] || fail "header $(basename "$h") not installed"
done
[ -f "$incdir/version.h" ] || fail "version.h not installed"
[ -e "$libdir/libflurm.so" ] || fail "libflurm.so not in $libdir"

export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs flurm)
case "$flags" in *"-I$dest/"*) ;; *) fail "pkg-config --cflags does not point into the install: $flags" ;; esac
case "$flags" in *"-L$dest/"*"-lflurm"*) ;; *) fail "pkg-config --libs lacks -L/-lflurm: $flags" ;; esac
pkg-config --modversion flurm >/dev/null

extra=()
if [ -n "${SANITIZE:-}" ] && [ "$SANITIZE" != none ]; then
    extra=("CFLAGS=-O1 -g -fsanitize=$SANITIZE" "LDFLAGS=-fsanitize=$SANITIZE")
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fi

# out of tree: copies, no meson, no access to the source tree's headers
cp -r "$SOURCE_ROOT/examples" "$tmp/src"
make -s -C "$tmp/src/site-tool" "${extra[@]}" >"$tmp/make1.log" 2>&1 || { cat "$tmp/make1.log" >&2; fail "make site-tool"; }
make -s -C "$tmp/src/sched-plugin" "${extra[@]}" >"$tmp/make2.log" 2>&1 || { cat "$tmp/make2.log" >&2; fail "make sched-plugin"; }
tool=$tmp/src/site-tool/flurm-jobs
plugin=$tmp/src/sched-plugin/sched_fifo_small.so
[ -x "$tool" ] && [ -f "$plugin" ] || fail "examples not built"
nm -D --defined-only "$plugin" | grep -q ' T flurm_sched_plugin_entry$' || fail "plugin does not export its entry"
# the tool runs against the installed library, not the build tree's
export LD_LIBRARY_PATH=$libdir
ldd "$tool" | grep -q "$libdir/libflurm.so" || fail "flurm-jobs does not load the installed libflurm"

conf=$tmp/slurm.conf
write_conf() {
    cat >"$conf" <<CONF
ClusterName=demo
SlurmctldHost=head
$1
NodeName=n[1-2] CPUs=2 RealMemory=1000
NodeName=n[3-4] CPUs=4 RealMemory=1000
NodeName=gpu01 CPUs=8 RealMemory=1000
PartitionName=debug Nodes=n[1-2] Default=YES MaxTime=30
PartitionName=all Nodes=n[1-4],gpu01
CONF
}
version=$(pkg-config --modversion flurm)

check() {   # check NAME EXPECTED ACTUAL
    if [ "$2" != "$3" ]; then
        diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") >&2 || true
        fail "$1"
    fi
}

write_conf ""
out=$("$tool" -f "$conf")
check "site tool output" "libflurm $version (built against $version)
cluster demo controller head scheduler sched/backfill
nodes 5 n[1-4],gpu01 cpus 20
partition debug* nodes 2 n[1-2] maxtime 30min
partition all nodes 5 n[1-4],gpu01 maxtime UNLIMITED" "$out"

# built-in: equal priorities, first come first served: jobs 1 and 2 (2 CPUs) fill both nodes
out=$("$tool" -f "$conf" -s 2,2,1,1 | sed -n '/^scheduler /,$p')
check "built-in schedule" "scheduler backfill
start job 1 cpus 2 on n1
start job 2 cpus 2 on n2
pending job 3 cpus 1 reason Resources
pending job 4 cpus 1 reason Priority" "$out"

# the example plugin: smallest first, the built-in places them
write_conf "SchedulerType=sched/fifo_small
PluginDir=/nonexistent:$tmp/src/sched-plugin"
out=$("$tool" -f "$conf" -s 2,2,1,1 | sed -n '/^scheduler /,$p')
check "fifo_small schedule" "scheduler fifo_small
start job 3 cpus 1 on n1
start job 4 cpus 1 on n1
start job 1 cpus 2 on n2
pending job 2 cpus 2 reason Resources" "$out"

# a missing plugin is reported with the file it looked for
write_conf "SchedulerType=sched/nosuch
PluginDir=$tmp/src/sched-plugin"
if err=$("$tool" -f "$conf" -s 1 2>&1 >/dev/null); then fail "missing plugin accepted"; fi
case "$err" in *"$tmp/src/sched-plugin/sched_nosuch.so: no such scheduler plugin file"*) ;;
    *) fail "missing plugin error: $err" ;; esac

echo "ok: installed headers, flurm.pc, site tool and example plugin"
