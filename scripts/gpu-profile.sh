#!/usr/bin/env bash
# Runs on the GPU machine: Nsight Compute on one kernel of the 4-layer
# MSA-4B benchmark, with per-instruction SASS counts, so a kernel change can
# be judged by where its instructions and stalls go.
#   usage: [PROFILE_SKIP=N] bash scripts/gpu-profile.sh [KERNEL_REGEX] [BUNDLE]
#   (default: encode_docs in gpu-bundles/bench-4b-l4.msab)
set -uo pipefail
cd "$(dirname "$0")/.."
B=build-gpu
[ -d gpu-bundles ] || tar xzf "$B/gpu-bundles.tgz"
LOGS=${OUT:-out}
mkdir -p "$LOGS"
kernel=${1:-encode_docs}
bundle=${2:-gpu-bundles/bench-4b-l4.msab}
[ -d /tmp/b4 ] || "$B/bin/msa-run" make-model --preset msa-4b --layers 4 \
  --router-layers 2,3 -o /tmp/b4 > /dev/null
ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
timeout 400 "$ncu" --kernel-name "regex:$kernel" --launch-skip "${PROFILE_SKIP:-0}" --launch-count 1 \
  --set full --import-source no -f -o "$LOGS/profile" \
  "$B/bin/msa-run" bench --model /tmp/b4 --bundle "$bundle" --target cuda \
  --tokens 16384 --reference-tokens 0 --query-tokens 4 --decode-steps 1 \
  --bank-chunks 65536 > "$LOGS/profile-run.log" 2>&1
echo "ncu rc=$?"
"$ncu" -i "$LOGS/profile.ncu-rep" --page details > "$LOGS/profile-details.txt" 2>&1
"$ncu" -i "$LOGS/profile.ncu-rep" --page source --print-source sass --csv \
  > "$LOGS/profile-sass.csv" 2>&1
grep -E "Duration|Registers Per|Achieved Occupancy|Executed Ipc A|Issue Slots Busy|Compute \(SM\) Throughput|Memory Throughput|Local|Stall" \
  "$LOGS/profile-details.txt" | head -30
# The device tool returns at most 8 files: the report stays behind, the
# SASS table travels compressed.
rm -f "$LOGS/profile.ncu-rep"
gzip -f "$LOGS/profile-sass.csv"
