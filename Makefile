# The README's two commands: `make run` (the sidecar with its embedded defaults) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-python test-php bootstrap-run bootstrap-test demo-token lint-php

bootstrap-run:
	@scripts/bootstrap-debian.sh run

bootstrap-test:
	@scripts/bootstrap-debian.sh test

demo-token: bootstrap-run
	@$(VENV)/bin/edc-hsm demo-token

run: demo-token
	@$(VENV)/bin/edc-bridge serve --demo

test: bootstrap-test
	@$(MAKE) --no-print-directory test-python test-php

test-python:
	@$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-php: lint-php
	@phpunit --colors=never -c moodle_plugin/tests/unit/phpunit.xml

lint-php:
	@set -e; n=0; while IFS= read -r -d '' f; do php -l "$$f" >/dev/null || { php -l "$$f"; exit 1; }; n=$$((n+1)); done < <(find moodle_plugin tests/e2e -name '*.php' -print0); echo "php -l: $$n files OK"
