# Lookout: the two commands a user runs are `make demo` and `make test`.
# Everything else (check, bench, docs) sets up the same environment first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: demo test check bench eval docs clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,postgres,nats]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: venv
	$(BIN)/lookout demo

test: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_alert_latency.py
	$(BIN)/python bench/bench_sweep.py

eval: venv
	$(BIN)/python bench/eval_detectors.py

docs: venv
	$(BIN)/python -m lookout.cli.docs

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
