# neurocards — the two commands that matter: `make sandbox` and `make test` (and `make demo` to play the seller in a browser).
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: build sandbox demo chromium test vet torture torture-short load fuzz clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/neurocards ./cmd/neurocards

sandbox:
	$(GO) run ./cmd/neurocards sandbox

# The sandbox as a chat page: play the seller in a browser at the address it prints.
demo:
	$(GO) run ./cmd/neurocards sandbox --web

# The browser tests (testkit/browser) drive headless Chromium; install it when it is missing.
chromium:
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

vet:
	$(GO) vet ./...

test: vet chromium
	$(GO) test -race -count=1 -timeout 10m ./...

# The crash test: the built bot is killed with SIGKILL at random moments while sellers order
# jobs and KIE fails, then as KIE answers the last createTask of bursts of 50 sellers confirming
# at once; it exits non-zero if anything was lost or charged twice, or a burst cost KIE more than
# 2 tasks twice. The short version also runs inside `make test` (testkit/torture).
torture: build
	$(GO) run ./cmd/torture -bin bin/neurocards -sellers 30 -kills 24 -terms 2

torture-short: build
	$(GO) run ./cmd/torture -bin bin/neurocards -sellers 8 -kills 5 -terms 1 -min-up 300ms -max-up 1200ms -job-timeout 1m -bursts 1 -burst-size 20 -max-recreated -1

# The load run: the built bot carries SELLERS sellers whose KIE tasks take JOB_MIN–JOB_MAX, is
# killed with SIGKILL while all of them wait and restarted, and prints its resident set, its peak,
# how soon every task is read again, the videos delivered and confirm → video. It exits non-zero
# when a video is missing, the check fails or a target is missed (README, "Load"). A short
# version runs inside `make test` (testkit/load).
SELLERS ?= 2000
JOB_MIN ?= 90s
JOB_MAX ?= 2m
load: build
	$(GO) run ./cmd/load -bin bin/neurocards -sellers $(SELLERS) -job-min $(JOB_MIN) -job-max $(JOB_MAX)

# Fuzz targets as package:Target. `go test -fuzz` takes one target in one package per run, so
# `make fuzz` runs them one after another, each for FUZZTIME. Their seed corpora run in `make
# test` like any test. Add new targets (the actors' too) to this list.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./kie:FuzzCreateTaskAnswer \
	./kie:FuzzRecordInfoAnswer \
	./kie:FuzzParseCallback \
	./kie:FuzzRetryAfter \
	./telegram:FuzzUpdatesAnswer \
	./telegram:FuzzBotAPIAnswer \
	./config:FuzzKindsFile \
	./config:FuzzPacks \
	./config:FuzzEnv \
	./store:FuzzChargeBackKeys \
	./keyboard:FuzzParse \
	./keyboard:FuzzPayloadPack \
	./operator:FuzzParse \
	./photo:FuzzHeader \
	./conversation:FuzzHandle

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

clean:
	rm -rf bin
