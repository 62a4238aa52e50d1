# dsim: the two commands a newcomer needs are `make demo` and `make test`.

GO      ?= go
BIN     ?= bin/dsim
PKGS    ?= ./...

.PHONY: all build static image test lint bench bench-engine demo deps clean fuzz

all: build

# dsim's version comes from what Go records in the binary: the module
# version, or the VCS revision (-buildvcs=auto overrides a GOFLAGS that
# turns stamping off).
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/dsim

# static builds a statically linked binary (no cgo) for containers and
# cluster nodes without Go: bin/dsim-static.
static:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -o bin/dsim-static ./cmd/dsim

# image builds the container image of deploy/Containerfile (the static
# binary alone) with podman, buildah or docker, whichever is installed.
IMAGE ?= dsim:latest
image: static
	@tool=$$(for t in podman buildah docker; do command -v $$t >/dev/null 2>&1 && { echo $$t; break; }; done); \
	if [ -z "$$tool" ]; then echo "make image needs podman, buildah or docker (Debian: apt-get install podman)"; exit 2; fi; \
	if [ "$$tool" = buildah ]; then buildah bud -f deploy/Containerfile -t $(IMAGE) bin; \
	else $$tool build -f deploy/Containerfile -t $(IMAGE) bin; fi

# deps installs the system packages the tests need: headless Chromium, used
# to check that report.html renders in a real browser; podman, which
# builds the container image of deploy/Containerfile; and Debian's pandas
# and matplotlib, used to run the pandas example of docs/results.md. (The
# Slurm test installs Slurm and MUNGE itself, through
# deploy/slurm-cluster.sh.)
deps:
	@if [ -n "$$CHROME_PATH" ] || command -v google-chrome >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif ! command -v chromium >/dev/null 2>&1; then \
		command -v apt-get >/dev/null 2>&1 || { echo "the report test needs Chromium or Chrome: install one, or set CHROME_PATH"; exit 1; }; \
		echo "installing chromium (report rendering test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v podman >/dev/null 2>&1; then \
		echo "installing podman (container image test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null; \
	fi
	@if ! /usr/bin/python3 -c 'import pandas, matplotlib' >/dev/null 2>&1; then \
		echo "installing python3-pandas and python3-matplotlib (docs/results.md example test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pandas python3-matplotlib >/dev/null; \
	fi

test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)

# STATICCHECK is the staticcheck make lint runs, pinned: v0.8.2 is
# staticcheck 2026.2.2, built for Go 1.26. go run fetches it into the module
# cache on first use, so a fresh machine needs nothing but Go. Its default
# checks run, on this module and on docs/custom-protocol.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	cd docs/custom-protocol && $(GO) run $(STATICCHECK) ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@cd docs/custom-protocol && $(GO) mod tidy -diff >/dev/null || { echo "docs/custom-protocol's go.mod/go.sum are not tidy: run go mod tidy there"; exit 1; }
	@$(GO) generate ./... && out=$$(git status --porcelain -- '*_string.go'); if [ -n "$$out" ]; then echo "generated enum files were stale (go generate ./... rewrote them; commit them):"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./experiments

# demo runs every bundled experiment; each writes CSV, plots and
# report.html under out/<name>/ (replacing an earlier demo's results).
# DEMO_SKIP lists bundled experiments too heavy for a demo: gossip-rounds
# goes to 100,000 nodes (about 25 minutes and 3.5 GB; run it on its own
# with bin/dsim run gossip-rounds --parallel 1).
DEMO_SKIP ?= gossip-rounds
demo: build
	@for x in $$($(BIN) examples 2>/dev/null | awk '{print $$1}'); do \
		case " $(DEMO_SKIP) " in *" $$x "*) echo "== $$x (skipped: DEMO_SKIP)"; continue;; esac; \
		echo "== $$x"; $(BIN) run $$x --force --quiet || exit $$?; \
	done
	@echo "open out/<name>/report.html for each experiment's report and plots"

# bench-engine measures the engine on PHOLD (1,000 processes, lookahead
# 0.1 ms, Exp(1 ms)) at 1k, 1M and 10M pending events, each time next to a
# bare 4-ary heap running the same workload in the same process: medians
# of interleaved runs, the dsim / heap throughput ratio, allocations per
# event and peak heap and RSS per pending event. REPEAT sets the runs.
REPEAT ?= 5
PHOLD  := $(BIN) bench phold --lps 1000 --lookahead 100us --mean 1ms --repeat $(REPEAT)
bench-engine: build
	$(PHOLD) --per-lp 1 --events 5000000
	$(PHOLD) --per-lp 1000 --events 5000000
	$(PHOLD) --per-lp 10000 --events 10000000

clean:
	rm -rf bin out
