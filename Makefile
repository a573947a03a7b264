# make test   every test (unit and integration), gofmt, go vet, staticcheck
# make demo   the demo
# make bench  the side-by-side benchmark
#
# Each target first runs scripts/services.sh, which starts PostgreSQL and a
# DynamoDB-compatible endpoint when they are not already answering, and
# exports DATABASE_URL and AWS_ENDPOINT_URL_DYNAMODB for what follows.
# `scripts/services.sh stop` stops what it started.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:

STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@v0.8.2
SERVICES := env_lines=$$(scripts/services.sh); eval "$$env_lines"

.PHONY: test demo bench services lint

test:
	$(SERVICES)
	unformatted=$$(gofmt -l .)
	if [[ -n $$unformatted ]]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	go test -race -count=1 ./...

demo:
	$(SERVICES)
	go run ./cmd/seqshim demo

bench:
	$(SERVICES)
	go run ./cmd/seqshim bench

services:
	@scripts/services.sh
