#!/usr/bin/env bash
#===- install-deps.sh - install the Debian packages msa builds with -------===//
#
# Idempotent: checks each package with dpkg first and calls apt-get only for
# what is missing, so a second run takes well under a second. Works as root or
# through sudo; says clearly what it could not install and exits non-zero.
#
# MSA_DEPS=runtime installs only what the runtime-only build needs
# (MSA_BUILD_COMPILER=OFF).
#===----------------------------------------------------------------------===//
set -euo pipefail

compiler_pkgs=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22)
runtime_pkgs=(cmake ninja-build g++ make python3 xz-utils libgtest-dev libopenblas-dev)

pkgs=("${runtime_pkgs[@]}")
if [ "${MSA_DEPS:-all}" != "runtime" ]; then
  pkgs+=("${compiler_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo_cmd=(sudo -n)
else
  echo "install-deps: missing packages (${missing[*]}) and no root or password-less sudo to install them;" \
       "run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/msa-install-deps.log 2>&1; then
  # The package lists may be stale or absent on a fresh machine.
  "${sudo_cmd[@]}" apt-get update -q >>/tmp/msa-install-deps.log 2>&1 || true
  if ! "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/msa-install-deps.log 2>&1; then
    echo "install-deps: apt-get could not install ${missing[*]}; see /tmp/msa-install-deps.log" >&2
    tail -n 5 /tmp/msa-install-deps.log >&2
    exit 1
  fi
fi
echo "install-deps: done"
