# mailops.orchestrator_email: `make run` (the demo) and `make test` (every test).
# Both set up what they need in .venv/ and build/ and can be run again at any time.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV)/bin)
BUILD := build
COLLECTIONS := $(abspath $(BUILD)/collections)
INSTALLED := $(COLLECTIONS)/ansible_collections/mailops/orchestrator_email
SRC_LINK := $(BUILD)/src/ansible_collections/mailops/orchestrator_email
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(BUILD)/mailops-orchestrator_email-$(VERSION).tar.gz
COLLECTION_FILES := $(shell git ls-files --cached --others --exclude-standard -- galaxy.yml meta plugins roles schemas playbooks README.md CHANGELOG.md changelogs 2>/dev/null)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv build install schema readme changelog changelog-lint unit integration sanity lint docs artifact molecule test run bench clean

help:
	@echo "make run    - demo: loopback SMTP server, apply the example config, show the email"
	@echo "make test   - every test (unit, integration, artifact, sanity, lint, docs, changelog, molecule)"
	@echo "make bench  - the benchmark (prints a table, writes benchmarks/results.md)"
	@echo "make clean  - remove .venv/ and build/"

# --- environment ---------------------------------------------------------------------------
$(VENV)/.stamp-%: requirements/%.txt requirements/run.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=23'
	$(BIN)/python -m pip install -q -r $<
	touch $@

venv: $(VENV)/.stamp-test

$(SRC_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(abspath .) $@

# --- the collection, built and installed as users get it ------------------------------------
$(TARBALL): $(VENV)/.stamp-run $(COLLECTION_FILES)
	mkdir -p $(BUILD)
	rm -f $(BUILD)/mailops-orchestrator_email-*.tar.gz
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) . >/dev/null

$(INSTALLED)/MANIFEST.json: $(TARBALL)
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) $(TARBALL) >/dev/null
	@echo "installed $(TARBALL) into $(COLLECTIONS)"

build: $(TARBALL)
install: $(INSTALLED)/MANIFEST.json

schema: $(VENV)/.stamp-run $(SRC_LINK)
	$(BIN)/python tools/build_schema.py

readme:
	$(PYTHON) tools/build_readme.py

# CHANGELOG.md for the current version from changelogs/fragments (fragments are kept).
RELEASE_DATE := 2026-11-24
changelog: $(VENV)/.stamp-test
	rm -f changelogs/changelog.yaml
	$(BIN)/antsibull-changelog release --version $(VERSION) --date $(RELEASE_DATE)

# --- tests -----------------------------------------------------------------------------------
unit: $(VENV)/.stamp-test $(SRC_LINK)
	$(BIN)/python -m pytest -q tests/unit

integration: $(VENV)/.stamp-test install
	$(BIN)/python -m pytest -q tests/integration

sanity: $(VENV)/.stamp-test
	tools/sanity.sh

lint: $(VENV)/.stamp-test install
	$(BIN)/ansible-lint --nocolor --profile production

docs: $(VENV)/.stamp-test install
	tools/docs.sh

# The built tarball lists every module/role/playbook, carries no dev files, installs, and runs.
artifact: $(VENV)/.stamp-test build
	tools/artifact.sh $(TARBALL)

changelog-lint: $(VENV)/.stamp-test
	RELEASE_DATE=$(RELEASE_DATE) tools/changelog.sh

molecule: $(VENV)/.stamp-test install
	cd roles/smtp && $(BIN)/molecule test
	cd roles/gmail && $(BIN)/molecule test

test: unit integration artifact sanity lint docs changelog-lint molecule
	@echo "make test: every suite passed (unit, integration, artifact, sanity, lint, docs, changelog, molecule)"

# --- the demo --------------------------------------------------------------------------------
run: $(VENV)/.stamp-run install
	$(BIN)/python tools/demo.py

# --- the benchmark (not a test: it prints a table and writes benchmarks/results.md) -------------
bench: $(VENV)/.stamp-test $(VENV)/.stamp-bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BUILD)
