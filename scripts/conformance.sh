#!/usr/bin/env bash
# make conformance AREA=identity: Tempest from PyPI, in its own venv, against a scratch onestack.
# An optional second argument, a regex, narrows the tests (e.g. 'DomainConfiguration').
set -euo pipefail
cd "$(dirname "$0")/.."
AREA=${1:-identity}
VENV=.conformance/venv
if [ ! -x "$VENV/bin/tempest" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet "tempest==47.0.0"
fi
# orchestration's tests are heat-tempest-plugin's, a Tempest plugin from PyPI
if [ "$AREA" = orchestration ] && [ ! -d "$(echo "$VENV"/lib/python3*/site-packages/heat_tempest_plugin)" ]; then
    "$VENV/bin/pip" install --quiet heat-tempest-plugin
fi
# the volume area also runs cinder-tempest-plugin's revert tests (Tempest has none of its own)
if [ "$AREA" = volume ] && [ ! -d "$(echo "$VENV"/lib/python3*/site-packages/cinder_tempest_plugin)" ]; then
    "$VENV/bin/pip" install --quiet cinder-tempest-plugin
fi
# the scenarios ping guests' floating IPs from this host, with the system's ping
case "$AREA" in scenario|migration-qemu) scripts/install-system.sh iputils-ping ;; esac
exec .venv/bin/python scripts/conformance.py "$AREA" ${2:+"$2"}
