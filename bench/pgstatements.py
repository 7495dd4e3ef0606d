"""SQL statements and transactions a PostgreSQL database runs, counted from the server's own log.

The server logs every statement of one role in one database (``ALTER ROLE ... IN DATABASE ... SET
log_statement = 'all'``, a superuser setting, undone afterwards); the lines that role writes in that database
are read back from the cluster's log file and grouped by backend pid into transactions, so what the cloud's
processes ran is counted whatever else the cluster serves.  Only sessions opened after ``logging`` starts
log: the caller restarts the cloud inside it.  A setting for one role in one scratch database leaves every
other database of the cluster as it was (pg_stat_statements would need the cluster restarted with it
preloaded)."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

# Debian's log_line_prefix, '%m [%p] %q%u@%d ': time, [pid], user@database, then the message
LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S+)@(\S+) LOG:  (?:statement|execute [^:]*): (.*)$")
ENDS = ("COMMIT", "ROLLBACK")
MARKS = ("SAVEPOINT", "RELEASE")  # a nested transaction's edges, not statements of their own
PINGS = (";", "SELECT 1")  # what a pool sends to check a connection before lending it (psycopg 3: ";")
WRITES = ("INSERT", "UPDATE", "DELETE")


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-qAtX", "-d", database, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def log_file() -> Path:
    """The log file of the online cluster (``pg_lsclusters``' last column)."""
    for line in subprocess.run(["pg_lsclusters", "-h"], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        fields = line.split()
        if fields[3] == "online":
            return Path(fields[-1])
    raise RuntimeError("no PostgreSQL cluster is online")


@contextlib.contextmanager
def logging(role: str, database: str) -> Iterator[None]:
    """Every statement ``role`` runs in ``database`` logged, for the sessions opened inside the block."""
    if psql("show log_line_prefix") != "%m [%p] %q%u@%d":
        raise RuntimeError("the cluster's log_line_prefix is not Debian's: its log cannot be read here")
    psql(f'ALTER ROLE "{role}" IN DATABASE "{database}" SET log_statement = \'all\'')
    try:
        yield
    finally:
        psql(f'ALTER ROLE "{role}" IN DATABASE "{database}" RESET log_statement')


class Window:
    """The statements logged between ``Window(...)`` and ``counts()``."""

    def __init__(self, role: str, database: str):
        self.role, self.database = role, database
        self.path = log_file()
        self.start = self.path.stat().st_size

    def statements(self) -> list[tuple[int, str]]:
        """(backend pid, statement's first line) of each statement logged in the window."""
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            text = fh.read().decode(errors="replace")
        found = []
        for line in text.splitlines():
            match = LINE.match(line)
            if match and match[2] == self.role and match[3] == self.database:
                found.append((int(match[1]), match[4].strip()))
        return found

    def counts(self) -> dict:
        """Statements (BEGIN, COMMIT, ROLLBACK, savepoints and pings apart), transactions, those that wrote,
        and pings (a pool checking a connection before lending it)."""
        statements = transactions = writing = pings = 0
        open_writes: dict[int, bool] = {}  # pid -> whether its open transaction has written
        for pid, sql in self.statements():
            word = sql.split(None, 1)[0].upper().rstrip(";") if sql else ""
            if word == "BEGIN":
                transactions += 1
                open_writes[pid] = False
                continue
            if word in ENDS:
                writing += open_writes.pop(pid, False)
                continue
            if word in MARKS:
                continue
            if sql.upper() in PINGS:
                pings += 1
                continue
            statements += 1
            if word in WRITES or (word == "WITH" and any(w in sql.upper() for w in WRITES)):
                open_writes[pid] = True
        return {"statements": statements, "transactions": transactions, "write_transactions": writing,
                "pings": pings}
