# neurocards — the two commands that matter: `make sandbox` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: build sandbox test vet race torture torture-short bench clean chromium

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/neurocards ./cmd/neurocards

sandbox:
	$(GO) run ./cmd/neurocards sandbox

vet:
	$(GO) vet ./...

test: vet chromium
	$(GO) test -race -count=1 -timeout 10m ./...

# The dashboard's browser tests drive Debian's headless Chromium (testkit/browser).
chromium:
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# The crash test: the built bot is killed with SIGKILL at random moments while sellers order
# jobs and KIE fails; it exits non-zero if anything was lost or charged twice. The short version
# also runs inside `make test` (testkit/torture).
torture: build
	$(GO) run ./cmd/torture -bin bin/neurocards -sellers 30 -kills 24 -terms 2

torture-short: build
	$(GO) run ./cmd/torture -bin bin/neurocards -sellers 8 -kills 5 -terms 1 -min-up 300ms -max-up 1200ms -job-timeout 1m

clean:
	rm -rf bin
