"""Time bounds for the real-server tests (SIGALRM; no pytest-timeout needed).

A real server can leave a client waiting for ever: stdlib imaplib 3.14 with
Dovecot 2.4 blocks in ``append`` after ``ENABLE UTF8=ACCEPT``, waiting for a
continuation that never comes, and ``IMAP4_stream`` reads a pipe that no
socket timeout covers.  Two bounds turn such a wait into a test failure that
says what did not finish:

``IMAPLIB_C_REALSERVER_TIMEOUT`` (default 120 s)
    each phase (setup, call, teardown) of every test in this folder
    (conftest.py's runtest hooks);
``IMAPLIB_C_REALSERVER_STEP_TIMEOUT`` (default 20 s)
    each client call a workload records (``workload.Recorder.call``): a hung
    step fails the test at once, naming the step, instead of using up the
    test's whole bound.

``0`` disables a bound.  The value is read when the bound starts, so a test
that changes the variable only affects later bounds.  When a bound expires,
:class:`RealServerTimeout` is raised in the main thread where it is blocked;
if the cleanup that exception runs (a ``logout()`` in a ``finally``) blocks
again, it is raised again every ``REARM_SECONDS``, at most ``MAX_FIRES`` times.
Bounds nest: an outer timer (an enclosing bound, or pytest-timeout's signal
method) is suspended and then resumed with the time it had left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest

TEST_TIMEOUT_ENV = "IMAPLIB_C_REALSERVER_TIMEOUT"
STEP_TIMEOUT_ENV = "IMAPLIB_C_REALSERVER_STEP_TIMEOUT"
DEFAULTS = {TEST_TIMEOUT_ENV: 120.0, STEP_TIMEOUT_ENV: 20.0}
REARM_SECONDS = 10.0
MAX_FIRES = 5


class RealServerTimeout(BaseException):
    """A real-server test phase or step ran past its bound.  A BaseException,
    so that the recorders' ``except Exception`` (and the cleanups'
    ``contextlib.suppress(Exception)``) do not swallow it."""


def time_bound(env: str) -> float:
    """Seconds from the environment variable *env* (0 = no bound)."""
    raw = os.environ.get(env, "").strip()
    if not raw:
        return DEFAULTS[env]
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(f"{env}={raw!r} is not a number of seconds") from None
    return max(value, 0.0)


def alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def bounded(label: str, bound: float, env: str) -> Iterator[None]:
    """Raise :class:`RealServerTimeout` if the block runs longer than *bound*
    seconds (*env* names the variable that set it, for the message)."""
    if bound <= 0 or not alarm_available():
        yield
        return
    fires = 0

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal fires
        fires += 1
        if fires < MAX_FIRES:
            signal.setitimer(signal.ITIMER_REAL, REARM_SECONDS)
        what = f"{label} did not finish within {bound:g} s ({env}; 0 = no bound)"
        if fires == 1:
            raise RealServerTimeout(
                f"{what}: stopped where the traceback ends, usually a client waiting "
                "for a response that the server does not send"
            )
        raise RealServerTimeout(
            f"{what}, and the cleanup blocked too: stopped again "
            f"(interruption {fires} of at most {MAX_FIRES}, every {REARM_SECONDS:g} s)"
        )

    start = time.monotonic()
    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, bound)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler if old_handler is not None else signal.SIG_DFL)
        if old_delay > 0:
            left = old_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.01), old_interval)


def bounded_step(label: str) -> contextlib.AbstractContextManager[None]:
    """The bound of one recorded workload step."""
    return bounded(f"step {label!r}", time_bound(STEP_TIMEOUT_ENV), STEP_TIMEOUT_ENV)


def close_quietly(conn: object, *, timed_out: bool) -> None:
    """End a connection after a scenario: ``logout()`` normally, but only
    ``shutdown()`` after a timeout (a logout would wait on the same server)."""
    if conn is None or getattr(conn, "state", "LOGOUT") == "LOGOUT":
        return
    with contextlib.suppress(Exception):
        if timed_out:
            conn.shutdown()  # type: ignore[attr-defined]
        else:
            conn.logout()  # type: ignore[attr-defined]
