#!/usr/bin/env bash
# run-fuzz.sh FUZZER CORPUS_SRC SECONDS — seeds a corpus from the real SLURM captures (prefix
# stripped; CORPUS_SRC "-": no seeds) and runs the libFuzzer binary for SECONDS. Fails on any
# crash, leak or sanitizer report.
set -euo pipefail
fuzzer=$1 src=$2 secs=$3
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
n=0
while IFS= read -r -d '' f; do
    tail -c +5 "$f" > "$corpus/seed$n"
    n=$((n + 1))
done < <([ "$src" = - ] || find "$src" -name '*request.bin' -print0)
echo "fuzzing with $n seed frames for ${secs}s"
exec "$fuzzer" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$corpus/" "$corpus"
