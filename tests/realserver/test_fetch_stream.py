"""IMAP4.fetch_stream against the real Dovecot: what it yields equals a UID FETCH,
through STARTTLS, with an EXPUNGE from a second session during the stream."""

from __future__ import annotations

import imaplib
from types import ModuleType
from typing import Any

import pytest

from testsupport.dovecot import Dovecot

from .workload import SOCKET_TIMEOUT

PARTS = "(UID FLAGS BODY.PEEK[])"


def _messages(n: int) -> list[bytes]:
    return [b"Subject: s%d\r\n\r\n" % i + b"body line %d\r\n" % i * (i % 13 + 1) for i in range(n)]


@pytest.fixture
def session(dovecot: Dovecot, target_module: ModuleType) -> Any:
    if not hasattr(target_module.IMAP4, "fetch_stream"):
        pytest.skip("imaplib_c without its C engine")
    user = dovecot.new_user()
    conn = target_module.IMAP4(dovecot.host, dovecot.plain_port, timeout=SOCKET_TIMEOUT)
    conn.starttls(ssl_context=dovecot.client_context())
    conn.login(user.name, user.password)
    for m in _messages(60):
        assert conn.append("INBOX", None, None, m)[0] == "OK"
    conn.select()
    conn.user = user
    yield conn
    conn.logout()


def test_stream_equals_uid_fetch(session: Any) -> None:
    want = session.uid("FETCH", "1:*", PARTS)[1]
    got = list(session.fetch_stream("1:*", PARTS, batch=7, window=3))
    assert got == want
    assert [x[1] for x in got[::2]] == _messages(60)


def test_expunge_from_another_session_mid_stream(session: Any, dovecot: Dovecot) -> None:
    other = imaplib.IMAP4(dovecot.host, dovecot.plain_port, timeout=SOCKET_TIMEOUT)
    other.starttls(ssl_context=dovecot.client_context())
    other.login(session.user.name, session.user.password)
    other.select()
    it = session.fetch_stream("1:*", PARTS, batch=5, window=1)
    first = [next(it) for _ in range(10)]  # the first batch
    other.uid("STORE", "60", "+FLAGS", "(\\Deleted)")
    other.expunge()
    other.logout()
    rest = list(it)
    uids = [int(h.split(b"UID ")[1].split()[0]) for h, _ in (first + rest)[::2]]
    assert uids == list(range(1, 60))  # UID 60 went before its batch was sent
    assert session.noop()[0] == "OK"
