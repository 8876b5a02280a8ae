#!/usr/bin/env bash
# The shipped default's recipe chain on one multi-corpus fold (its cross-validation): tiny.en distilled from the
# fold's own tiny.en (whisper_tiny_multi_corpus_distilled.yaml; the teacher's logits read from
# recipes/teachers/tiny_foldF.parquet where saved, else its model trained first with whisper_tiny_multi_corpus.yaml),
# then its robust fine-tuning (whisper_tiny_multi_corpus_robust_finetune.yaml), then the per-corpus test report under
# the robustness conditions, then the fine-tuned model's logits on the compact recipe's training clips
# (recipes/teachers/, for compact_fold_chain.sh). Each step resumes from its last checkpoint.
#   nohup bash recipes/scripts/default_fold_chain.sh 2 > outputs/default_fold2.log 2>&1 &
set -euo pipefail
fold=${1:?usage: default_fold_chain.sh FOLD [DATA_DIR]}
data=${2:-../shared/data}
source "$(dirname "$0")/fold_steps.sh"
teacher=recipes/teachers/tiny_fold$fold.parquet
if [ ! -f "$teacher" ]; then
  teacher=outputs/whisper_tiny_multi_corpus/fold$fold
  train_once "$teacher" recipes/whisper_tiny_multi_corpus.yaml --fold "$fold" --data_dir "$data"
fi
student=outputs/whisper_tiny_multi_corpus_distilled/fold$fold
ft=outputs/whisper_robust_ft/fold$fold
train_once "$student" recipes/whisper_tiny_multi_corpus_distilled.yaml --teacher "$teacher" --fold "$fold" \
    --data_dir "$data"
train_once "$ft" recipes/whisper_tiny_multi_corpus_robust_finetune.yaml --model "$student" --fold "$fold" \
    --data_dir "$data"
test_report "$ft" "$fold" "$data" "outputs/eval_default_fold$fold"
OMP_NUM_THREADS=1 $py recipes/scripts/save_teacher_logits.py recipes/cnn_multi_corpus_robust.yaml --teacher "$ft" \
    --output "recipes/teachers/default_fold$fold.parquet" --fold "$fold" --data_dir "$data"
