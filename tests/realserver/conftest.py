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
"""

from __future__ import annotations

import imaplib
import importlib
import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from .dovecot import Dovecot, DovecotUnavailable, missing_requirements

TARGET_ENV = "IMAPLIB_C_TARGET"
REQUIRE_ENV = "IMAPLIB_C_REQUIRE_DOVECOT"
KEEP_ENV = "IMAPLIB_C_KEEP_DOVECOT"


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
