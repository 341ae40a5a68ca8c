"""The Dovecot fixture itself: availability policy, configuration for both
supported Dovecot versions, users, the stream command, clean shutdown."""

from __future__ import annotations

import imaplib
import os
import time
from pathlib import Path

import pytest

from testsupport.dovecot import Dovecot, dovecot_version, find_dovecot

from . import conftest
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


@pytest.mark.parametrize("version", [(2, 3, 19, 1), (2, 4, 1)])
def test_plain_only_config_per_version(version: tuple[int, ...], tmp_path: Path) -> None:
    """``tls=False`` (the benchmarks): no TLS at all, and only the features asked for."""
    conftest.skip_or_fail_without_dovecot()
    server = Dovecot(root=tmp_path, tls=False, features=["no-auth-delay"])
    server.version = version
    text = server._render(frozenset(server.wanted))
    assert "ssl = no" in text and "ssl_cert" not in text and "ssl_server_cert" not in text
    assert "inet_listener imaps {\n    port = 0\n  }" in text
    assert "auth_failure_delay = 0" in text
    assert "quota" not in text and "cram-md5" not in text


def test_user_with_messages_on_a_plain_only_server() -> None:
    """The benchmarks' set-up: before the start, a user whose maildir is
    written directly; the messages get UIDs 1..N in order."""
    conftest.skip_or_fail_without_dovecot()
    messages = [b"Subject: %d\r\n\r\nbody %d\r\n" % (i, i) for i in (1, 2, 3)]
    server = Dovecot(tls=False, pool_size=0, features=())
    try:
        user = server.add_user("reader", "secret", messages=iter(messages))
        server.start()
        assert server.tls_port == 0 and server.features == frozenset()
        conn = imaplib.IMAP4(server.host, server.plain_port, timeout=SOCKET_TIMEOUT)
        assert "STARTTLS" not in conn.capabilities
        conn.login(user.name, user.password)
        assert conn.select(readonly=True)[1] == [b"3"]
        typ, data = conn.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        conn.logout()
    finally:
        server.stop()
    assert typ == "OK"
    got = [item for item in data if isinstance(item, tuple)]
    assert [body for _, body in got] == messages
    for uid, (head, _) in enumerate(got, 1):
        assert b"UID %d " % uid in head and b"\\Seen" in head, head


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
