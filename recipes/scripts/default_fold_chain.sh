#!/usr/bin/env bash
# The shipped default's recipe chain on one multi-corpus fold (its cross-validation): Whisper base
# (whisper_base_multi_corpus.yaml, extra `large`), tiny.en distilled from it (whisper_tiny_multi_corpus_distilled.yaml),
# then its robust fine-tuning (whisper_tiny_multi_corpus_robust_finetune.yaml), then session mode's statistics and head
# (ser-hf calibrate), then the per-corpus test report under the robustness conditions, then the fine-tuned model's
# logits on the compact recipe's training clips (recipes/teachers/, for compact_fold_chain.sh). Each step resumes from
# its last checkpoint.
#   nohup bash recipes/scripts/default_fold_chain.sh 2 > outputs/default_fold2.log 2>&1 &
set -euo pipefail
fold=${1:?usage: default_fold_chain.sh FOLD [DATA_DIR]}
data=${2:-../shared/data}
source "$(dirname "$0")/fold_steps.sh"
teacher=outputs/whisper_base_multi_corpus/fold$fold
train_once "$teacher" recipes/whisper_base_multi_corpus.yaml --fold "$fold" --data_dir "$data"
student=outputs/whisper_tiny_multi_corpus_distilled/fold$fold
ft=outputs/whisper_robust_ft/fold$fold
train_once "$student" recipes/whisper_tiny_multi_corpus_distilled.yaml --teacher "$teacher" --fold "$fold" \
    --data_dir "$data"
train_once "$ft" recipes/whisper_tiny_multi_corpus_robust_finetune.yaml --model "$student" --fold "$fold" \
    --data_dir "$data"
.venv/bin/ser-hf calibrate --model "$ft" --protocol multi-corpus --fold "$fold" --data-dir "$data" --keep-temperature \
    --session-head --write
test_report "$ft" "$fold" "$data" "outputs/eval_default_fold$fold"
OMP_NUM_THREADS=1 $py recipes/scripts/save_teacher_logits.py recipes/cnn_multi_corpus_robust.yaml --teacher "$ft" \
    --output "recipes/teachers/default_fold$fold.parquet" --fold "$fold" --data_dir "$data"
