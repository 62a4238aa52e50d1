# dsim: the two commands a newcomer needs are `make demo` and `make test`.

GO      ?= go
BIN     ?= bin/dsim
PKGS    ?= ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test lint bench bench-engine demo deps clean fuzz

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dsim

# deps installs the system packages the tests need: headless Chromium, used
# to check that report.html renders in a real browser, and Debian's pandas
# and matplotlib, used to run the pandas example of docs/results.md.
deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing chromium (report rendering test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! /usr/bin/python3 -c 'import pandas, matplotlib' >/dev/null 2>&1; then \
		echo "installing python3-pandas and python3-matplotlib (docs/results.md example test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pandas python3-matplotlib >/dev/null; \
	fi

test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./experiments

# demo runs every bundled experiment; each writes CSV, plots and
# report.html under out/<name>/ (replacing an earlier demo's results).
demo: build
	@for x in $$($(BIN) examples | awk '{print $$1}'); do \
		echo "== $$x"; $(BIN) run $$x --force --quiet || exit $$?; \
	done
	@echo "open out/<name>/report.html for each experiment's report and plots"

# bench-engine prints the engine's PHOLD throughput at 1k and 1M pending events.
bench-engine: build
	$(BIN) bench phold --lps 1000 --per-lp 1 --events 5000000
	$(BIN) bench phold --lps 1000 --per-lp 1000 --events 5000000

clean:
	rm -rf bin out
