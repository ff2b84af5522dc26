#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (normal + ASan/UBSan), runs every suite.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
./scripts/install-deps.sh
export CMOCKA_MESSAGE_OUTPUT=stdout

[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs -v --num-processes 2

# The quickstart's optimised build must compile too (-O3 warns where -O2 does not).
[ -d build-release ] || meson setup build-release -Dbuildtype=release -Dtests=disabled
meson compile -C build-release

# Sanitizer build: unit + fuzz smoke suites (the integration suite runs on the normal build).
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dintegration=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs -v --num-processes 2 --suite unit
echo "flurm: all suites passed"
