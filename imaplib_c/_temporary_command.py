"""A command the interpreter's ``Commands`` lacks, there only while it is sent.

imaplib's ``_command`` refuses a name that is not in ``Commands`` (the state rules).
COMPRESS, and IDLE before 3.14, are not there, and tools test for what is (the dict
is the interpreter's, shared with plain imaplib users), so imaplib_c adds the entry
around the one call that sends the command.  Connections in other threads may do
the same at the same time: the entry is counted per name and removed when the last
user is done, and an entry a program made itself is never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_users: dict[str, int] = {}  # name -> connections sending it now
_added: set[str] = set()  # names whose entry this module made


@contextmanager
def temporary_command(
    commands: dict[str, tuple[str, ...]], name: str, states: tuple[str, ...]
) -> Iterator[None]:
    with _lock:
        if not _users.get(name) and name not in commands:
            commands[name] = states
            _added.add(name)
        _users[name] = _users.get(name, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _users[name] -= 1
            if not _users[name] and name in _added:
                commands.pop(name, None)
                _added.discard(name)
