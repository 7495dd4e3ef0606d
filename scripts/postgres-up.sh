#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster and makes sure the onestack test role exists.
# With --url, prints the server URL tests use (each test creates its own database under it).
set -euo pipefail
ROLE=onestack
PASSWORD=onestack
PORT=5432
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
if [ "${1:-}" = "--url" ]; then
    echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT"
    exit 0
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
    pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    pg_ctlcluster "$version" main start
fi
for _ in $(seq 50); do
    as_postgres psql -qAtc "select 1" >/dev/null 2>&1 && break
    sleep 0.2
done
if [ "$(as_postgres psql -qAtc "select 1 from pg_roles where rolname='$ROLE'")" != "1" ]; then
    as_postgres psql -qc "create role $ROLE login createdb password '$PASSWORD'"
fi
# Test "hosts" in network namespaces (onestack compute join) reach the server through its Unix socket
# as the onestack role with its password (Debian's default for local connections is peer).
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -Eq "^local +all +$ROLE +scram-sha-256" "$hba"; then
    sed -i "0,/^local/s//local   all             $ROLE                                 scram-sha-256\n&/" "$hba"
    pg_ctlcluster "$version" main reload
fi
