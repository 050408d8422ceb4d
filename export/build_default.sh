#!/usr/bin/env bash
# Rebuild the shipped bundle (pinyin_edge/models/default) from ../shared/data, end to end:
#   prepare data -> base encoder (LAC import, or MLM pretraining from zero) -> fine-tune
#   -> export int8 + fp32 -> model card -> install.
# Every stage resumes or is skipped when its output exists: rerun after an interruption.
#
#   bash export/build_default.sh [DATA_DIR]        (default ../shared/data)
#
# Needs: pip install torch==2.13.0 && pip install -e ".[train,export,bench]"
# Outputs go to export/out/ (git-ignored); the last step copies the int8 bundle into the package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${1:-../shared/data}
OUT=${OUT:-export/out}
RECIPE=${RECIPE:-export/recipe.env}                 # another recipe: RECIPE=path bash export/build_default.sh
INSTALL=${INSTALL:-pinyin_edge/models/default}      # where the carded int8 bundle goes
source "$RECIPE"
P=$DATA/polyphone
TESTS=("$P/cpp/test.sent" "$P/g2pl/test.sent" "$P/cpp-subset/test.tsv")
mkdir -p "$OUT"

[ -f "$OUT/data/gold_cpp.tsv" ] && [ -f "$OUT/data/weak_$WEAK_MODE.tsv" ] || \
    python -m pinyin_edge.training.prepare --data "$DATA" --out "$OUT/data" \
        --weak-mode "$WEAK_MODE" --weak-limit "$WEAK_LIMIT"

WEAK=("$OUT/data/weak_$WEAK_MODE.tsv")
if [ "$RARE_BELOW" -gt 0 ]; then
    [ -f "$OUT/data/weak_g2pm_rare.tsv" ] || python -m pinyin_edge.training.prepare --data "$DATA" \
        --out "$OUT/data" --weak-mode g2pm --weak-only --focus-rare "$RARE_BELOW" \
        --per-char "$RARE_PER_CHAR" --weak-limit "$RARE_LIMIT"
    WEAK+=("$OUT/data/weak_g2pm_rare.tsv")
fi

case "$BASE" in
  lac)
    [ -f "$OUT/base/config.json" ] || python -m pinyin_edge.training.lac_import --out "$OUT/base" ;;
  pretrain)
    pinyin-edge pretrain --corpus "$DATA/corpus" --exclude "${TESTS[@]}" --out "$OUT/base" \
        --preset "$PRESET" --max-steps "$PRETRAIN_STEPS" --lr "$PRETRAIN_LR" --warmup-steps 150 \
        --save-every 100 --eval-every 200 --resume ;;
  *) echo "recipe.env: BASE must be lac or pretrain, not $BASE" >&2; exit 2 ;;
esac

TRAIN=("$OUT/data/gold_train.tsv")
for _ in $(seq 2 "$CPP_OVERSAMPLE"); do TRAIN+=("$OUT/data/gold_cpp.tsv"); done  # CPP's part again

pinyin-edge train --base-model "$OUT/base" --train "${TRAIN[@]}" \
    --weak "${WEAK[@]}" --dev "$OUT/data/dev_cpp.tsv" --out "$OUT/finetune" \
    --max-steps "$TRAIN_STEPS" --lr "$TRAIN_LR" --encoder-lr-scale "$ENCODER_LR_SCALE" \
    --weak-ratio "$WEAK_RATIO" --weak-weight "$WEAK_WEIGHT" --weak-cap "$WEAK_CAP" \
    --eval-every "$EVAL_EVERY" --patience 4 --resume

EXCEPTIONS=()
[ "$PHRASES" = --phrases ] && [ "$PHRASE_EXCEPTIONS" = on ] && \
    EXCEPTIONS=(--phrase-exceptions-from "$OUT/data/gold_train.tsv")
pinyin-edge export "$OUT/finetune" --out "$OUT/bundle-int8" --quantize "$QUANTIZE" $PHRASES "${EXCEPTIONS[@]}"
pinyin-edge export "$OUT/finetune" --out "$OUT/bundle-fp32" --quantize none $PHRASES "${EXCEPTIONS[@]}"

python export/model_card.py --bundle "$OUT/bundle-int8" --data "$DATA" --base "$BASE" \
    --base-dir "$OUT/base" --finetune "$OUT/finetune" --install "$INSTALL"
