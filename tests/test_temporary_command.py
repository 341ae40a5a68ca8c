"""imaplib_c/_temporary_command.py: the Commands entry IDLE (before 3.14) and
COMPRESS need exists while any connection sends the command, and only then."""

from __future__ import annotations

import threading

from imaplib_c._temporary_command import temporary_command

STATES = ("AUTH", "SELECTED")


def test_shared_between_connections() -> None:
    commands: dict[str, tuple[str, ...]] = {}
    with temporary_command(commands, "COMPRESS", STATES):
        with temporary_command(commands, "COMPRESS", STATES):
            assert commands == {"COMPRESS": STATES}
        assert "COMPRESS" in commands  # the other connection still sends
    assert commands == {}


def test_a_programs_own_entry_stays() -> None:
    commands = {"IDLE": ("SELECTED",)}
    with temporary_command(commands, "IDLE", STATES):
        assert commands == {"IDLE": ("SELECTED",)}
    assert commands == {"IDLE": ("SELECTED",)}


def test_names_are_counted_apart() -> None:
    commands: dict[str, tuple[str, ...]] = {}
    with temporary_command(commands, "IDLE", STATES):
        with temporary_command(commands, "COMPRESS", STATES):
            pass
        assert commands == {"IDLE": STATES}
    assert commands == {}


def test_threads_never_see_it_missing_while_they_send() -> None:
    commands: dict[str, tuple[str, ...]] = {}
    missing: list[int] = []

    def connection() -> None:
        for _ in range(2000):
            with temporary_command(commands, "IDLE", STATES):
                if "IDLE" not in commands:
                    missing.append(1)

    threads = [threading.Thread(target=connection) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert missing == [] and commands == {}
