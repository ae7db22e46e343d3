# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
SHIFTGATE := $(VENV)/bin/shiftgate
PYTEST_ARGS ?=

.PHONY: demo test lint sandbox-up sandbox-down system venv clean report report-deps

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Bytecode for the project's own modules, whatever PYTHONDONTWRITEBYTECODE says: an editable
# install leaves none, and every gate process would compile shiftgate from source again
# (~75 ms of its start-up). Incremental: only changed files are compiled again.
venv: $(VENV)/.installed
	@$(PY) -m compileall -q shiftgate

system:
	@bash sandbox/install-system-packages.sh

sandbox-up: venv system
	$(SHIFTGATE) sandbox up

sandbox-down: venv
	$(SHIFTGATE) sandbox down

# The runbook's story on the sandbox: blocked, remediated, promoted, rolled back.
demo: sandbox-up report-deps
	$(PY) sandbox/demo.py; status=$$?; $(SHIFTGATE) report; exit $$status

# Allure Report 3 (npm package `allure`, pinned by package-lock.json) into node_modules/.
node_modules/.bin/allure: package.json package-lock.json
	npm install --no-audit --no-fund
	touch $@

report-deps: node_modules/.bin/allure

# The HTML report (reports/html, history in reports/history.jsonl) and reports/summary.md.
report: venv report-deps
	$(SHIFTGATE) report

test: venv system lint report-deps
	$(PY) -m pytest tests $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean: sandbox-down
	rm -rf .sandbox .sandbox-test reports/allure-results reports/junit
