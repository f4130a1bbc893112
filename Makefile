# neurocards — the two commands that matter: `make sandbox` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: build sandbox test vet race torture bench clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/neurocards ./cmd/neurocards

sandbox:
	$(GO) run ./cmd/neurocards sandbox

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 -timeout 10m ./...

clean:
	rm -rf bin
