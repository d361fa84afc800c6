#!/usr/bin/env bash
# The main job on the CPU (make demo): the compiler on the examples, then a
# generated model encoding documents, routing a question and answering it.
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin
OUT=${MSA_DEMO_DIR:-$BUILD/demo}
cd "$(dirname "$0")/.."

echo "== msa-opt: stage-2 routing of one router layer, before and after --msa-graph-cleanup"
sed -n '/^func.func/,$p' examples/routing-topk.mlir
echo "-- after:"
"$BIN/msa-opt" examples/routing-topk.mlir --msa-graph-cleanup

echo
echo "== msa-run: a tiny MSA model (msa-semantics.md §12), three documents, one question"
rm -rf "$OUT"
mkdir -p "$OUT"
"$BIN/msa-run" make-model -o "$OUT/tiny" --preset tiny --seed 1
"$BIN/msa-run" ask --model "$OUT/tiny" --backend=reference \
  --doc "The cat sat on the mat." \
  --doc "Paris is the capital of France." \
  --doc "Bill Watts was born on May 5, 1939." \
  --question "When was Bill Watts born?" --max-new-tokens 5
