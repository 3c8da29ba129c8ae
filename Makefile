# The two commands a newcomer needs: `make plan STACK=ukdac-dev` and `make test`.
# Both build .venv from nothing when it is missing or when the dependency files changed.
SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ukdac-installed
STACK  ?= ukdac-dev
SRC    := components infra

CLOUD_DIR ?= /tmp/ukdac-testcloud

.PHONY: venv bytecode plan kube kube-up kube-down test-kube test lint typecheck unit rclone-tool test-cloud test-upstream engine test-engine bench-engine mutation cloud-up cloud-down bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

# The project's own bytecode, as pip writes it for an installed package: an editable install
# has none, and where PYTHONDONTWRITEBYTECODE is set every command would compile ukdac's
# modules again (a tenth of `ukdac plan`). Up to date, this takes a few hundredths of a second.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q $(SRC) policies >/dev/null

# The upstream tier's extra (Helm's SDK), on top of the unit suite's environment.
UPSTREAM_STAMP := $(VENV)/.ukdac-upstream-installed
$(UPSTREAM_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,upstream]'
	@touch $@

venv: $(STAMP)

plan: bytecode
	$(BIN)/ukdac plan $(STACK)

lint: $(STAMP)
	$(BIN)/ruff check $(SRC) policies tests bench tools
	$(BIN)/ruff format --check $(SRC) policies tests bench tools
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows

typecheck: $(STAMP)
	$(BIN)/mypy $(SRC) policies tools

unit: $(STAMP)
	$(BIN)/pytest -q -m "not cloud and not upstream and not engine and not kube"

test: lint typecheck unit

# The real OpenStack on 127.0.0.1 (tests/cloud/up.sh: Debian 12's OpenStack Zed packages, needs
# root and about 4 minutes the first time), the cloud tests against it, then stop it.
cloud-up:
	OSBOX_DIR=$(CLOUD_DIR) tests/cloud/up.sh | tee $(CLOUD_DIR)-up.log

cloud-down:
	OSBOX_DIR=$(CLOUD_DIR) tests/cloud/down.sh

# rclone (the snapshot uploader) is built from its Go module at the pinned version, once,
# before the cloud starts; the recipe then only asks the script for its path.
rclone-tool:
	tools/rclone.sh >/dev/null

test-cloud: $(STAMP) rclone-tool cloud-up
	status=0; rclone=$$(tools/rclone.sh) || status=$$?; \
	[ $$status -ne 0 ] || OSBOX_DIR=$(CLOUD_DIR) OS_CLIENT_CONFIG_FILE=$(CLOUD_DIR)/etc/openstack/clouds.yaml \
	UKDAC_REQUIRE_CLOUD=1 UKDAC_RCLONE=$$rclone $(BIN)/pytest -q -m cloud tests/cloud || status=$$?; \
	OSBOX_DIR=$(CLOUD_DIR) tests/cloud/down.sh; exit $$status

# Tiers against upstream snapshots (charts, qserv-operator, later phalanx), named by
# variables; .ci/run points them at ../shared/upstream and makes their absence a failure.
UPSTREAM ?= ../shared/upstream
test-upstream: $(UPSTREAM_STAMP)
	UKDAC_CHARTS_DIR=$${UKDAC_CHARTS_DIR:-$(UPSTREAM)/charts} \
	UKDAC_QSERV_OPERATOR_DIR=$${UKDAC_QSERV_OPERATOR_DIR:-$(UPSTREAM)/qserv-operator} \
	UKDAC_PHALANX_DIR=$${UKDAC_PHALANX_DIR:-$(UPSTREAM)/phalanx} \
	$(BIN)/pytest -q -m upstream tests/upstream

# The real Pulumi engine (tools/engine.sh): the CLI from Go modules, the language host and the
# providers from the engine source bundle, built outside the repository and reused.
engine:
	UKDAC_ENGINE_SOURCES=$${UKDAC_ENGINE_SOURCES:-$(UPSTREAM)/engine} tools/engine.sh

# A local Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler, kwok)
# and Pulumi's Kubernetes provider, from the Go module proxy (tools/kube.sh; cached outside
# the repository, slowest first).
kube: engine
	tools/kube.sh

# Start it for your own work (`KUBE_STACK=ukdac-dev` adds that stack's nodes); prints the
# admin kubeconfig's path. `make kube-down` stops it by process id.
kube-up: $(STAMP) kube
	$(BIN)/python -m tests.kube.control_plane up $(if $(KUBE_STACK),--stack $(KUBE_STACK))

kube-down: $(STAMP)
	$(BIN)/python -m tests.kube.control_plane down

# The whole program under the real engine: the cloud layer on the test cloud, the platform
# layer on the local control plane (tests/kube), then both stopped.
test-kube: $(STAMP) kube rclone-tool cloud-up
	status=0; rclone=$$(tools/rclone.sh) || status=$$?; \
	[ $$status -ne 0 ] || OSBOX_DIR=$(CLOUD_DIR) OS_CLIENT_CONFIG_FILE=$(CLOUD_DIR)/etc/openstack/clouds.yaml \
	UKDAC_UPSTREAM_DIR=$(UPSTREAM) UKDAC_REQUIRE_CLOUD=1 UKDAC_REQUIRE_ENGINE=1 UKDAC_REQUIRE_KUBE=1 \
	UKDAC_RCLONE=$$rclone $(BIN)/pytest -q -m kube tests/kube || status=$$?; \
	OSBOX_DIR=$(CLOUD_DIR) tests/cloud/down.sh; exit $$status

# The real engine (built by `make engine`) against the test cloud: tests/engine, then stop it.
test-engine: $(STAMP) engine cloud-up
	status=0; OSBOX_DIR=$(CLOUD_DIR) OS_CLIENT_CONFIG_FILE=$(CLOUD_DIR)/etc/openstack/clouds.yaml \
	UKDAC_REQUIRE_CLOUD=1 UKDAC_REQUIRE_ENGINE=1 $(BIN)/pytest -q -m engine tests/engine || status=$$?; \
	OSBOX_DIR=$(CLOUD_DIR) tests/cloud/down.sh; exit $$status

# Offline plan, real preview, up, no-change preview and destroy of one stack, timed in one run
# (needs `make engine` and a running test cloud: `make cloud-up`).
bench-engine: $(STAMP) engine
	OS_CLIENT_CONFIG_FILE=$(CLOUD_DIR)/etc/openstack/clouds.yaml $(BIN)/python bench/engine.py

# Mutation testing of the core modules (tools/mutation.py; slow: run by a weekly workflow).
MUTATION_SAMPLE ?= 40
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py --sample $(MUTATION_SAMPLE)

bench: bytecode
	$(BIN)/python bench/plan.py

bench-preflight: $(STAMP)
	OSBOX_DIR=$(CLOUD_DIR) OS_CLIENT_CONFIG_FILE=$(CLOUD_DIR)/etc/openstack/clouds.yaml \
	UKDAC_CLOUD_UP_LOG=$(CLOUD_DIR)-up.log $(BIN)/python -W ignore bench/preflight.py

# Re-pin every dependency to what resolves today (review the diff before committing).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,upstream]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | sort > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
