# Megafon. `make run` starts it on embedded defaults; `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint translations extract-messages update-messages bench worker clean

run: $(STAMP) translations
	MEGAFON_DEMO_DATA=$${MEGAFON_DEMO_DATA:-true} $(BIN)/megafon run

test: $(STAMP) translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-auto} -q --durations=15 \
		--timeout=$${PYTEST_TIMEOUT:-300} $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

worker: $(STAMP)
	$(BIN)/megafon worker

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Megafon needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d web/translations -D messages --statistics 2>&1 | tail -n 1

# Catalogue upkeep: extract new msgids, merge them into each language, then translate the .po.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _l -o web/translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -D messages

clean:
	rm -rf $(VENV) instance .pytest_cache
