# Hookflow: `make run` starts everything, `make test` checks everything.
GO ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: run test lint unit build clean

run:
	scripts/run.sh

build:
	$(GO) build -o bin/hookflow ./cmd/hookflow

test: lint unit

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(WORKFLOWCHECK) ./...

# Integration tests start their own Temporal dev server (installing the
# pinned CLI when missing) on free ports.
unit:
	scripts/ensure-tools.sh
	$(GO) test -race -count=1 -timeout 30m ./...

clean:
	rm -rf bin .hookflow
