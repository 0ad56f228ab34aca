# The README's two commands: `make run` and `make test`. Both set up .venv
# themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo prints how to log in: the URL, the admin login name, and the file
# (var/demo-login.txt) holding its password, made at random on the first run.
run: $(STAMP)
	$(BIN)/madoguchi demo --tokens var/demo-tokens.json --login var/demo-login.txt
	$(BIN)/madoguchi serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
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
