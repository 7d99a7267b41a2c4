# Two commands a newcomer needs: `make report` (the main job) and `make test` (the default tests).
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= lrkd-report

.PHONY: setup report test lint format test-slow test-thorough mutate verify bench clean

$(VENV)/.lrkd-installed: pyproject.toml scripts/setup.sh
	LRKD_VENV=$(VENV) bash scripts/setup.sh
	touch $@

setup: $(VENV)/.lrkd-installed

report: setup                ## quick validation report into $(OUT)/ (under 10 min on 2 CPU cores)
	$(VENV)/bin/lrkd report --quick --out $(OUT)

test: setup                  ## default test run (slow tests excluded)
	$(PY) -m pytest

lint: setup                  ## ruff lint and format check (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup                ## apply ruff's formatter to the tree
	$(VENV)/bin/ruff format .

test-slow: setup             ## slow group: real SmolLM2 distillation, headless-browser report check, thorough sweeps
	$(PY) -m pytest -m slow

test-thorough: setup         ## default tests with many more hypothesis examples
	LRKD_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest

mutate: setup                ## mutation score of validate/'s decision code against calibration, seeds 0..4 (about an hour; MUTATE_ARGS="--sample 250 --seed 3": 22 min)
	$(PY) scripts/mutate.py $(MUTATE_ARGS)

verify: setup                ## rerun the quick claim checks against reports/baseline.json
	$(VENV)/bin/lrkd verify

bench: setup                 ## benchmarks (not tests): batched SGD and LRC throughput
	$(PY) benchmarks/bench_batched_sgd.py
	$(PY) benchmarks/bench_lrc.py

clean:
	rm -rf $(OUT) runs .pytest_cache .hypothesis
