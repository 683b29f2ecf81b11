# sluice: `make test` is THE test command (CI runs it through .ci/run).
GO      ?= go
BIN     := bin/sluice
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build deps test test-short vet fmt quickstart quickstart-mysql bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X github.com/sluice-cdc/sluice/internal/daemon.Version=$(VERSION)" -o $(BIN) ./cmd/sluice

# Debian packages the tests need (PostgreSQL, MariaDB, kcat); installs only what is missing.
deps:
	bash scripts/install-deps.sh

# No -race: 2 cores, and CI must stay well under its time limit.
# deploy/ is its own module (kustomize and k8s.io/api stay out of go.mod):
# `./...` does not descend into it, so its tests run on their own.
test: deps vet
	$(GO) test -count=1 -timeout 20m ./...
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...

fmt:
	@out="$$(find . -name '*.go' -not -path './.git/*' -not -path './vendor/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

quickstart:
	bash scripts/quickstart.sh

quickstart-mysql:
	bash scripts/quickstart.sh mysql

# Full size, ~10 minutes on 2 cores; starts its own servers (hence deps) and
# writes bench/results/<date>.md and .json. `go run ./bench -smoke` runs it in seconds.
bench: deps
	$(GO) run ./bench

clean:
	rm -rf bin
