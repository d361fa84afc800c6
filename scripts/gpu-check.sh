#!/usr/bin/env bash
# Runs on the GPU machine (H100/H200) every GPU test and benchmark, with the
# binaries and bundles scripts/gpu-build.sh made on the build machine, and
# prints a short table last.
#   usage: bash scripts/gpu-check.sh [tests|sanitize|bench|bench36|route16m]...
#   (default: all but route16m, whose 16M-chunk bank takes 103 GB of the
#   GPU's memory and of the host's)
set -uo pipefail
cd "$(dirname "$0")/.."
B=build-gpu
# gpu-build.sh packs the bundles; unpack them unless they are here already.
[ -d gpu-bundles ] || tar xzf "$B/gpu-bundles.tgz"
# Logs go to out/, or under the device tool's $OUT packed into one file
# (it returns at most 8 files).
if [ -n "${OUT:-}" ]; then
  LOGS=$(mktemp -d)
  trap 'tar czf "$OUT/gpu-check-logs.tgz" -C "$LOGS" .' EXIT
else
  LOGS=out
fi
mkdir -p "$LOGS"
export MSA_TEST_TARGET=cuda:sm_90 MSA_TEST_BUNDLE_DIR="$PWD/gpu-bundles"
export MSA_TEST_PREBUILT=1
export NCCL_NVLS_ENABLE=0
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(tests sanitize bench bench36)
want() { local g; for g in "${groups[@]}"; do [ "$g" = "$1" ] && return 0; done; return 1; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$LOGS/card.txt"
rows=()
# run NAME CMD...: runs CMD with its output in $LOGS/NAME.log, records the
# exit status, the seconds and gtest's summary.
run() {
  local name=$1; shift
  local t0=$(date +%s%N)
  "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local summary
  summary=$(grep -E "^\[  (PASSED|FAILED|SKIPPED) +\]|ERROR SUMMARY" "$LOGS/$name.log" \
    | head -3 | tr -s ' ' | tr '\n' ';')
  rows+=("$(printf '%-14s rc=%-3s %6d ms  %s' "$name" "$rc" "$ms" "$summary")")
  if [ $rc -ne 0 ]; then
    echo "=== $name failed (rc $rc); end of its log:"
    grep -E "Failure|FAILED|error|Error|Expected|Which is|actual" "$LOGS/$name.log" | head -40
  fi
}

if want tests; then
  run cuda-hal "$B/test/unittests/MSACudaTests"
  run kernels "$B/test/unittests/MSACompiledTests" --gtest_filter='CompiledKernels.*'
  run whole-model "$B/test/unittests/MSACompiledTests" --gtest_filter='Configs/WholeModel.*:CompiledInterleave.*'
fi
if want sanitize; then
  for tool in memcheck racecheck; do
    run "$tool" timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 1 \
      "$B/test/unittests/MSACompiledTests" --gtest_filter='CompiledKernels.*'
  done
fi
if want bench; then
  # The whole model, MSA-4B shapes with 4 layers, over a bank of 1M chunks
  # (64M tokens), for 4, 16 and 19 question tokens: 1, 13 and 16 routing
  # tokens (the last 3 are the template's; 16 is the most route_topk's
  # wgmma body stages at these heads, up to 18 take mma.sync, more the CUDA
  # cores).
  "$B/bin/msa-run" make-model --preset msa-4b --layers 4 --router-layers 2,3 \
    -o /tmp/b4 > /dev/null
  # gpu-build.sh's tile experiments (bench-4b-l4-NAME.msab) run too.
  for bundle in gpu-bundles/bench-4b-l4.msab gpu-bundles/bench-4b-l4-*.msab; do
    [ -f "$bundle" ] || continue
    name=$(basename "$bundle" .msab); name=${name#bench-4b-l4}
    for q in 4 16 19; do
      run "bench$name-q$q" timeout 150 "$B/bin/msa-run" bench --model /tmp/b4 \
        --bundle "$bundle" --target cuda --tokens 16384 \
        --reference-tokens 0 --query-tokens $q --decode-steps 4 \
        --bank-chunks 1048576
      echo "== bench$name-q$q"; tail -6 "$LOGS/bench$name-q$q.log"
    done
    # Routing over a 10M-token bank (156,250 chunks): fixed costs show.
    run "bench$name-10m" timeout 150 "$B/bin/msa-run" bench --model /tmp/b4 \
      --bundle "$bundle" --target cuda --tokens 4096 --reference-tokens 0 \
      --query-tokens 16 --decode-steps 4 --bank-chunks 156250
    echo "== bench$name-10m"; grep "^route:" "$LOGS/bench$name-10m.log"
  done
  # Encode attention at the document lengths of bench_torch.py's longer
  # SDPA rows (means 1024 and 4096 tokens; lengths L/2 to 3L/2).
  for L in 1024 4096; do
    run "bench-enc$L" timeout 150 "$B/bin/msa-run" bench --model /tmp/b4 \
      --bundle gpu-bundles/bench-4b-l4.msab --target cuda --tokens 16384 \
      --doc-tokens $L --reference-tokens 0 --query-tokens 4 --decode-steps 1 \
      --bank-chunks 65536
    echo "== bench-enc$L"; grep "encode_docs" "$LOGS/bench-enc$L.log"
  done
  run torch-bench timeout 300 python3 bench/torch/bench_torch.py ${TORCH_GROUPS:-} --quick
  grep -v "^{" "$LOGS/torch-bench.log" | tail -30
fi

if want bench36; then
  # The whole model with MSA-4B shapes and random weights (36 layers, router
  # layers 18-35): encode tokens/s and ask latency over a 10M-token bank
  # (156,250 chunks of 64).
  run make-model-36 timeout 300 "$B/bin/msa-run" make-model --preset msa-4b \
    -o /tmp/b36 --force
  run bench36 timeout 280 "$B/bin/msa-run" bench --model /tmp/b36 \
    --bundle gpu-bundles/bench-4b-l36.msab --target cuda --tokens 16384 \
    --reference-tokens 0 --query-tokens 16 --decode-steps 8 \
    --bank-chunks 156250
  tail -7 "$LOGS/bench36.log"
fi

if want route16m; then
  # route_topk over 16,777,216 chunks (a billion tokens) of MSA-4B shapes:
  # one layer, a router layer, so its bank (router keys, K and V, 34 GB
  # each) fits; PyTorch's router over the same number of chunks after it.
  # 19 question tokens: 16 routing tokens, as PyTorch's T = 16.
  run make-model-1 timeout 120 "$B/bin/msa-run" make-model --preset msa-4b \
    --layers 1 --router-layers 0 -o /tmp/b1 --force
  run bench16m timeout 400 "$B/bin/msa-run" bench --model /tmp/b1 \
    --bundle gpu-bundles/bench-4b-l1.msab --target cuda --tokens 1024 \
    --reference-tokens 0 --query-tokens 19 --decode-steps 1 \
    --bank-chunks 16777216
  echo "== bench16m"; grep "^route:" "$LOGS/bench16m.log"
  run torch-route16m timeout 300 python3 bench/torch/bench_torch.py \
    route --route-chunks 16777216 --quick
  grep -v "^{" "$LOGS/torch-route16m.log" | grep -E "^route|skipped" | tail -12
fi

echo
echo "card: $(cat "$LOGS/card.txt")"
printf '%s\n' "${rows[@]}"
