# Two commands matter: `make run` (set up and serve on SQLite with demo users) and `make test`
# (set up and run every test). Everything they need is installed from here, so a fresh clone works.

VENV        := .venv
PY          := $(VENV)/bin/python
FLASK       := $(VENV)/bin/flask --app decision_aid
PY_STAMP    := $(VENV)/.installed
NODE_STAMP  := node_modules/.installed
STATIC_DIR  := decision_aid/static
CSS         := $(STATIC_DIR)/css/app.css $(STATIC_DIR)/css/print.css
JS          := $(STATIC_DIR)/js/govuk-frontend.min.js
RUN_DEPS    := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 poppler-utils \
               libsqlite3-dev libssl-dev
# (the last two: headers for decision_aid/_sqlitec.c, built by pip from setup.py)
TEST_DEPS   := chromium default-jre-headless
HYPOTHESIS_PROFILE ?= fast
PYTEST_ARGS ?=

export FLASK_APP := decision_aid

.PHONY: run test test-deep setup setup-test sysdeps sysdeps-test static db seed bench soak lint clean sbom

run: setup db seed
	DECISION_AID_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) run --host 127.0.0.1 --port 5000

# ruff and mypy first: a lint or type error fails the run in seconds, before the suite.
test: setup-test
	$(VENV)/bin/ruff check decision_aid rules tests bench
	$(VENV)/bin/mypy decision_aid rules
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The deep Hypothesis profile (10,000 examples) on the property tests: rule engine, canonical
# audit bytes, tampering detection, the C and Python hash loops compared (2,000 there), case
# references. Hours if applied to the whole suite.
DEEP_TESTS := tests/unit/rules/test_properties.py tests/unit/rules/test_schemas.py \
              tests/unit/audit/test_canonical.py tests/unit/audit/test_native.py \
              tests/integration/audit/test_tampering.py tests/unit/wizard/test_case_reference.py

test-deep: setup-test
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -n 2 --dist loadfile $(DEEP_TESTS) $(PYTEST_ARGS)

setup: sysdeps $(PY_STAMP) static instance/secret_key

setup-test: setup sysdeps-test

sysdeps:
	@bin/ensure-system-packages $(RUN_DEPS)

sysdeps-test:
	@bin/ensure-system-packages $(TEST_DEPS)

$(PY_STAMP): setup.cfg pyproject.toml setup.py decision_aid/_sqlitec.c
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static: $(CSS) $(JS) $(STATIC_DIR)/js/app.js $(STATIC_DIR)/js/timeout.js

$(CSS): $(NODE_STAMP) $(wildcard assets/scss/*.scss)
	mkdir -p $(STATIC_DIR)/css
	npx sass --no-source-map --quiet-deps --load-path=node_modules assets/scss/app.scss $(STATIC_DIR)/css/app.css
	npx sass --no-source-map assets/scss/print.scss $(STATIC_DIR)/css/print.css

$(JS): $(NODE_STAMP)
	mkdir -p $(STATIC_DIR)/js
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $@

$(STATIC_DIR)/js/app.js: assets/js/app.js
	mkdir -p $(STATIC_DIR)/js
	cp $< $@

$(STATIC_DIR)/js/timeout.js: assets/js/timeout.js
	mkdir -p $(STATIC_DIR)/js
	cp $< $@

instance/secret_key:
	mkdir -p instance
	$(PY) -c "import secrets; print(secrets.token_hex(32))" > $@
	chmod 600 $@

db: setup
	DECISION_AID_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) db upgrade

seed: db
	DECISION_AID_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) seed-demo

bench: setup
	$(PY) bench/run_all.py $(BENCH_ARGS)

soak: setup
	$(PY) bench/soak.py $(SOAK_ARGS)

lint: setup
	$(VENV)/bin/ruff check decision_aid rules tests bench
	$(VENV)/bin/mypy decision_aid rules

clean:
	rm -rf $(VENV) node_modules $(STATIC_DIR)/css $(STATIC_DIR)/js .pytest_cache

sbom: setup
	$(PY) bin/supply-chain sbom --out build/sbom.cdx.json
