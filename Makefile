# data-lineage-audit: everything a user runs goes through these targets.
#   make run                 generate data if needed, run all eight jobs
#   make run JOB=orders      run one job (JOB may list several: JOB="customers orders")
#   make run PARALLEL=1      one job at a time, output live (default: two at once where the DAG allows)
#   make test                the whole test suite
#   make serve / make stop   the lineage service in the foreground / stop the background one
# Needs Python 3.11+, Java 17 and Node.js 20.19+ with npm (for the web UI); the virtualenv is created on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SCALE  ?=
JOB    ?=
PARALLEL ?=
PYTEST_ARGS ?=

.PHONY: help setup jars data run cluster-run serve stop verify test lint bench-jobs bench-capture bench-service bench-ui compare-captures screenshots ui clean distclean

help:
	@echo "make run [JOB=orders] [SCALE=N]   run the jobs (generates sample data when missing, or when SCALE changes)"
	@echo "make data [SCALE=1]               (re)generate the sample input tables"
	@echo "make serve / make stop             run the lineage service in the foreground / stop the background one"
	@echo "make cluster-run [JOB=...]        start a Spark standalone master and two workers on 127.0.0.1, spark-submit"
	@echo "                                  the jobs to it (default: customers orders), stop it (lineage-audit cluster)"
	@echo "make verify                       recompute the lineage store's tamper-evident event ledger"
	@echo "make test                         run the test suite"
	@echo "make ui                           build the web UI into lineage_audit/web/dist (npm ci, vite build)"
	@echo "make jars                         fetch the OpenLineage listener and Delta JARs into .jars/ (once)"
	@echo "make bench-jobs                   time the jobs at SCALE=1 and SCALE=10"
	@echo "make bench-capture                capture overhead per job, and cost against plan size"
	@echo "make bench-service                lineage service: ingest rate, graph query latency (SQLite, PostgreSQL)"
	@echo "make bench-ui                     web UI: a 1,000-node lineage graph in headless Chromium (target 2 s)"
	@echo "make compare-captures [REUSE=1]   built-in capture vs the official listener, same work: docs/capture-comparison.md"
	@echo "make screenshots                  the browser tests, saving the README's screenshots to docs/screenshots"
	@echo "make clean                        delete generated data, outputs and rejects"

# The stamp is rebuilt when pyproject.toml changes, so new pins are installed by the next make.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# The web UI (lineage_audit/web), served by the lineage service at /: npm ci when the lockfile changes,
# the build when a source, index.html or a config changes.
WEB := lineage_audit/web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/package.json $(WEB)/tsconfig.json $(WEB)/vite.config.ts

$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the web UI: install Node.js 20.19+ with npm"; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
		|| { echo "Node.js 20.19+ is needed to build the web UI (found $$(node --version))"; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB) && npm run build
	@touch $@

ui: $(WEB)/dist/index.html

# The official OpenLineage listener and Delta JARs, fetched once from Maven Central into .jars/ (pins in
# lineage_audit/jars.py). Without Maven or network it says so in one line and the project runs without them.
jars: $(VENV)/.installed
	@$(PY) -m lineage_audit.cli jars

setup: $(VENV)/.installed ui jars

data: setup
	$(PY) -m lineage_audit.cli generate $(if $(SCALE),--scale $(SCALE))

# The lineage service is started in the background first (unless it already runs) and left running;
# if the port belongs to something else (the real Marquez, say), the jobs send their events there.
run: setup
	@$(PY) -m lineage_audit.cli serve --background || echo "(continuing: capture sends to whatever listens on the configured port, or spools)"
	$(PY) -m lineage_audit.cli run $(if $(SCALE),--scale $(SCALE)) $(if $(PARALLEL),--parallel $(PARALLEL)) $(JOB)

# The jobs on a real cluster manager: a standalone master and two one-core workers from pyspark's own
# Spark, each job handed to spark-submit --master spark://... --properties-file spark-defaults.conf.
cluster-run: setup
	@$(PY) -m lineage_audit.cli serve --background || echo "(continuing: capture sends to whatever listens on the configured port, or spools)"
	$(PY) -m lineage_audit.cli cluster $(if $(SCALE),--scale $(SCALE)) $(or $(JOB),customers orders)

serve: setup
	$(PY) -m lineage_audit.cli serve

stop: setup
	@$(PY) -m lineage_audit.cli stop

verify: setup
	$(PY) -m lineage_audit.cli verify

test: setup
	$(PY) -m ruff check jobs lineage_audit tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check jobs lineage_audit tests benchmarks

bench-jobs: setup
	$(PY) benchmarks/bench_jobs.py

bench-capture: setup
	$(PY) benchmarks/bench_capture.py

bench-service: setup
	$(PY) benchmarks/bench_service.py

bench-ui: setup
	$(PY) benchmarks/bench_ui.py

# The eight jobs, the column-lineage query shapes and extra shapes (Hive, DDL, RDD, Delta) under each
# capture, compared event by event (lineage_audit/differential). REUSE=1 keeps the runs of the last call.
compare-captures: setup
	$(PY) -m lineage_audit.differential --out docs/capture-comparison.md $(if $(REUSE),--reuse)

# The browser tests need a pipeline run (minutes; LINEAGE_AUDIT_TEST_PIPELINE_DIR=<dir> reuses one).
screenshots: setup
	LINEAGE_AUDIT_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/web $(PYTEST_ARGS)

clean:
	rm -rf data/inputs data/outputs data/rejects data/runs data/lineage-spool spark-warehouse metastore_db derby.log

distclean: clean
	rm -rf $(VENV) *.egg-info .pytest_cache
