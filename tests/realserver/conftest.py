"""Fixtures for the tests that talk to a real (private) Dovecot server.

Environment:

``IMAPLIB_C_TARGET``
    Module under test, default ``imaplib_c``.  ``IMAPLIB_C_TARGET=imaplib``
    runs everything with the stdlib module on both sides, which checks the
    tests themselves (every comparison must then hold trivially).
``IMAPLIB_C_REQUIRE_DOVECOT=1``
    Fail instead of skipping when Dovecot is not installed (CI sets this).
``IMAPLIB_C_KEEP_DOVECOT=1``
    Keep the server's temporary directory (config, logs, maildirs).
``IMAPLIB_C_REALSERVER_TIMEOUT``, ``IMAPLIB_C_REALSERVER_STEP_TIMEOUT``
    Seconds each phase (setup, call, teardown) of a test in this folder may
    take (default 120), and each recorded client call of a workload (default
    20); ``0`` = no bound.  Past it the test fails with a message saying which
    test or step did not finish, instead of hanging the run (stdlib imaplib
    3.14 with Dovecot 2.4 waits forever in ``append`` after ``ENABLE
    UTF8=ACCEPT``).  See ``timebound.py``.
"""

from __future__ import annotations

import contextlib
import functools
import imaplib
import importlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from testsupport.dovecot import Dovecot, DovecotUnavailable, missing_requirements

from .timebound import TEST_TIMEOUT_ENV, bounded, time_bound

TARGET_ENV = "IMAPLIB_C_TARGET"
REQUIRE_ENV = "IMAPLIB_C_REQUIRE_DOVECOT"
KEEP_ENV = "IMAPLIB_C_KEEP_DOVECOT"
HERE = Path(__file__).resolve().parent


def target_name() -> str:
    """Name of the module under test (``imaplib_c`` unless overridden)."""
    return os.environ.get(TARGET_ENV, "").strip() or "imaplib_c"


def dovecot_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0", "no", "false")


def dovecot_missing_reason() -> str | None:
    missing = missing_requirements()
    if not missing:
        return None
    return (
        "real-server tests need Dovecot and openssl (apt-get install dovecot-imapd "
        "dovecot-core openssl); not installed: " + ", ".join(missing)
    )


def skip_or_fail_without_dovecot() -> None:
    """Skip (or, with IMAPLIB_C_REQUIRE_DOVECOT=1, fail) when Dovecot is
    not installed."""
    reason = dovecot_missing_reason()
    if reason is not None:
        if dovecot_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """The private Dovecot server, started once per test session."""
    skip_or_fail_without_dovecot()
    try:
        server = Dovecot(keep=os.environ.get(KEEP_ENV) == "1")
    except DovecotUnavailable as exc:  # pragma: no cover - raced uninstall
        if dovecot_required():
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def reference_module() -> ModuleType:
    """The stdlib module every result is compared with."""
    return imaplib


@pytest.fixture(scope="session")
def target_module() -> ModuleType:
    """The module under test; an import failure makes the tests fail."""
    return importlib.import_module(target_name())


# --------------------------------------------------------------------------
# A time bound on every phase of every test in this folder (timebound.py;
# no pytest-timeout needed, and it nests inside pytest-timeout's own timer).


def _in_this_folder(item: pytest.Item) -> bool:
    path = Path(str(getattr(item, "path", None) or item.fspath)).resolve()
    return HERE in path.parents


@functools.cache
def _test_bound() -> float:
    """Read once: a test that sets the variable does not change its own bound."""
    return time_bound(TEST_TIMEOUT_ENV)


def _phase(item: pytest.Item, when: str) -> contextlib.AbstractContextManager[None]:
    if not _in_this_folder(item):
        return contextlib.nullcontext()
    return bounded(f"{item.nodeid} ({when})", _test_bound(), TEST_TIMEOUT_ENV)


# pytest calls the runtest hooks of a conftest only for the items under its
# folder; _in_this_folder() makes sure of it.  Old-style wrappers (pytest >= 3).


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _phase(item, "setup"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _phase(item, "call"):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with _phase(item, "teardown"):
        yield
