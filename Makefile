# Lookout: the two commands a user runs are `make demo` and `make test`.
# Everything else (check, bench, docs) sets up the same environment first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: demo test check bench eval docs clean venv regions web browser postgis

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

# The web app's offline assets: MapLibre GL JS and Natural Earth land from npm packages
# (package-lock.json), copied into the served folder by our own script; rebuilt only when the
# lock file or the script changes. The outputs are gitignored.
WEB_DIR   := src/lookout/web/static
WEB_STAMP := $(WEB_DIR)/.built-$(shell cat package-lock.json tools/build_web.py tools/topojson.py | sha1sum | cut -c1-12)

web: $(WEB_STAMP)

$(WEB_STAMP): package-lock.json tools/build_web.py tools/topojson.py | $(STAMP)
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm; \
	  else echo "make web: npm is missing; install Node.js with npm (e.g. sudo apt-get install npm), then run make web again" >&2; exit 1; fi; }
	@test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund
	$(BIN)/python tools/build_web.py --out $(WEB_DIR)
	@rm -f $(WEB_DIR)/.built-*
	@touch $@

# The browser tests drive Debian's Chromium (never a downloaded browser): installed when
# missing and root; otherwise they skip (and fail under CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "make test: chromium is missing (sudo apt-get install chromium); the browser tests will skip" >&2; fi; }

# PostGIS on the local PostgreSQL, for the PostGIS store's tests (each creates and drops its own
# database there): installed from Debian's packages when missing and root. A server that does
# not answer is left to the tests: they skip (and fail under CI=true).
LOOKOUT_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export LOOKOUT_TEST_POSTGRES_URL
PG_ASK = psql "$(LOOKOUT_TEST_POSTGRES_URL)" -Atc

postgis:
	@if ! command -v psql >/dev/null 2>&1 || ! $(PG_ASK) "SELECT 1" >/dev/null 2>&1; then 	  echo "make postgis: PostgreSQL does not answer at $(LOOKOUT_TEST_POSTGRES_URL); the PostGIS tests will skip" >&2; 	elif [ -z "$$($(PG_ASK) "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" ]; then 	  major=$$($(PG_ASK) "SELECT current_setting('server_version_num')::int / 10000"); 	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql-$$major-postgis-3; 	  else echo "make postgis: PostGIS is missing; install it (e.g. sudo apt-get install postgresql-$$major-postgis-3), then run make again" >&2; exit 1; fi; 	fi

demo: venv regions web
	$(BIN)/lookout demo

test: venv regions web browser postgis
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: venv
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports

bench: venv regions postgis
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_alert_latency.py
	$(BIN)/python bench/bench_scaleout.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_sharing.py
	$(BIN)/python bench/bench_web.py

eval: venv
	$(BIN)/python bench/eval_detectors.py

docs: venv
	$(BIN)/python -m lookout.cli.docs

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
