#!/usr/bin/env bash
# Rebuild the shipped bundle (pinyin_edge/models/default) from ../shared/data, end to end:
#   prepare data -> base encoder (LAC import, or MLM pretraining from zero) -> fine-tune
#   -> export int8 + fp32 -> model card -> install.
# Every stage resumes or is skipped when its output exists: rerun after an interruption.
#
#   bash export/build_default.sh [DATA_DIR]        (default ../shared/data)
#   RECIPE=export/recipe-fast.env bash export/build_default.sh   (the fast bundle, pinyin_edge/models/fast:
#       the same teacher and soft labels, narrower students; run after the default build to reuse them)
#
# Needs: pip install torch==2.13.0 && pip install -e ".[train,export,bench]"
# Outputs go to export/out/ (git-ignored); the last step copies the int8 bundle into the package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=${1:-../shared/data}
OUT=${OUT:-export/out}
RECIPE=${RECIPE:-export/recipe.env}                 # another recipe: RECIPE=path bash export/build_default.sh
source "$RECIPE"
INSTALL=${INSTALL:-${INSTALL_TO:-pinyin_edge/models/default}}  # where the carded int8 bundle goes
REFIT=${REFIT:-off}
TAG=${TAG:-}                    # a variant's students and bundles: $OUT/finetune$TAG, $OUT/bundle$TAG-int8
STUDENT_UNITS=${STUDENT_UNITS:-} # GRU units a direction of the students (blank: the base's own)
STUDENT_ENCODER_LR_SCALE=${STUDENT_ENCODER_LR_SCALE:-$ENCODER_LR_SCALE}
P=$DATA/polyphone
TESTS=("$P/cpp/test.sent" "$P/g2pl/test.sent" "$P/cpp-subset/test.tsv")
mkdir -p "$OUT"
BUILD_START=$SECONDS

[ -f "$OUT/data/gold_cpp.tsv" ] && [ -f "$OUT/data/weak_$WEAK_MODE.tsv" ] || \
    pinyin-edge prepare --data "$DATA" --out "$OUT/data" \
        --weak-mode "$WEAK_MODE" --weak-limit "$WEAK_LIMIT"

WEAK=("$OUT/data/weak_$WEAK_MODE.tsv")

case "$BASE" in
  lac)
    [ -f "$OUT/base/config.json" ] || pinyin-edge import-lac --out "$OUT/base" ;;
  pretrain)
    pinyin-edge pretrain --corpus "$DATA/corpus" --exclude "${TESTS[@]}" --out "$OUT/base" \
        --preset "$PRESET" --max-steps "$PRETRAIN_STEPS" --lr "$PRETRAIN_LR" --warmup-steps 150 \
        --save-every 100 --eval-every 200 --resume ;;
  *) echo "recipe.env: BASE must be lac or pretrain, not $BASE" >&2; exit 2 ;;
esac

# Narrower students start from LAC's first STUDENT_UNITS units of each gate (import-lac --units).
STUDENT_BASE=$OUT/base
if [ -n "$STUDENT_UNITS" ]; then
    [ "$BASE" = lac ] || { echo "recipe: STUDENT_UNITS needs BASE=lac" >&2; exit 2; }
    STUDENT_BASE=$OUT/base-units$STUDENT_UNITS
    [ -f "$STUDENT_BASE/config.json" ] || pinyin-edge import-lac --out "$STUDENT_BASE" \
        --units "$STUDENT_UNITS"
fi

# fine_tune NAME RUNS WEAK_WEIGHT WEAK_CAP REFIT BASE_DIR LR_SCALE WEAK_FILE...: one `pinyin-edge train`
# per RUNS entry (CPP_OVERSAMPLE:SEED), into $OUT/NAME-cppN-seedS; two or more runs are weight-averaged
# into $OUT/NAME.
# REFIT=on: the dev slice joins CPP's gold part (the recipe was chosen on it already), the runs go the
# full TRAIN_STEPS and their last checkpoints are averaged: nothing can be selected on a seen slice.
fine_tune() {
    local name=$1 runs=$2 weak_weight=$3 weak_cap=$4 refit=$5 base=$6 lr_scale=$7; shift 7
    local dirs=() picks=() run over seed train cpp=("$OUT/data/gold_cpp.tsv") patience=4 pick=
    if [ "$refit" = on ]; then cpp+=("$OUT/data/dev_cpp.tsv") patience=1000000 pick=/last; fi
    for run in $runs; do
        over=${run%%:*} seed=${run##*:}
        train=("$OUT/data/gold_train.tsv")
        [ "$refit" = on ] && train+=("$OUT/data/dev_cpp.tsv")
        for _ in $(seq 2 "$over"); do train+=("${cpp[@]}"); done  # CPP's part again
        dirs+=("$OUT/$name-cpp$over-seed$seed")
        picks+=("${dirs[-1]}$pick")
        pinyin-edge train --base-model "$base" --train "${train[@]}" --weak "$@" \
            --dev "$OUT/data/dev_cpp.tsv" --out "${dirs[-1]}" --seed "$seed" \
            --max-steps "$TRAIN_STEPS" --lr "$TRAIN_LR" --encoder-lr-scale "$lr_scale" \
            --weak-ratio "$WEAK_RATIO" --weak-weight "$weak_weight" --weak-cap "$weak_cap" \
            --eval-every "$EVAL_EVERY" --patience "$patience" --resume
    done
    if [ "${#dirs[@]}" -gt 1 ]; then
        [ -f "$OUT/$name/best/polyphone.json" ] || \
            pinyin-edge average "${picks[@]}" --out "$OUT/$name" --dev "$OUT/data/dev_cpp.tsv"
    else
        rm -rf "$OUT/$name" && cp -r "${picks[0]}" "$OUT/$name"
    fi
    RUN_DIRS=("${dirs[@]}")
}

RUN_DIRS=() TEACHER_DIRS=()
if [ "$SELF_TRAIN" != off ]; then
    # Teacher then students: the averaged RUNS relabel the weak sentences, and the students train on
    # gold + those labels instead of pypinyin's: soft labels, the teacher's probabilities x g2pM's
    # (training/teachers.py).
    [ "$SELF_TRAIN" = distill ] || { echo "recipe.env: SELF_TRAIN must be off or distill, not $SELF_TRAIN" >&2; exit 2; }
    fine_tune teacher "$RUNS" "$WEAK_WEIGHT" "$WEAK_CAP" off "$OUT/base" "$ENCODER_LR_SCALE" "${WEAK[@]}"
    TEACHER_DIRS=("${RUN_DIRS[@]}")
    [ -f "$OUT/teacher-bundle/manifest.json" ] || pinyin-edge export "$OUT/teacher" \
        --out "$OUT/teacher-bundle" --quantize "$QUANTIZE" $PHRASES
    # The teacher relabels the weak sentences, and the gold sentences' other polyphones too.
    TAUGHT=("$OUT/data/taught-weak/weak_$SELF_TRAIN.tsv" "$OUT/data/taught-gold/weak_$SELF_TRAIN.tsv")
    for taught in "${TAUGHT[@]}"; do
        case "$taught" in */taught-gold/*) texts=$OUT/data/gold_train.tsv chars=126 ;; *) texts=${WEAK[0]} chars=120 ;; esac
        [ -f "$taught" ] || pinyin-edge prepare --data "$DATA" --out "$(dirname "$taught")" \
            --weak-mode "$SELF_TRAIN" --teacher "$OUT/teacher-bundle" --weak-only --weak-texts "$texts" \
            --max-chars "$chars" --weak-limit "$SELF_LIMIT"
    done
    fine_tune "finetune$TAG" "$STUDENT_RUNS" "$STUDENT_WEAK_WEIGHT" "$STUDENT_WEAK_CAP" "$REFIT" \
        "$STUDENT_BASE" "$STUDENT_ENCODER_LR_SCALE" "${TAUGHT[@]}"
else
    fine_tune "finetune$TAG" "$RUNS" "$WEAK_WEIGHT" "$WEAK_CAP" "$REFIT" "$STUDENT_BASE" \
        "$STUDENT_ENCODER_LR_SCALE" "${WEAK[@]}"
fi

# The runtime policy: the model decides only the polyphones gold labels taught it (GOLD_ONLY), and
# reads CONTEXT tokens around them.
POLICY=()
if [ "${GOLD_ONLY:-off}" = on ]; then
    POLICY=(--gold-from "$OUT/data/gold_train.tsv" "$OUT/data/gold_cpp.tsv")
    [ "$REFIT" = on ] && POLICY+=("$OUT/data/dev_cpp.tsv")
fi
if [ "${WORD_EXCEPTIONS:-off}" = on ] && [ "$PHRASES" = --phrases ]; then
    # phrase positions the gold files the model learnt from contradict: the model decides there
    WORDS=("$OUT/data/gold_train.tsv" "$OUT/data/gold_cpp.tsv")
    [ "$REFIT" = on ] && WORDS+=("$OUT/data/dev_cpp.tsv")
    POLICY+=(--word-exceptions-from "${WORDS[@]}")
fi
if [ -n "${CONTEXT:-}" ]; then POLICY+=(--context "$CONTEXT"); fi
if [ -n "${FIXED_FROM:-}" ] && [ "${GOLD_ONLY:-off}" = on ]; then
    POLICY+=(--fixed-from)
    for name in $FIXED_FROM; do POLICY+=("$DATA/corpus/$name"); done
fi
EXPORT=(--recipe "$RECIPE" $PHRASES "${POLICY[@]}")
if [ -n "${REQUANTIZE:-}" ]; then
    # quantize_dynamic's graph, then its activations in float (exporters/requantize.py): a text reads
    # the same alone and in any batch
    pinyin-edge export "$OUT/finetune$TAG" --out "$OUT/bundle$TAG-int8-dynamic" --quantize "$QUANTIZE" \
        ${WEIGHT_RANGE:-} "${EXPORT[@]}"
    rm -rf "$OUT/bundle$TAG-int8"
    pinyin-edge requantize "$OUT/bundle$TAG-int8-dynamic" --out "$OUT/bundle$TAG-int8" --method "$REQUANTIZE"
else
    pinyin-edge export "$OUT/finetune$TAG" --out "$OUT/bundle$TAG-int8" --quantize "$QUANTIZE" \
        ${WEIGHT_RANGE:-} "${EXPORT[@]}"
fi
pinyin-edge export "$OUT/finetune$TAG" --out "$OUT/bundle$TAG-fp32" --quantize none "${EXPORT[@]}"

# The runtime's context and memo, decided on the finished graphs (graph unchanged, each its own memo)
REPOLICY=()
[ -n "${RUN_CONTEXT:-}" ] && REPOLICY+=(--context "$RUN_CONTEXT")
if [ "${MEMO:-off}" = on ]; then
    REPOLICY+=(--memo-from "$DATA"/corpus/*.txt --memo-exclude "$P"/cpp/{dev,test}.sent "$P"/g2pl/{dev,test}.sent)
fi
if [ "${#REPOLICY[@]}" -gt 0 ]; then
    for bundle in "$OUT/bundle$TAG-int8" "$OUT/bundle$TAG-fp32"; do
        rm -rf "$bundle.policy"
        pinyin-edge repolicy "$bundle" --out "$bundle.policy" "${REPOLICY[@]}"
        rm -rf "$bundle" && mv "$bundle.policy" "$bundle"
    done
fi

CARD=(); [ "$REFIT" = on ] && CARD=(--refit)
[ "${#TEACHER_DIRS[@]}" -gt 0 ] && CARD+=(--teachers "${TEACHER_DIRS[@]}")
pinyin-edge card "$OUT/bundle$TAG-int8" --data "$DATA" --base "$BASE" --base-dir "$STUDENT_BASE" \
    --finetune "${RUN_DIRS[@]}" --install "$INSTALL" --name "${CARD_NAME:-pinyin-edge default}" "${CARD[@]}"
echo "$(date -u +%FT%TZ) $(basename "$RECIPE"): built and installed to $INSTALL in $((SECONDS - BUILD_START)) s" \
    | tee -a "$OUT/build.log"
