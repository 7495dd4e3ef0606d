#!/usr/bin/env bash
# Stops the throwaway cluster scripts/ceph-up.sh made under DIR (its daemons, by the pid files they wrote)
# and removes DIR: no process and no file is left.  Safe to run again, or on a half-made cluster.
#
# usage: scripts/ceph-down.sh DIR
set -uo pipefail
DIR=${1:?usage: ceph-down.sh DIR}
[ -d "$DIR" ] || exit 0
pids=()
for pidfile in "$DIR"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a Ceph daemon whose command line names this cluster's conf: a reused pid is left alone.
    if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/ceph.conf"; then
        kill "$pid" 2>/dev/null && pids+=("$pid")
    fi
done
for _ in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
done
for pid in "${alive[@]}"; do kill -9 "$pid" 2>/dev/null; done
rm -rf "$DIR"
