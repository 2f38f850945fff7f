# Hookflow: `make run` starts everything, `make test` checks everything.
GO ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
ERRCHECK      := github.com/kisielk/errcheck@v1.30.0

.PHONY: run test test-cluster lint unit build bench clean

run:
	scripts/run.sh

build:
	$(GO) build -o bin/hookflow ./cmd/hookflow

test: lint unit

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet -tags cluster ./...
	$(GO) run $(STATICCHECK) -tags cluster ./...
	$(GO) run $(WORKFLOWCHECK) ./...
	$(GO) run $(ERRCHECK) -exclude .errcheck-excludes -tags cluster ./...
	scripts/lint-openapi.sh

# Integration tests start their own Temporal dev server (installing the
# pinned CLI when missing) on free ports.
unit:
	scripts/ensure-tools.sh
	$(GO) test -race -count=1 -timeout 30m ./...

# The production topology for real: a Temporal server (built from source
# the first time, about 4 minutes) on the local PostgreSQL, two API and
# three worker processes, 1,000 deliveries with one worker SIGKILLed. See
# cluster/cluster_test.go.
test-cluster:
	$(GO) test -tags cluster -count=1 -v -timeout 45m ./cluster/

# The benchmark of README "Performance": starts a dev server (settings as
# `make run`), a local receiver and `hookflow serve` per scenario, prints one
# table and writes bench-results/*.json; about 12 minutes. BENCH_FLAGS adds
# flags: -quick (a few minutes), -scenarios 500x10, -temporal-address HOST:PORT.
# BASE=COMMIT (say BASE=HEAD~1) runs every scenario first with a binary built
# from COMMIT, then with the working tree's, and prints both rows: the
# comparison a change reports, taken in the same run under the same load.
BASE ?=
bench: build
	scripts/temporal-cli.sh >/dev/null
	$(if $(BASE),scripts/build-at.sh $(BASE) bin/hookflow-base)
	$(GO) run ./cmd/hookflow-bench -hookflow bin/hookflow $(if $(BASE),-base bin/hookflow-base) $(BENCH_FLAGS)

clean:
	rm -rf bin .hookflow
