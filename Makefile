# make test   every test (unit and integration), gofmt, go vet, staticcheck,
#             in both modules: the library (.) and the tools (tools/)
# make demo   the demo (tools/cmd/seqtools demo)
# make bench  the side-by-side benchmark (tools/cmd/seqtools bench)
#
# Each target first runs scripts/services.sh, which starts PostgreSQL,
# MariaDB and a DynamoDB-compatible endpoint when they are not already
# answering, and exports DATABASE_URL, MARIADB_DSN and
# AWS_ENDPOINT_URL_DYNAMODB for what follows.
# `scripts/services.sh stop` stops what it started.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The library module and the tools module, which has the demo, the
# benchmark and the stress test with their plotting and histogram packages.
MODULES := . tools
# What only the tools may require: the library's module graph names none.
# (gonum's plot, not gonum: grpc's go.mod requires gonum for its own
# benchmarks, which the library never builds.)
TOOLS_ONLY := gonum.org/v1/plot|hdrhistogram|go-fonts|go-latex|go-pdf
SERVICES := env_lines=$$(scripts/services.sh); eval "$$env_lines"

.PHONY: test demo bench services lint

test:
	$(SERVICES)
	unformatted=$$(gofmt -l .)
	if [[ -n $$unformatted ]]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	if go mod graph | grep -E '$(TOOLS_ONLY)'; then echo "the library module requires the tools' dependencies"; exit 1; fi
	for m in $(MODULES); do go -C $$m vet ./...; go -C $$m run $(STATICCHECK) ./...; done
	for m in $(MODULES); do echo "go test in $$m"; go -C $$m test -race -count=1 ./...; done

demo:
	$(SERVICES)
	go -C tools run ./cmd/seqtools demo

bench:
	$(SERVICES)
	go -C tools run ./cmd/seqtools bench

services:
	@scripts/services.sh
