#!/usr/bin/env bash
# The shipped compact's recipe on one multi-corpus fold (its cross-validation): cnn_multi_corpus_robust.yaml
# distilled from that fold's default, read from the logits default_fold_chain.sh saved (so the teacher's folder need
# not exist), then session mode's statistics and head (ser-hf calibrate), then the per-corpus test report under the
# robustness conditions. Resumes from its last checkpoint.
#   nohup bash recipes/scripts/compact_fold_chain.sh 3 > outputs/compact_fold3.log 2>&1 &
set -euo pipefail
fold=${1:?usage: compact_fold_chain.sh FOLD [DATA_DIR]}
data=${2:-../shared/data}
source "$(dirname "$0")/fold_steps.sh"
out=outputs/cnn_multi_corpus_robust/fold$fold
train_once "$out" recipes/cnn_multi_corpus_robust.yaml --fold "$fold" --data_dir "$data" \
    --teacher "recipes/teachers/default_fold$fold.parquet"
.venv/bin/ser-hf calibrate --model "$out" --protocol multi-corpus --fold "$fold" --data-dir "$data" --keep-temperature \
    --session-head --write
test_report "$out" "$fold" "$data" "outputs/eval_compact_fold$fold"
