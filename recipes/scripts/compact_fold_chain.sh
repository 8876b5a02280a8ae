#!/usr/bin/env bash
# The shipped compact's recipe on one multi-corpus fold (issue 19 cross-validation): cnn_multi_corpus_robust.yaml
# distilled from that fold's default, read from the logits default_fold_chain.sh saved (so the teacher's folder need
# not exist), then the per-corpus test report under the robustness conditions. Resumes from its last checkpoint.
#   nohup bash recipes/scripts/compact_fold_chain.sh 3 > outputs/compact_fold3.log 2>&1 &
set -euo pipefail
fold=${1:?usage: compact_fold_chain.sh FOLD [DATA_DIR]}
data=${2:-../shared/data}
py=${PYTHON:-.venv/bin/python}
out=outputs/cnn_multi_corpus_robust/fold$fold
resume() { [ -n "$(ls -d "$1"/checkpoint-* 2>/dev/null)" ] && echo "--resume_from_checkpoint last" || true; }
if [ ! -f "$out/model.safetensors" ]; then
  $py -m ser_hf.train recipes/cnn_multi_corpus_robust.yaml --fold "$fold" --teacher "recipes/teachers/default_fold$fold.parquet" \
      --output_dir "$out" --data_dir "$data" --dataloader_num_workers 1 $(resume "$out")
fi
.venv/bin/ser-hf evaluate --model "$out" --corpus all --protocol multi-corpus --fold "$fold" --calm merge \
    --data-dir "$data" --conditions clean,noise:10,noise:0,reverb,telephone,quiet:-30,codec \
    --output-dir "outputs/eval_compact_fold$fold"
