# Entry points: `make test` (everything CI runs) and `make demo` (provision a lab host).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.lab/collections
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export LAB_DIR := $(CURDIR)/.lab
SCENARIOS ?= os_packages hostile model cpu_node gpu_node cluster gateway
# Too long for CI's hour on 2 cores: a real vLLM source build (36-57 minutes cold), an arm64
# host under qemu-user (about 35 minutes cold), an air-gapped host converged from a bundle
# built in the scenario (about 11 minutes). Run with `make test-long`.
LONG_SCENARIOS ?= source_build arm64_cpu_node airgap

help: ## list the targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv==0.13.9
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create the dev venv (pinned tools)

# Molecule and ansible-lint (ansible-compat) install a copy of this collection under
# ~/.ansible/collections; a stale copy shadows the checkout, so it is removed first.
collection-link: ## make this checkout resolvable as inferops.inference
	rm -rf $(HOME)/.ansible/collections/ansible_collections/inferops/inference
	mkdir -p .lab/collections/ansible_collections/inferops
	# Only when missing or wrong: `make test` runs lint, unit and sanity side by side.
	[ "$$(readlink .lab/collections/ansible_collections/inferops/inference)" = ../../../.. ] \
	  || ln -sfn ../../../.. .lab/collections/ansible_collections/inferops/inference

lab: venv collection-link ## start Docker if needed and build the lab images
	tests/lab/ensure-docker.sh
	tests/lab/build-image.sh bookworm
	tests/lab/build-image.sh bullseye
	tests/lab/prepare.sh

lab-long: lab ## also the lab of the long scenarios: Debian 13 and arm64 images, qemu-user
	tests/lab/build-image.sh trixie
	tests/lab/build-image.sh bookworm arm64
	tests/lab/kunpeng-cpuinfo.sh .lab/kunpeng920-cpuinfo
	mkdir -p .lab/ccache .lab/uv-cache-trixie .lab/uv-cache-arm64 .lab/bundles-source

lint: venv collection-link ## yamllint + ansible-lint (production profile)
	yamllint -s .
	ansible-lint --offline

unit: venv collection-link ## unit tests and a smoke play, under the pinned and the newest ansible-core
	tests/lab/parsers.sh
	VENV_DIR=$(VENV) tests/matrix/run.sh

sanity: venv ## ansible-test sanity, its pinned requirements from PyPI (tests/sanity/run.sh)
	VENV_DIR=$(VENV) tests/sanity/run.sh

molecule: lab ## run every Molecule scenario in SCENARIOS, then print their times
	tests/lab/run-scenarios.sh $(SCENARIOS)

galaxy: lab ## build the collection, install the tarball, run a playbook by FQCN
	tests/galaxy/test-galaxy-install.sh

# Each stage timed, and a table of the stages' and scenarios' times at the end. lint, unit and
# sanity (&: in the background, tests/lab/suite.sh) run beside the lab and the first scenarios.
test: ## everything CI runs: venv, lint, unit, sanity, lab, molecule, galaxy
	tests/lab/suite.sh venv '&lint' '&unit' '&sanity' lab molecule galaxy

test-long: lab-long ## the long scenarios (LONG_SCENARIOS): source build, arm64 host, air-gapped host
	$(MAKE) molecule SCENARIOS="$(LONG_SCENARIOS)"

bench: lab ## benchmark cpu_node: fresh converge by phase, and the re-run
	python tests/bench/converge_bench.py

bench-model: lab ## benchmark model downloads: the model role vs a plain hf download
	python tests/bench/model_bench.py

demo: lab ## provision a local lab container as an inference host
	tests/lab/demo.sh

clean: ## remove lab containers (images and venv are kept)
	-docker rm -f $$(docker ps -aq --filter label=inferops-lab) 2>/dev/null

.PHONY: help venv collection-link lab lab-long lint unit sanity molecule galaxy test test-long bench bench-model demo clean
