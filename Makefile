# certify — the two everyday commands are `make run` and `make test` (see README.md).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
PORT ?= 5000
export FLASK_APP := certify

SYSTEM_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
# The tests also start servers of their own from these: PostgreSQL clusters (a primary and its
# replica), a Redis they stop and start, and nginx in front of two web hosts.
TEST_SYSTEM_PACKAGES := $(SYSTEM_PACKAGES) chromium postgresql-client postgresql redis-server nginx
# The load generator of `make bench` (a threaded Python one is used if it is missing).
BENCH_SYSTEM_PACKAGES := wrk

# The Chinese PDF font is converted once into instance/fonts (about a minute the first time).
fonts: $(VENV)/.installed instance/secret_key
	@$(FLASK) pdf prepare-fonts

.PHONY: install install-test system-packages test-system-packages translations fonts run test e2e lint bench \
        messages clean

install: system-packages $(VENV)/.installed translations instance/secret_key fonts

install-test: test-system-packages $(VENV)/.installed-test translations instance/secret_key fonts

system-packages:
	@sh scripts/system-packages $(SYSTEM_PACKAGES)

test-system-packages:
	@sh scripts/system-packages $(TEST_SYSTEM_PACKAGES)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --editable .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet --editable '.[test]'
	@touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile --use-fuzzy --statistics -d certify/translations 2>&1 | grep -v '^$$' || true

instance/keys/signing-key.pem: | $(VENV)/.installed instance/secret_key
	$(FLASK) keys init

instance/secret_key: | $(PY)
	@mkdir -p instance
	@$(PY) -c 'import secrets; print(secrets.token_hex(32))' > $@
	@chmod 600 $@

run: export CERTIFY_BASE_URL ?= http://127.0.0.1:$(PORT)
# Certificates are signed from the first start: unless a key is configured, a development pair is
# made once in instance/keys (self-signed and marked "development"; `flask doctor` refuses it).
ifndef CERTIFY_SIGNING_KEY
run: export CERTIFY_SIGNING_KEY := $(CURDIR)/instance/keys/signing-key.pem
run: export CERTIFY_SIGNING_CERT := $(CURDIR)/instance/keys/signing-cert.pem
run: instance/keys/signing-key.pem
endif
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://127.0.0.1:$(PORT)"
	$(VENV)/bin/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: install-test
	$(PY) -m pytest -q

# Static checks: ruff with its security rules (exceptions are justified inline).
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

# The browser journey alone (also part of `make test`); screenshots in test-output/e2e/.
e2e: install-test
	$(PY) -m pytest -q tests/e2e

# Figures as ratios against references measured in the same run (see bench/); the first run
# builds its databases (100,000 applications in SQLite in instance/bench, and on the local
# PostgreSQL 100,000 applications and 100,000 certificates; several minutes each), later runs reuse them.
bench: install-test
	@sh scripts/system-packages $(BENCH_SYSTEM_PACKAGES)
	$(PY) -m bench

# Refreshes the translation catalogues after strings change in code or templates.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o certify/translations/messages.pot --no-location --sort-output --project certify certify templates
	$(VENV)/bin/pybabel update -i certify/translations/messages.pot -d certify/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
