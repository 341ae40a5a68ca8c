"""Shared fixtures: the module under test and the stdlib reference.

The module under test is chosen here and only here: ``IMAPLIB_C_TARGET``
(default ``imaplib_c``).  ``IMAPLIB_C_TARGET=imaplib`` runs every test against
the stdlib module itself, which validates the harness.
"""

from __future__ import annotations

import imaplib as stdlib_imaplib
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TARGET_NAME: str = os.environ.get("IMAPLIB_C_TARGET", "imaplib_c")
TARGET_IS_STDLIB: bool = TARGET_NAME == "imaplib"


def load_target() -> ModuleType:
    return importlib.import_module(TARGET_NAME)


STDLIB: ModuleType = stdlib_imaplib


@pytest.fixture(scope="session")
def target() -> ModuleType:
    """The module under test."""
    try:
        return load_target()
    except ImportError as exc:  # the extension is not built yet
        pytest.fail(f"cannot import module under test {TARGET_NAME!r}: {exc}")


@pytest.fixture(scope="session")
def stdlib() -> ModuleType:
    return STDLIB


@pytest.fixture
def only_extension() -> None:
    """Skip tests of deliberate imaplib_c additions when testing the stdlib."""
    if TARGET_IS_STDLIB:
        pytest.skip("imaplib_c-only behaviour (IMAPLIB_C_TARGET=imaplib)")


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in leaked:
        t.join(5)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"leaked threads: {leaked}"
