# The README's two commands: `make run` and `make test`. Both set up .venv
# themselves on a fresh machine.
#
# `make run` installs only what the demo needs: the server (base
# dependencies) and the `printer` extra for the demo printer and kiosk agent
# (wheels only). `make test` adds the `dev` extra, which pulls in the card
# reader's pyscard: that one is built from source (swig, a C compiler,
# libpcsclite-dev) and belongs on the kiosk PC and the test machine, not on
# a machine that only wants to try the demo. Each has its own stamp, so
# `make run` then `make test` (or the other way round) both install what
# they need into the one .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench clean

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[printer,kiosk]'
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

# The whole demo: the demo data (open 00:00-24:00, so it works at night),
# then the server, a demo printer (a PNG of each ticket in var/printed/) and
# the demo kiosk's agent, stopped together by Ctrl+C. It prints the links
# (kiosk, display, booking, login; the admin password is in
# var/demo-login.txt, made at random on the first run).
run: $(RUN_STAMP)
	$(BIN)/madoguchi run-demo --always-open

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.engine_ops
	$(BIN)/python -m bench.estimate_accuracy
	$(BIN)/python -m bench.http_tickets
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.bookings
	$(BIN)/python -m bench.kiosk_print
	$(BIN)/python -m bench.day_simulation --load 1.0
	$(BIN)/python -m bench.day_simulation --load 2.5

clean:
	rm -rf $(VENV) var
