# One command to set up and run each job; the virtualenv is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench chromium spamassassin wrk clean
# The footer of every issue must carry a postal address; the demo uses a made-up one.
DEMO_POSTAL_ADDRESS := Room 1201, 88 Example Road, Shanghai 200000, China
# Where `mailer serve` answers on this machine: links in the demo's mail point there.
DEMO_BASE_URL := http://127.0.0.1:8080

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## demo: load the sample list, render the sample issues to out/, send #87 to the outbox,
## and say how to serve the pages its links point to
demo: $(STAMP)
	@$(BIN)/mailer init
	@$(BIN)/mailer lists --json | grep -q '"name": "sample"' || \
	  $(BIN)/mailer lists create sample --title "Sample readers"
	@$(BIN)/mailer subscribers import subscribers/sample.csv --list sample --confirmed
	@mkdir -p out
	@for issue in issues/[0-9]*.md; do \
	  name=$$(basename $$issue .md); \
	  $(BIN)/mailer render $$issue --format html -o out/$$name.html || exit 1; \
	  $(BIN)/mailer render $$issue --format text -o out/$$name.txt || exit 1; \
	  $(BIN)/mailer render $$issue --format eml -o out/$$name.eml || exit 1; \
	done
	@echo "Rendered the sample issues into $$(pwd)/out/ - open the .html files in a browser."
	@if $(BIN)/mailer issues --json | $(BIN)/python -c 'import json, sys; \
	    sys.exit(not any(e["number"] == 87 and "sample" in e["sent_to"] for e in json.load(sys.stdin)))'; then \
	  echo "#87 went to the list sample already (see mailer issues); not sent again."; \
	else \
	  MAILER_NEWSLETTER_POSTAL_ADDRESS="$(DEMO_POSTAL_ADDRESS)" MAILER_NEWSLETTER_BASE_URL="$(DEMO_BASE_URL)" \
	    $(BIN)/mailer send 87 --list sample --transport outbox --yes; \
	fi
	@echo "Serve the pages the mail links to (unsubscribe, preferences, archive) with:"
	@echo "  MAILER_NEWSLETTER_BASE_URL=$(DEMO_BASE_URL) $(BIN)/mailer serve --port 8080"
	@echo "then open $(DEMO_BASE_URL)/ in a browser (Ctrl+C stops the server)."

## chromium: Debian's chromium, which the browser tests drive headless
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

## spamassassin: Debian's SpamAssassin with the rules it ships, which the spam-score tests run
## offline (local tests only)
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq spamassassin >/dev/null; }
	@spamassassin --version | head -n 1

## wrk: Debian's wrk, the HTTP load generator bench/web.py drives
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check mailer tests bench
	$(BIN)/mypy

## test: set everything up, then lint and run the whole test suite
# Two worker processes by default (the suite waits on child processes and servers as much as on
# the CPU); each test file runs whole in one worker, so module-scoped servers start once.
TEST_WORKERS ?= 2
test: $(STAMP) chromium spamassassin lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

## bench: the benchmarks (JSON on stdout)
bench: $(STAMP) wrk
	$(BIN)/python bench/render.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/admin.py

clean:
	rm -rf $(VENV) out
