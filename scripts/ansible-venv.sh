#!/usr/bin/env bash
# Ansible and its openstack.cloud collection, from PyPI, in a venv of their own under .ansible/ (made on
# first use, like the conformance venv): the client tests run real playbooks with it. Prints the venv's bin.
# The collection is not published on PyPI by itself; the `ansible` package bundles it, so its wheel is
# downloaded (not installed: it is 50 MB of other collections) and only openstack/cloud is unpacked.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$PWD/.ansible
VENV=$DIR/venv
CORE="ansible-core==2.19.14"   # what ansible 12.3.0 is built on
BUNDLE="ansible==12.3.0"       # bundles openstack.cloud 2.5.0
# openstack.cloud 2.5.0 reads `openstack.version` without importing it; openstacksdk 4.15 and later no
# longer import that submodule on the way, so every module fails with "no attribute 'version'".  4.14.0 is
# the newest that works with it (the test's own checks use the project's newer openstacksdk).
SDK="openstacksdk==4.14.0"
PINS="$CORE $BUNDLE $SDK"
COLLECTION=$DIR/collections/ansible_collections/openstack/cloud
mkdir -p "$DIR"
exec 9>"$DIR/.lock"    # two test workers starting at once: one builds, the other waits for it
flock 9
if [ "$(cat "$DIR/pins" 2>/dev/null)" != "$PINS" ]; then
    rm -rf "$VENV" "$DIR/collections"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    # the collection's modules import openstacksdk in the interpreter that runs them: this venv's
    "$VENV/bin/pip" install --quiet "$CORE" "$SDK"
    echo "$PINS" >"$DIR/pins"
fi
if [ ! -f "$COLLECTION/MANIFEST.json" ]; then
    wheels=$(mktemp -d)
    trap 'rm -rf "$wheels"' EXIT
    "$VENV/bin/pip" download --quiet --no-deps --only-binary=:all: "$BUNDLE" -d "$wheels"
    rm -rf "$COLLECTION"
    "$VENV/bin/python" - "$wheels"/ansible-*.whl "$DIR/collections" <<'PY'
import sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    z.extractall(target, [n for n in z.namelist() if n.startswith("ansible_collections/openstack/cloud/")])
PY
fi
echo "$VENV/bin"
