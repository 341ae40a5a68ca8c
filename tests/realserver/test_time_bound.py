"""The time bounds of timebound.py: a blocked test or workload step fails
with a clear message instead of hanging, a cleanup that blocks again is
interrupted again, and an outer timer (pytest-timeout's) is resumed."""

from __future__ import annotations

import contextlib
import imaplib
import signal
import socket
import time

import pytest

from . import conftest, timebound
from .timebound import STEP_TIMEOUT_ENV, TEST_TIMEOUT_ENV, RealServerTimeout, bounded
from .workload import Recorder

pytestmark = pytest.mark.skipif(
    not timebound.alarm_available(), reason="needs SIGALRM/setitimer in the main thread"
)


@pytest.mark.parametrize("env", [TEST_TIMEOUT_ENV, STEP_TIMEOUT_ENV])
def test_bound_from_environment(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.delenv(env, raising=False)
    assert timebound.time_bound(env) == timebound.DEFAULTS[env]
    monkeypatch.setenv(env, "7.5")
    assert timebound.time_bound(env) == 7.5
    monkeypatch.setenv(env, "0")
    assert timebound.time_bound(env) == 0
    monkeypatch.setenv(env, "soon")
    with pytest.raises(pytest.UsageError, match="soon"):
        timebound.time_bound(env)


def test_phase_bound_is_on() -> None:
    """This test itself runs under conftest.py's bound."""
    assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    assert conftest._test_bound() > 0 or timebound.time_bound(TEST_TIMEOUT_ENV) == 0


def test_blocked_recv_is_stopped() -> None:
    a, b = socket.socketpair()
    start = time.monotonic()
    expected = pytest.raises(RealServerTimeout, match=r"did not finish within 0\.3 s \(ENV;")
    with a, b, expected, bounded("blocked recv", 0.3, "ENV"):
        a.recv(1)  # nothing ever arrives
    assert time.monotonic() - start < 5


def test_blocking_cleanup_is_stopped_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timebound, "REARM_SECONDS", 0.2)
    a, b = socket.socketpair()
    start = time.monotonic()
    expected = pytest.raises(RealServerTimeout, match="cleanup blocked too")
    with a, b, expected as info, bounded("blocked twice", 0.2, "ENV"):
        try:
            a.recv(1)
        finally:
            # like a logout() in a `finally`, or a suppress(Exception) around it
            with contextlib.suppress(Exception):
                a.recv(1)
    assert isinstance(info.value.__context__, RealServerTimeout)
    assert time.monotonic() - start < 5


def test_outer_timer_resumed() -> None:
    fired: list[int] = []

    def outer(signum: int, frame: object) -> None:
        fired.append(signum)

    old = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with bounded("inner", 5, "ENV"):
            time.sleep(0.01)
        assert signal.getsignal(signal.SIGALRM) is outer
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 25 < left <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert fired == []


def test_no_bound_with_zero() -> None:
    handler = signal.getsignal(signal.SIGALRM)
    before = signal.getitimer(signal.ITIMER_REAL)[0]
    with bounded("unbounded", 0, "ENV"):
        assert signal.getsignal(signal.SIGALRM) is handler
        during = signal.getitimer(signal.ITIMER_REAL)[0]
        # the phase's own bound (this test runs under it) keeps running
        assert during <= before and (during > 0) == (before > 0)


def test_workload_step_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A recorded call that blocks fails the test, naming the step; it is
    not recorded as an ordinary exception."""
    monkeypatch.setenv(STEP_TIMEOUT_ENV, "0.3")
    rec = Recorder(imaplib)
    a, b = socket.socketpair()
    with a, b, pytest.raises(RealServerTimeout, match=r"step 'append utf8' did not finish"):
        rec.call("append utf8", a.recv, 1)
    assert rec.steps == []
    rec.call("quick", len, b"abc")
    assert rec.steps == [("quick", {"ret": 3})]


class _Conn:
    def __init__(self, state: str = "AUTH") -> None:
        self.state = state
        self.calls: list[str] = []

    def logout(self) -> None:
        self.calls.append("logout")
        raise OSError("ignored")

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_close_quietly() -> None:
    normal, hung, done = _Conn(), _Conn(), _Conn("LOGOUT")
    timebound.close_quietly(normal, timed_out=False)
    timebound.close_quietly(hung, timed_out=True)
    timebound.close_quietly(done, timed_out=False)
    timebound.close_quietly(None, timed_out=True)
    assert (normal.calls, hung.calls, done.calls) == (["logout"], ["shutdown"], [])
