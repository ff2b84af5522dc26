#!/usr/bin/env bash
# Installs the Debian 12 packages FLURM builds, tests and runs with. Idempotent.
set -euo pipefail
pkgs=(build-essential pkg-config meson ninja-build
      libev-dev libnng-dev libprotobuf-c-dev protobuf-c-compiler librocksdb-dev
      libmunge-dev munge libsodium-dev libcmocka-dev python3-cffi python3-dev
      slurm-client clang libclang-rt-14-dev iproute2 procps)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
