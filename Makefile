# PD closure rates from the EOIR immigration-court release. `make help` lists the targets.
#
#   make all [RELEASE=path] [START=YYYY-MM-DD] [END=YYYY-MM-DD] [RUN=name] [PARAMS=params/x.yaml]
#            [DEFINITION=pd-closures|pd-dismissals] [DISMISSAL_CODES=U or RMV:U,DEP:D]
#
# Defaults: the embedded SYNTHETIC sample and TRAC's April 2014 window (2012-10-01..2014-03-31).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

RELEASE ?=
START ?=
END ?=
RUN ?=
PARAMS ?=
DEFINITION ?=
DISMISSAL_CODES ?=
OLD ?=
NEW ?=
URL ?=
FORCE ?=
DEST ?= data/raw
BENCH_DIR ?= data/bench
BENCH_PROCEEDINGS ?= 16500000

NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# Notebooks are committed without outputs, execution counts or papermill's metadata; cell ids stay (no churn).
NBSTRIPOUT := $(VENV)/bin/nbstripout --keep-id --extra-keys "metadata.papermill cell.metadata.papermill"

.DEFAULT_GOAL := help
.PHONY: help setup all reproduce test test-fast lint fix lab report bench-data bench bench-smoke download check-release \
	clean-cache clean compare sample-later

help: ## List the targets
	@echo "PD closure rates from EOIR immigration-court data (default input: the SYNTHETIC sample)"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "Options for make all: RELEASE=path START=YYYY-MM-DD END=YYYY-MM-DD RUN=name PARAMS=params/x.yaml"
	@echo "                      DEFINITION=pd-closures|pd-dismissals DISMISSAL_CODES=U or RMV:U,DEP:D"
	@echo "Options for make compare: OLD=path NEW=path START=YYYY-MM-DD END=YYYY-MM-DD RUN=name PARAMS=params/x.yaml"

$(INSTALLED): requirements-lock.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(INSTALLED) ## Create .venv with the pinned dependencies and the test and lint tools

all: $(INSTALLED) ## Run the notebook chain: ingest, rates, figures, validation, report
	$(PY) -m pdclosures.pipeline \
		$(if $(PARAMS),--params "$(PARAMS)") $(if $(RELEASE),--release "$(RELEASE)") \
		$(if $(START),--start "$(START)") $(if $(END),--end "$(END)") $(if $(RUN),--run "$(RUN)") \
		$(if $(DEFINITION),--definition "$(DEFINITION)") $(if $(DISMISSAL_CODES),--dismissal-codes "$(DISMISSAL_CODES)")

compare: $(INSTALLED) ## Compare two releases for one window: OLD=path NEW=path [START= END= RUN= PARAMS=] (default: the sample and its later release)
	$(PY) -m pdclosures.compare $(if $(OLD),--old "$(OLD)") $(if $(NEW),--new "$(NEW)") $(if $(PARAMS),--params "$(PARAMS)") \
		$(if $(START),--start "$(START)") $(if $(END),--end "$(END)") $(if $(RUN),--run "$(RUN)") \
		$(if $(DEFINITION),--definition "$(DEFINITION)") $(if $(DISMISSAL_CODES),--dismissal-codes "$(DISMISSAL_CODES)")

sample-later: $(INSTALLED) ## Derive the later SYNTHETIC release in data/sample/ from the sample (after the sample changes)
	$(PY) -m pdclosures.later_release --source data/sample/eoir_synthetic_sample.zip \
		--out data/sample/eoir_synthetic_sample_later.zip

reproduce: $(INSTALLED) ## Run every preset in params/ (TRAC's published windows)
	@for preset in params/*.yaml; do \
		$(PY) -m pdclosures.pipeline --params "$$preset" $(if $(RELEASE),--release "$(RELEASE)") || exit 1; \
	done

test: $(INSTALLED) ## Run the tests (offline, on the synthetic sample and tiny hand-built releases)
	$(PY) -m pytest -q

test-fast: $(INSTALLED) ## Run the tests except the slow end-to-end ones (pytest -m "not slow")
	$(PY) -m pytest -q -m "not slow"

lint: $(INSTALLED) ## Check the code with ruff (lint and format) and that the notebooks are committed without outputs
	$(VENV)/bin/ruff check --output-format concise src tests benchmarks notebooks
	$(VENV)/bin/ruff format --check src tests benchmarks notebooks
	@$(NBSTRIPOUT) --verify $(NOTEBOOKS) || { echo "Notebooks must be committed without outputs: run make fix" >&2; exit 1; }

fix: $(INSTALLED) ## Apply ruff's safe fixes and its formatting, and strip the notebooks' outputs
	$(VENV)/bin/ruff check --fix --exit-zero --output-format concise src tests benchmarks notebooks
	$(VENV)/bin/ruff format src tests benchmarks notebooks
	$(NBSTRIPOUT) $(NOTEBOOKS)

lab: $(INSTALLED) ## Open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

report: $(INSTALLED) ## Rebuild reports/<RUN>/report.html from that run's executed notebooks
	$(PY) -m pdclosures.report "reports/$(or $(RUN),default)"

download: $(INSTALLED) ## Fetch the current EOIR release zip into data/raw/ (resumable)
	$(PY) -m pdclosures.download $(if $(URL),--url "$(URL)") --dest "$(DEST)" $(if $(FORCE),--force)

check-release: $(INSTALLED) ## Ask the server (HEAD, nothing downloaded) whether a newer EOIR release is out
	$(PY) -m pdclosures.download --check $(if $(URL),--url "$(URL)") --dest "$(DEST)"

bench-data: $(INSTALLED) ## Write a full-scale SYNTHETIC release (16.5M proceedings) to data/bench/
	$(PY) -m pdclosures.sample --full-scale --proceedings $(BENCH_PROCEEDINGS) --out "$(BENCH_DIR)"

bench: $(INSTALLED) ## Full-scale benchmark on data/bench/ (needs make bench-data); writes benchmarks/results.md
	$(PY) benchmarks/bench.py --release "$(BENCH_DIR)"

bench-smoke: $(INSTALLED) ## The benchmark script on a small synthetic release (also part of make test; about 30 s)
	$(PY) -m pytest -q tests/test_bench_smoke.py

clean-cache: ## Remove the cleaned-release caches in data/interim/
	find data/interim -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

clean: clean-cache ## Remove caches and all run outputs (data/processed, figures, reports)
	find data/processed figures reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
