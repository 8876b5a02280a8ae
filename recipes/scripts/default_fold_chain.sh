#!/usr/bin/env bash
# The shipped default's recipe chain on one multi-corpus fold (issue 19 cross-validation): the base model
# (whisper_tiny_multi_corpus.yaml), then its robust fine-tuning (whisper_tiny_multi_corpus_robust_finetune.yaml),
# then the per-corpus test report under the robustness conditions, then the fine-tuned model's logits on the compact
# recipe's training clips (recipes/teachers/, for compact_fold_chain.sh). Each step resumes from its last checkpoint.
#   nohup bash recipes/scripts/default_fold_chain.sh 2 > outputs/default_fold2.log 2>&1 &
set -euo pipefail
fold=${1:?usage: default_fold_chain.sh FOLD [DATA_DIR]}
data=${2:-../shared/data}
py=${PYTHON:-.venv/bin/python}
base=outputs/whisper_tiny_multi_corpus/fold$fold
ft=outputs/whisper_robust_ft/fold$fold
resume() { [ -n "$(ls -d "$1"/checkpoint-* 2>/dev/null)" ] && echo "--resume_from_checkpoint last" || true; }
if [ ! -f "$base/model.safetensors" ]; then
  $py -m ser_hf.train recipes/whisper_tiny_multi_corpus.yaml --fold "$fold" --output_dir "$base" \
      --data_dir "$data" --dataloader_num_workers 1 $(resume "$base")
fi
if [ ! -f "$ft/model.safetensors" ]; then
  $py -m ser_hf.train recipes/whisper_tiny_multi_corpus_robust_finetune.yaml --model "$base" --fold "$fold" \
      --output_dir "$ft" --data_dir "$data" --dataloader_num_workers 1 $(resume "$ft")
fi
.venv/bin/ser-hf evaluate --model "$ft" --corpus all --protocol multi-corpus --fold "$fold" --calm merge \
    --data-dir "$data" --conditions clean,noise:10,noise:0,reverb,telephone,quiet:-30,codec \
    --output-dir "outputs/eval_default_fold$fold"
OMP_NUM_THREADS=1 $py recipes/scripts/save_teacher_logits.py recipes/cnn_multi_corpus_robust.yaml --teacher "$ft" \
    --output "recipes/teachers/default_fold$fold.parquet" --fold "$fold" --data_dir "$data"
