# onestack: `make up` starts a cloud, `make test` proves it works.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?=
AREA ?= identity
APT_PACKAGES := python3-venv postgresql postgresql-contrib qemu-utils qemu-system-x86 seabios linux-image-cloud-amd64 \
	busybox-static dropbear-bin genisoimage syslinux syslinux-common mtools dosfstools iproute2 \
	dnsmasq-base haproxy radvd nftables iptables conntrack novnc runc chromium rclone
# A throwaway Ceph cluster (make ceph) and the tests against one: installed apart, as they are larger.
CEPH_PACKAGES := ceph-mon ceph-osd ceph-mgr ceph-common librados2 python3-rados python3-rbd qemu-block-extra
CEPH_DIR ?= .ceph
STAMP := $(VENV)/.installed

.PHONY: install up down purge status test test-unit test-workers test-hosts check conformance bench docs clean postgres audit screenshots fuzz chaos \
	load load-workers \
	ceph ceph-down ceph-packages ceph-test

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh Makefile
	scripts/install-system.sh $(APT_PACKAGES)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

up: install
	$(VENV)/bin/onestack up --detach $(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(if $(TLS),--tls)
	$(VENV)/bin/onestack image register $(if $(DATA_DIR),--data-dir $(DATA_DIR))

down:
	$(VENV)/bin/onestack down $(if $(DATA_DIR),--data-dir $(DATA_DIR))

purge:
	$(VENV)/bin/onestack down --purge $(if $(DATA_DIR),--data-dir $(DATA_DIR))

status:
	$(VENV)/bin/onestack status $(if $(DATA_DIR),--data-dir $(DATA_DIR))

postgres: install
	scripts/postgres-up.sh

# The Ceph tests start their own throwaway cluster (about 20 s) and skip, saying why, where Ceph cannot run;
# a failed package install (no apt) only leaves them skipped.  The suite's temporary dirs (clouds' data dirs)
# live in a base dir of its own: pytest started elsewhere on the machine prunes old runs under its default
# base and would delete a running suite's clouds.
# Three test workers on two cores: a worker waits on its cloud (a server's reply, a guest's boot, a client's
# poll) much of the time, and a third keeps the cores busy then (docs/testing.md#workers).
# The stories of several joined hosts (marker `hosts`) run apart, in `make test-hosts`, which CI runs too:
# with them the suite outgrew its 25 minutes on two cores (docs/testing.md#hosts).
TEST_WORKERS ?= 3
test: install postgres check
	-scripts/install-system.sh $(CEPH_PACKAGES)
	ONESTACK_TEST_POSTGRES=$$(scripts/postgres-up.sh --url) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -q \
		-m "not hosts" --basetemp=/tmp/onestack-make-test --durations=30

# Real guests and the fake driver on two and three hosts joined over PostgreSQL: live and cold moves,
# evacuation, a joined host's crash.
test-hosts: install postgres
	ONESTACK_TEST_POSTGRES=$$(scripts/postgres-up.sh --url) $(PY) -m pytest -n 2 --dist loadgroup -q -m hosts \
		--basetemp=/tmp/onestack-make-test-hosts --durations=11

# The API suites again, against clouds of two serving processes on PostgreSQL (each test worker its own).
test-workers: install postgres
	ONESTACK_TEST_WORKERS=2 ONESTACK_TEST_POSTGRES=$$(scripts/postgres-up.sh --url) $(PY) -m pytest -n 2 -q tests/api \
		--durations=20

check: install
	$(VENV)/bin/ruff check onestack tests bench scripts
	$(VENV)/bin/lint-imports

# Schemathesis over every operation of every service (the object store's raw-body routes too), 25 cases an
# operation as the admin, a member and a reader; `make test` runs the same with 3 cases and no object store.
FUZZ_EXAMPLES ?= 25
# It also runs the parsers' property tests (tests/unit/test_properties_*.py, tests/api/test_properties_*.py)
# with PROPERTY_SCALE times their `make test` examples.
PROPERTY_SCALE ?= 10
fuzz: install
	ONESTACK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ONESTACK_FUZZ_ALL=1 $(PY) -m pytest -n 0 -q -s tests/hardening/test_fuzz.py
	ONESTACK_PROPERTY_SCALE=$(PROPERTY_SCALE) $(PY) -m pytest -n 2 -q tests/unit/test_properties_*.py \
		tests/api/test_properties_*.py

# kill -9 of the server at random moments under a mixed workload, CHAOS_KILLS times over CHAOS_SECONDS, then
# the invariants (docs/hardening.md#chaos); `make test` runs the same with 3 kills over about 20 s.
CHAOS_KILLS ?= 25
CHAOS_SECONDS ?= 240
CHAOS_SEED ?= 19
CHAOS_DATAPLANE ?= 1
CHAOS_QEMU ?= 1
chaos: install
	CHAOS_KILLS=$(CHAOS_KILLS) CHAOS_SECONDS=$(CHAOS_SECONDS) CHAOS_SEED=$(CHAOS_SEED) CHAOS_DATAPLANE=$(CHAOS_DATAPLANE) \
		CHAOS_QEMU=$(CHAOS_QEMU) \
		$(PY) -m pytest -n 0 -q -s tests/hardening/test_chaos.py

# Sustained load (bench/sustained.py): LOAD_USERS Locust tenants on a mixed read/write workload across the
# services for LOAD_SECONDS; p50/p95/p99 and errors per operation, the server's RSS drift and open fds.
# `make load` runs on SQLite with one serving process, `make load-workers` on PostgreSQL with two;
# Both fail (exit 1) on a leak: RSS at the end more than 10% above its value after the first minute, or open
# fds not steady (bench/sustained.py --assert-steady). `make test` runs 10 users for 25 s and only reports
# them (tests/hardening/test_load.py): too short to tell a leak from warming up.
LOAD_USERS ?= 50
LOAD_SECONDS ?= 600
load: install
	$(PY) bench/sustained.py --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) --assert-steady \
		--json bench/results/load-sqlite.json

load-workers: install postgres
	$(PY) bench/sustained.py --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) --workers 2 --assert-steady \
		--postgres $$(scripts/postgres-up.sh --url) --json bench/results/load-postgres-2workers.json

# re-read every stored object; damaged ones are quarantined and reported (exit status 1 if any)
audit:
	$(PY) -m onestack.services.object.reconcile.auditor $(DATA_DIR)

conformance: install
	scripts/conformance.sh $(AREA)

bench: install
	$(PY) bench/run.py

# A one-node cluster (mon, mgr, one BlueStore OSD on a sparse file) under CEPH_DIR on 127.0.0.1; prints the
# ceph.conf, client and keyring to put in onestack.yaml's ceph section.  `make ceph-down` removes it all.
ceph-packages:
	scripts/install-system.sh $(CEPH_PACKAGES)

ceph: install ceph-packages
	scripts/ceph-up.sh $(CEPH_DIR)

ceph-down:
	scripts/ceph-down.sh $(CEPH_DIR)

# The Ceph tests alone (make test runs them too), against a throwaway cluster of their own.
ceph-test: install ceph-packages
	$(PY) -m pytest -n 0 -q -m ceph tests

# the site from docs/ into site/; --strict turns every warning (a broken link or anchor) into a failure
docs: install
	$(VENV)/bin/mkdocs build --strict --site-dir site

# A PNG of each dashboard panel into docs/dashboard/, from a throwaway cloud (Debian's chromium, headless).
screenshots: install
	$(PY) scripts/dashboard_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache build site *.egg-info
