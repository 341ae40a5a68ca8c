"""The Dovecot fixture itself: availability policy, configuration for both
supported Dovecot versions, users, the stream command, clean shutdown."""

from __future__ import annotations

import imaplib
import os
import time
from pathlib import Path

import pytest

from . import conftest
from .dovecot import Dovecot, dovecot_version, find_dovecot
from .workload import SOCKET_TIMEOUT


def test_dovecot_installed_when_required() -> None:
    """Fails when IMAPLIB_C_REQUIRE_DOVECOT=1 (CI) and Dovecot is missing;
    skips when it is merely missing."""
    conftest.skip_or_fail_without_dovecot()
    binary = find_dovecot()
    assert binary is not None
    assert dovecot_version(binary) >= (2, 3)


@pytest.mark.parametrize("required", [False, True])
def test_missing_dovecot_policy(monkeypatch: pytest.MonkeyPatch, required: bool) -> None:
    monkeypatch.setattr(conftest, "missing_requirements", lambda: ["dovecot", "doveadm"])
    monkeypatch.setenv(conftest.REQUIRE_ENV, "1" if required else "0")
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="dovecot, doveadm"):
        conftest.skip_or_fail_without_dovecot()


@pytest.mark.parametrize("version", [(2, 3, 19, 1), (2, 4, 1)])
def test_config_syntax_per_version(version: tuple[int, ...], tmp_path: Path) -> None:
    conftest.skip_or_fail_without_dovecot()
    server = Dovecot(root=tmp_path)
    server.version = version
    text = server._render(frozenset({"quota", "cram-md5", "no-auth-delay"}))
    first = text.splitlines()[0]
    if version >= (2, 4):
        assert first == "dovecot_config_version = 2.4.0"
        assert "ssl_server_cert_file = " in text and "passwd_file_path = " in text
        assert "mail_driver = maildir" in text and 'quota "User quota" {' in text
        assert "ssl_cert =" not in text and "mail_location" not in text
    else:
        assert "dovecot_config_version" not in text
        assert "ssl_cert = <" in text and "mail_location = maildir:~/Mail" in text
        assert "auth_mechanisms = plain login cram-md5" in text


def test_fixture_server(dovecot: Dovecot) -> None:
    assert dovecot.plain_port != dovecot.tls_port
    assert dovecot.cert_file.exists()
    a, b = dovecot.new_user(), dovecot.new_user()
    assert a.name != b.name and a.home != b.home
    conn = imaplib.IMAP4(dovecot.host, dovecot.plain_port, timeout=SOCKET_TIMEOUT)
    assert "STARTTLS" in conn.capabilities
    conn.starttls(ssl_context=dovecot.client_context())
    assert conn.login(a.name, a.password)[0] == "OK"
    assert conn.select()[1] == [b"0"]  # a fresh, empty mailbox
    conn.logout()
    stream = imaplib.IMAP4_stream(dovecot.stream_command(b))
    assert stream.state == "AUTH"
    assert stream.welcome.startswith(b"* PREAUTH")
    assert b.name.encode() in stream.welcome
    stream.logout()


def test_start_stop_leaves_nothing(tmp_path: Path) -> None:
    conftest.skip_or_fail_without_dovecot()
    server = Dovecot(pool_size=2)
    root = server.root
    server.start()
    proc = server._proc
    assert proc is not None
    pid = proc.pid
    user = server.new_user()
    conn = imaplib.IMAP4_SSL(server.host, server.tls_port, timeout=SOCKET_TIMEOUT)
    conn.login(user.name, user.password)
    conn.logout()
    server.stop()
    assert not root.exists()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"dovecot master {pid} still running")
    # No process of the master's group is left running (zombies waiting for
    # init to reap them do not count).
    assert _live_group_members(pid) == []


def _live_group_members(pgid: int) -> list[str]:
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            live.append(text[: text.rindex(")") + 1])
    return live
