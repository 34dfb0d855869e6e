# Two commands: `make run` (demo on SQLite at http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Exported: with PUBLIC_BASE_URL unset, links, QR codes and mail point at this host and port.
export HOST PORT
# Two workers: the machine this runs on has two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test setup serve lint typecheck format translations extract-messages clean bench

run: setup
	$(BIN)/referral db upgrade
	$(BIN)/referral demo
	@echo ""
	@echo "  referral is running at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin)"
	@echo "  Sign in with demo@example.com / demo-password"
	@echo ""
	@# The mail worker beside the server (mail never leaves inside a request); both stop together.
	$(BIN)/huey_consumer referral.tasks.huey --workers 1 --quiet & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/referral run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d referral/translations

# Re-extract messages.pot and merge it into every catalogue (creating missing ones).
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ \
		--add-comments=TRANSLATORS: --project=referral --no-location --sort-output \
		-o referral/translations/messages.pot .
	@for locale in en de nl zh_Hans zh_Hant; do \
		test -f referral/translations/$$locale/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel init -i referral/translations/messages.pot -d referral/translations -l $$locale; \
	done
	$(BIN)/pybabel update -i referral/translations/messages.pot -d referral/translations \
		--no-fuzzy-matching --ignore-obsolete

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy over referral/ ([tool.mypy] in pyproject.toml): the domain strictly, the rest checked.
typecheck: $(VENV)/.installed
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/spread.py --sizes 10000,100000

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .hypothesis .ruff_cache
