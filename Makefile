# Pagewise: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
STACK := localstack/stack.sh
UV := .venvs/uv/bin/uv
DEV := .venvs/dev/bin
# The IaC scanner an AWS reviewer runs (docs/template-security.md), pinned, in its own venv so
# its dependencies never meet the dev venv's.
CHECKOV_VERSION := 3.3.30
CHECKOV := .venvs/checkov/bin/checkov
SUB ?= alice

.PHONY: help system-deps setup dev checkov up down deploy outputs token demo test lint unit \
        stack-tests bench redrive invoke clean aws-check

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

system-deps: ## apt packages: tesseract + language packs, poppler-utils, DejaVu fonts
	scripts/install-system-deps.sh

setup: system-deps dev ## everything installed: system packages, the stack's venvs, the dev venv
	$(STACK) setup

dev: ## the dev/test venv (Python 3.13) with the client installed
	@[ -x $(UV) ] || { python3 -m venv .venvs/uv && .venvs/uv/bin/pip install -q uv; }
	@[ -x $(DEV)/python ] || $(UV) venv -q -p "$$($(STACK) python 3.13)" .venvs/dev
	$(UV) pip install -q -p .venvs/dev -e ".[dev]" -e client
	@# The OCR layer's traineddata beside the dev venv's tesserocr, where the engine looks in
	@# the layer (tessdata/ next to python/): the unit tests read what the layer ships.
	$(MAKE) -s -C layers/ocr tessdata TESSDATA_OUT="$$($(DEV)/python -c 'import pathlib, tesserocr; print(pathlib.Path(tesserocr.__file__).resolve().parents[2] / "tessdata")')"

checkov: ## the pinned checkov in .venvs/checkov (Python 3.12)
	@[ -x $(UV) ] || { python3 -m venv .venvs/uv && .venvs/uv/bin/pip install -q uv; }
	@[ -x .venvs/checkov/bin/python ] || $(UV) venv -q -p "$$($(STACK) python 3.12)" .venvs/checkov
	@$(CHECKOV) --version 2>/dev/null | grep -qx '$(CHECKOV_VERSION)' \
	  || $(UV) pip install -q -p .venvs/checkov 'checkov==$(CHECKOV_VERSION)'

up: setup ## start LocalStack + SecantusDB on 127.0.0.1 and deploy template.yaml
	$(STACK) up

down: ## stop what `make up` started, by PID
	$(STACK) down

deploy: ## sam build + sam deploy to the running local stack
	$(STACK) deploy

outputs: ## the stack outputs as JSON (ApiUrl, ...)
	@$(STACK) outputs

redrive: ## move dead-lettered upload notifications back to the ingest queue
	$(STACK) redrive

token: ## print a local-stack JWT: make token SUB=alice
	@$(DEV)/python -c "from pagewise_client.local import local_token; print(local_token('$(SUB)'))"

invoke: ## invoke a deployed function with a sample event: make invoke EVENT=events/... [JOB=id]
	@[ -n "$(EVENT)" ] || { echo "usage: make invoke EVENT=events/<Function>/<case>.json [JOB=<job id>] [FUNCTION=<logical id>]" >&2; exit 2; }
	$(DEV)/python scripts/invoke.py "$(EVENT)" $(if $(JOB),--job "$(JOB)") $(if $(FUNCTION),--function "$(FUNCTION)")

demo: up ## process samples/contrato-2-paginas.pdf through the API with the pagewise CLI
	$(DEV)/pagewise submit samples/contrato-2-paginas.pdf --wait --out out/

lint: dev checkov ## ruff, mypy, and the template checks
	$(DEV)/ruff check .
	$(DEV)/ruff format --check .
	$(DEV)/mypy layers/common/pagewise functions client scripts/aws_check
	@# Any failed check fails the build; each accepted exception is argued in the template.
	$(CHECKOV) -f template.yaml --framework cloudformation --compact --quiet --skip-download
	@# The executor runs inside LocalStack: checked against LocalStack's own venv, from its
	@# folder (the repo's localstack/ folder would shadow the localstack package).
	cd localstack/host_executor && ../../$(DEV)/mypy --python-executable ../../.venvs/localstack/bin/python src

# What `sam deploy` would upload to AWS (sam build, default config env, into .aws-sam-aws/),
# checked against Lambda's runtime and limits (scripts/aws_check, docs/ocr-engine.md); then
# scripts/aws_limits.py (Step Functions history, response and document sizes) when present.
aws-check: dev ## build for AWS and check glibc, shared libraries, sizes, handler imports
	$(DEV)/python -m scripts.aws_check
	@if [ -f scripts/aws_limits.py ]; then $(DEV)/python scripts/aws_limits.py; fi

unit: dev ## unit tests (no local stack needed)
	$(DEV)/python -m pytest tests/unit -q

stack-tests: ## integration and e2e tests against the running, deployed local stack
	$(DEV)/python -m pytest tests/integration tests/e2e -q

bench: up ## every benchmark against the running stack, one table, bench/RESULTS.md (smoke runs are in `make test`)
	scripts/install-bench-deps.sh
	$(DEV)/python bench/run.py

# Installs what the tests need, starts and deploys the stack, runs every test, and stops the
# stack again if it was not running before.
test: setup lint aws-check
	@started=0; \
	if ! $(STACK) running; then started=1; fi; \
	$(STACK) up || { [ $$started = 1 ] && $(STACK) down; exit 1; }; \
	$(DEV)/python -m pytest tests -q -p no:cacheprovider; status=$$?; \
	[ $$started = 1 ] && $(STACK) down; \
	exit $$status

clean: down
	rm -rf .aws-sam .aws-sam-aws .pagewise out
