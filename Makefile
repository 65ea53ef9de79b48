# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app portfolio
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install system-deps demo clean translations worker beat

# Compiled message catalogues, rebuilt whenever a .po file changes.
MO := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

run: $(STAMP) $(MO)
	PORTFOLIO_SANDBOX=1 $(FLASK) db upgrade
	PORTFOLIO_SANDBOX=1 PORTFOLIO_BASE_URL=http://$(HOST):$(PORT) $(FLASK) demo load
	PORTFOLIO_SANDBOX=1 PORTFOLIO_BASE_URL=http://$(HOST):$(PORT) $(FLASK) run --host $(HOST) --port $(PORT) --with-threads

test: $(STAMP) $(MO)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Background work on Redis (PORTFOLIO_REDIS_URL must be set, as for the app servers):
# any number of workers, and exactly one beat for the whole deployment.
worker: $(STAMP)
	@test -n "$$PORTFOLIO_REDIS_URL" || { echo "error: set PORTFOLIO_REDIS_URL (without it, jobs run inside the app)"; exit 1; }
	$(BIN)/celery -A portfolio.jobs:celery worker --loglevel=INFO

beat: $(STAMP)
	@test -n "$$PORTFOLIO_REDIS_URL" || { echo "error: set PORTFOLIO_REDIS_URL (without it, jobs run inside the app)"; exit 1; }
	$(BIN)/celery -A portfolio.jobs:celery beat --loglevel=INFO --schedule $${PORTFOLIO_INSTANCE_DIR:-instance}/celerybeat-schedule

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

# After changing user-facing strings: extract them and merge them into every catalogue.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-output --no-location \
		--project internship-portfolio -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

install: $(STAMP)

# The virtual environment is rebuilt whenever the declared dependencies change.
$(STAMP): pyproject.toml scripts/system-deps
	@scripts/system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "error: cannot create a virtual environment: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) instance .pytest_cache
