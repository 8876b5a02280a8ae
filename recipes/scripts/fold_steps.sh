# Steps shared by the fold chains (sourced): each training step resumes from its last checkpoint and is skipped once
# its model exists; the test report scores the fold's test speakers per corpus under the seven conditions.
py=${PYTHON:-.venv/bin/python}

train_once() {  # train_once OUTPUT_DIR RECIPE [--key value ...]
  local out=$1 recipe=$2; shift 2
  [ -f "$out/model.safetensors" ] && return 0
  local resume=()
  [ -n "$(ls -d "$out"/checkpoint-* 2>/dev/null)" ] && resume=(--resume_from_checkpoint last)
  $py -m ser_hf.train "$recipe" --output_dir "$out" --dataloader_num_workers 1 "$@" "${resume[@]}"
}

test_report() {  # test_report MODEL FOLD DATA_DIR OUTPUT_DIR
  .venv/bin/ser-hf evaluate --model "$1" --corpus all --protocol multi-corpus --fold "$2" --calm merge \
      --data-dir "$3" --conditions clean,noise:10,noise:0,reverb,telephone,quiet:-30,codec --output-dir "$4"
}
