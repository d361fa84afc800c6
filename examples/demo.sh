#!/usr/bin/env bash
# The main job on the CPU (make demo): compile an MSA model, encode a
# haystack of 2,000 documents (over 1M tokens) with six planted needles into
# a memory bank, and ask questions that route to the needles.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BIN=$BUILD/bin
OUT=${MSA_DEMO_DIR:-$BUILD/demo}
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "msa-opt: one router layer of stage 2, after --msa-graph-cleanup"
"$BIN/msa-opt" examples/routing-topk.mlir --msa-graph-cleanup | grep -E "msa\.|func.func"

step "a demo model whose router matches capital letters (msa-run make-model --preset demo)"
"$BIN/msa-run" make-model -o "$OUT/model" --preset demo --seed 1

step "msa-compile: the model for the cpu"
start=$(date +%s%N)
"$BIN/msa-compile" --model "$OUT/model" -o "$OUT/model.msab"
echo "compiled in $(( ($(date +%s%N) - start) / 1000000 )) ms"
"$BIN/msa-run" inspect "$OUT/model.msab" | sed -n '1,8p'

step "a haystack: 2,000 documents of filler, six needles"
python3 examples/make_haystack.py "$OUT/haystack.jsonl" --docs 2000 --seed 7
grep -o '"id": "needle-[A-Z]*"' "$OUT/haystack.jsonl" | tr '\n' ' '; echo

step "msa-run encode: stage 1 into a memory bank"
"$BIN/msa-run" encode --model "$OUT/model" --bundle "$OUT/model.msab" \
  --corpus "$OUT/haystack.jsonl" --bank "$OUT/bank"
"$BIN/msa-run" inspect "$OUT/bank" | sed -n '1,5p'

step "msa-run ask: routing in every router layer, then decoding"
echo "(the needle is routed to; equal zero scores fill the other k-1 slots in"
echo " ascending order; the demo model's answers mean nothing)"
"$BIN/msa-run" ask --model "$OUT/model" --bundle "$OUT/model.msab" \
  --bank "$OUT/bank" --max-new-tokens 8 \
  --question "where did agent QXZK hide the key?" \
  --question "what did agent WYLF hide, and where?" \
  --question "tell me about agent SUEA."
