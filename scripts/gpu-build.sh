#!/usr/bin/env bash
# Builds here (the build machine, which has MLIR) everything
# scripts/gpu-check.sh runs on the GPU machine (which has none): test and
# tool binaries linked without OpenBLAS (build-gpu/), and every bundle the
# compiled suites need, compiled for cuda:sm_90 (gpu-bundles/). Then:
#   device run: bash scripts/gpu-check.sh
#   carry: build-gpu/bin build-gpu/test/unittests build-gpu/gpu-bundles.tgz
# (the bundles packed: their PTX carries RoPE tables as text, and the
# device tool carries 64 MiB at most).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMSA_USE_OPENBLAS=OFF > /dev/null
cmake --build build-gpu --target MSACompiledTests MSACudaTests msa-run \
  msa-compile
rm -rf gpu-bundles && mkdir -p gpu-bundles
# The suites compile every bundle they will run (TestTarget.h) and skip.
MSA_TEST_TARGET=cuda:sm_90 MSA_TEST_BUNDLE_DIR="$PWD/gpu-bundles" \
  MSA_TEST_COMPILE_ONLY=1 build-gpu/test/unittests/MSACompiledTests \
  > gpu-bundles/compile.log 2>&1 || {
  tail -30 gpu-bundles/compile.log
  exit 1
}
grep -q "FAILED" gpu-bundles/compile.log && { grep -B5 FAILED gpu-bundles/compile.log; exit 1; }
# The benchmark model: MSA-4B shapes with 4 layers (router layers 2, 3);
# gpu-check.sh writes its random weights there with the same command.
tmp=$(mktemp -d)
build-gpu/bin/msa-run make-model --preset msa-4b --layers 4 \
  --router-layers 2,3 -o "$tmp/b4" > /dev/null
build-gpu/bin/msa-compile --model "$tmp/b4" --target cuda:sm_90 \
  -o gpu-bundles/bench-4b-l4.msab
# One layer (a router layer) of the same shapes, for gpu-check.sh's
# route16m: a 16M-chunk bank of one layer is 103 GB.
build-gpu/bin/msa-run make-model --preset msa-4b --layers 1 --router-layers 0 \
  -o "$tmp/b1" > /dev/null
build-gpu/bin/msa-compile --model "$tmp/b1" --target cuda:sm_90 \
  -o gpu-bundles/bench-4b-l1.msab
# Tile experiments, benchmarked beside the table's choice: NAME=FLAGS, the
# msa-compile flags of each variant, e.g.
#   MSA_TILE_VARIANTS="rb132=--route-blocks=132 enc32=--tiles=encode_docs:block_m=32,threads=256"
for variant in ${MSA_TILE_VARIANTS:-}; do
  # shellcheck disable=SC2086 # FLAGS are words on purpose
  build-gpu/bin/msa-compile --model "$tmp/b4" --target cuda:sm_90 \
    ${variant#*=} -o "gpu-bundles/bench-4b-l4-${variant%%=*}.msab"
done
# The whole MSA-4B shape (36 layers, router layers 18-35) for gpu-check.sh's
# bench36: msa-compile reads only the config, so the 8 GB of random weights
# are made on the GPU machine.
mkdir -p "$tmp/b36"
python3 - "$tmp/b4/config.json" "$tmp/b36/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["num_hidden_layers"] = 36
c["msa_config"]["router_layer_idx"] = ",".join(str(l) for l in range(18, 36))
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
cp "$tmp/b4/tokenizer.json" "$tmp/b36/"
build-gpu/bin/msa-compile --model "$tmp/b36" --target cuda:sm_90 \
  -o gpu-bundles/bench-4b-l36.msab
rm -rf "$tmp"
tar czf build-gpu/gpu-bundles.tgz gpu-bundles
du -sh build-gpu/bin build-gpu/test/unittests build-gpu/gpu-bundles.tgz
