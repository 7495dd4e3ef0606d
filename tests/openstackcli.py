"""The ``openstack`` CLI run in the test's own process.

Starting the CLI costs about 0.8 s of interpreter start and imports a call, and the suite makes a thousand of
them: run in process, python-openstackclient's own ``main`` parses the same arguments, reads the same
clouds.yaml and sends the same HTTP requests, for the cost of the request alone.  A call gets the process to
itself (environment, standard streams, the root logger the CLI configures), so calls from several threads of
one test take turns; a call cannot leave state behind for the next (the CLI builds its shell, session and
clients anew each time, except the per-API clients osc-lib caches on its ClientManager class, which each
call drops first).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import threading

_turn = threading.Lock()


def openstack_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    from openstackclient import shell

    out, err = io.StringIO(), io.StringIO()
    with _turn, _environment(env), _root_logger_kept(), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), _stdin_empty():
        _forget_cached_clients()
        try:
            code = shell.main(list(args))
        except SystemExit as exit_:  # argparse and a few commands exit instead of returning
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["openstack", *args], code, out.getvalue(), err.getvalue())


def _forget_cached_clients() -> None:
    """osc-lib's ``ClientCache`` keeps each API's client on the descriptor, that is on the ClientManager class
    rather than on the instance: one process running the CLI twice would send the second call through the
    first call's client (its token, its project's endpoints)."""
    from openstackclient.common.clientmanager import ClientManager
    from osc_lib.clientmanager import ClientCache

    for klass in ClientManager.__mro__:
        for attribute in vars(klass).values():
            if isinstance(attribute, ClientCache):
                attribute._handle = None


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    before = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


@contextlib.contextmanager
def _root_logger_kept():
    """The CLI adds a console handler to the root logger on every run; without this they pile up, each
    writing to a finished call's stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@contextlib.contextmanager
def _stdin_empty():
    """As a child process reading /dev/null: commands that read standard input when it is not a terminal
    (``image create`` without ``--file``) read nothing."""
    before = sys.stdin
    sys.stdin = io.StringIO()
    try:
        yield
    finally:
        sys.stdin = before
