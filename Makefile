# ser-hf: set-up and everyday commands. Every target builds .venv from nothing when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# This machine's CPU build of torch lies on disk, where pip finds it (uv does not look there); an unpinned torch
# would pull a multi-GB CUDA build. uv installs the rest, keeping that torch, in half of pip's time; compiled to
# bytecode there, so the test processes do not each compile what they import first.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev
PYTEST_ARGS ?= -n 2

.PHONY: demo test install clean-venv

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_SPEC)" uv
	VIRTUAL_ENV="$(abspath $(VENV))" $(VENV)/bin/uv pip install --quiet --compile-bytecode -e ".[$(EXTRAS)]"
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

# The demo: the Gradio app on the bundled models (default and compact); in a checkout without them, a tour of
# the data layer instead (`ser-hf demo --model DIR` runs the app on any trained model).
demo: $(VENV)/.installed-$(EXTRAS)
	@if HF_HUB_OFFLINE=1 $(PY) -c "from ser_hf.scoring import bundled_model_dir; bundled_model_dir('default')" 2>/dev/null; then \
		HF_HUB_OFFLINE=1 $(VENV)/bin/ser-hf demo; \
	else \
		echo "The bundled models are not in this checkout yet; showing the data layer (ser-hf demo --model DIR runs the app)."; \
		HF_HUB_OFFLINE=1 $(VENV)/bin/ser-hf data summary --corpus ravdess --data-dir $${SER_HF_DATA:-../shared/data}; \
	fi

test: $(VENV)/.installed-$(EXTRAS)
	HF_HUB_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS) tests

clean-venv:
	rm -rf $(VENV)
