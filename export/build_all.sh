#!/usr/bin/env bash
# Rebuild both shipped bundles from the data, then benchmark them against their PyTorch original:
#
#   bash export/build_all.sh [DATA_DIR]            (default ../shared/data; hours on a 2-core CPU)
#
# 1. the default bundle (export/recipe.env) into pinyin_edge/models/default,
# 2. the fast bundle (export/recipe-fast.env, reusing the default's data, teacher and soft labels)
#    into pinyin_edge/models/fast,
# 3. `pinyin-edge bench` with the PyTorch checkpoint, the fp32 graph and the shipped int8 graph of the
#    default weights in one run (BENCH=off skips it), into benchmarks/results.
# Every stage resumes: after an interruption run the same command again. OUT=DIR builds elsewhere
# (a second build with the same seeds, to compare: python export/compare_bundles.py A B).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${1:-../shared/data}
OUT=${OUT:-export/out}
export OUT
bash export/build_default.sh "$DATA"
RECIPE=export/recipe-fast.env bash export/build_default.sh "$DATA"
if [ "${BENCH:-on}" = on ]; then
    P=$DATA/polyphone
    pinyin-edge bench --data "$P/cpp/test.sent" "$P/g2pl/test.sent" --model pinyin_edge/models/default \
        --fp32-model "$OUT/bundle-fp32" --checkpoint "$OUT/finetune" --out "${BENCH_OUT:-benchmarks/results}"
fi
