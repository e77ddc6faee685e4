# Two commands get a newcomer running: `make demo` and `make test`. Both create .venv when it is missing.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
CORPUS  := src/copilot/demo/corpus
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export OMP_WAIT_POLICY := PASSIVE

.PHONY: install demo test test-all lint eval bench clean browser-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first, pinned: it is the CPU wheel this machine holds; anything unpinned would pull a CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/copilot serve --demo

# Browser tests drive Debian's chromium with Playwright's Python package (never a downloaded browser).
browser-deps: $(STAMP)
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/pip install -q playwright

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/copilot eval retrieval --dataset demo --json
	$(BIN)/copilot eval answers --dataset demo-staff --json
	$(BIN)/copilot eval answers --dataset demo --json
	$(BIN)/copilot eval tables --json
	$(BIN)/copilot eval parts --json
	$(BIN)/copilot eval fusion --json
	$(BIN)/copilot eval retrieval --dataset policyqa --json
	$(BIN)/copilot eval retrieval --dataset covidqa --json
	$(BIN)/copilot eval redaction --dataset physionet-dev --json
	$(BIN)/copilot eval redaction --dataset presidio-synth --json
	$(BIN)/copilot eval redaction --dataset demo --json
	$(BIN)/copilot eval redaction --dataset ops-notes --json
	$(BIN)/copilot eval redaction --dataset shorthand --json
	$(BIN)/copilot eval redaction --dataset text-kind --json
	$(BIN)/copilot eval triage --dataset endava --json
	$(BIN)/copilot eval triage --dataset demo --json
	$(BIN)/copilot eval summaries --json

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	mkdir -p bench/results
	$(BIN)/python bench/embed.py --json | tee bench/results/embed.json
	$(BIN)/python bench/ingest.py --json | tee bench/results/ingest.json
	$(BIN)/python bench/query.py --json | tee bench/results/query.json
	$(BIN)/python bench/ask.py --json | tee bench/results/ask.json
	$(BIN)/python bench/redact.py --json | tee bench/results/redact.json
	$(BIN)/python bench/audit.py --json | tee bench/results/audit.json
	$(BIN)/python bench/sync.py --json | tee bench/results/sync.json
	$(BIN)/python bench/triage.py --json | tee bench/results/triage.json
	$(BIN)/python bench/summaries.py --json | tee bench/results/summaries.json

clean:
	rm -rf .copilot .pytest_cache .mypy_cache .ruff_cache
