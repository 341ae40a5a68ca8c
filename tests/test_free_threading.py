"""Threads racing for one IMAP4 object, and the free-threaded build.

The command guard (csrc/binding/guard.c) lets one thread at a time into an IMAP4
object and refuses the others with RuntimeError.  With the GIL, the race is
decided between bytecodes; on a free-threaded CPython (3.13t, 3.14t) the
threads really run at once and the owner is claimed with a compare-and-swap.
Here eight threads hammer one object through the C command path, with Python
hooks (``send``, ``_get_response``) that yield inside the guard; any two
threads inside at once are caught.  On a free-threaded build the module must
also leave the GIL off (the ``Py_mod_gil`` slot).

tools/free-threaded-test.sh builds a free-threaded CPython and runs this file
(and the other thread tests) on it.
"""

from __future__ import annotations

import sys
import sysconfig
import threading
import time
from typing import Any

import pytest
from conftest import TARGET_IS_STDLIB, load_target

pytestmark = pytest.mark.skipif(TARGET_IS_STDLIB, reason="imaplib_c's guard")

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
THREADS = 8
ROUNDS = 300


@pytest.mark.skipif(not FREE_THREADED, reason="not a free-threaded CPython")
def test_import_keeps_the_gil_off() -> None:
    load_target()
    assert sys._is_gil_enabled() is False  # type: ignore[attr-defined]


class _Inside:
    """How many threads are inside the guarded object at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def _racing_class(mod: Any, inside: _Inside) -> type:
    class Racing(mod.IMAP4):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:  # no connection: hooks stand in for the wire
            self.debug = 0
            self.state = "AUTH"
            self.literal = None
            self.tagged_commands: dict[bytes, Any] = {}
            self.untagged_responses: dict[str, list[Any]] = {}
            self.continuation_response = ""
            self.is_readonly = False
            self.utf8_enabled = False
            self.tagnum = 0
            self._idle_capture = False
            self._mode_ascii()
            self.tagpre = b"RACE"
            self.tagre = mod.re.compile(rb"(?P<tag>RACE\d+) (?P<type>[A-Z]+) (?P<data>.*)")

        def send(self, data: bytes) -> None:
            inside.enter()
            time.sleep(0)  # let the other threads try to get in
            inside.leave()

        def _get_response(self, *args: Any) -> bytes:
            inside.enter()
            for tag, result in list(self.tagged_commands.items()):
                if result is None:  # (only one, unless two threads got in)
                    self.tagged_commands[tag] = ("OK", [b"done"])
            time.sleep(0)
            inside.leave()
            return b"tagged"

    return Racing


def test_one_thread_at_a_time_inside_an_object() -> None:
    mod = load_target()
    inside = _Inside()
    imap = _racing_class(mod, inside)()
    start = threading.Barrier(THREADS)
    results: list[tuple[int, int, list[str]]] = []

    def worker() -> None:
        ok = refused = 0
        odd: list[str] = []
        start.wait()
        for _ in range(ROUNDS):
            try:
                got = imap._simple_command("NOOP")
            except RuntimeError as exc:
                refused += 1
                if "in use by another thread" not in str(exc):
                    odd.append(repr(exc))
            else:
                ok += 1
                if got != ("OK", [b"done"]):
                    odd.append(repr(got))
        with inside.lock:
            results.append((ok, refused, odd))

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert inside.most == 1, f"{inside.most} threads were inside the object at once"
    assert [odd for _, _, odd in results] == [[]] * THREADS
    done = sum(ok for ok, _, _ in results)
    assert done + sum(refused for _, refused, _ in results) == THREADS * ROUNDS
    # Every completed command took one tag: no tag lost or taken twice.
    assert imap.tagnum == done
    assert imap.tagged_commands == {}
