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

# The South China Sea region pack, built from npm packages (package-lock.json) by our own
# script; rebuilt only when the lock file or the build script changes.
REGIONS_DIR   := src/lookout/data/regions/scs
REGIONS_STAMP := $(REGIONS_DIR)/.built-$(shell cat package-lock.json tools/*.py | sha1sum | cut -c1-12)

regions: $(REGIONS_STAMP)

$(REGIONS_STAMP): package-lock.json $(wildcard tools/*.py) | $(STAMP)
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm; \
	  else echo "make regions: npm is missing; install Node.js with npm (e.g. sudo apt-get install npm), then run make regions again" >&2; exit 1; fi; }
	@test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund
	$(BIN)/python tools/build_region_pack.py --out $(REGIONS_DIR)
	@rm -f $(REGIONS_DIR)/.built-*
	@touch $@

demo: venv regions
	$(BIN)/lookout demo

test: venv regions
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: venv
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv regions
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_alert_latency.py
	$(BIN)/python bench/bench_sweep.py

eval: venv
	$(BIN)/python bench/eval_detectors.py

docs: venv
	$(BIN)/python -m lookout.cli.docs

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
