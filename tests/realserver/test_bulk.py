"""The bulk methods against the real Dovecot (which offers LITERAL+): append_many
stores what append() stores, fetch_stream yields what UID FETCH returns, through
STARTTLS, with an EXPUNGE from a second session during the stream."""

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
    results = conn.append_many("INBOX", _messages(60), None, None, window=16)
    assert [r[0] for r in results] == ["OK"] * 60
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


def test_append_many_uses_literal_plus_and_matches_append(session: Any) -> None:
    assert "LITERAL+" in session.capabilities
    msgs = [b"Subject: extra %d\r\n\r\nx\r\n" % i for i in range(5)]
    results = session.append_many("INBOX", msgs, "(\\Flagged)")
    assert [typ for typ, _ in results] == ["OK"] * 5
    one = session.append("INBOX", "(\\Flagged)", None, msgs[0])
    assert one[0] == "OK"
    typ, data = session.uid("FETCH", "61:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK"
    bodies = [x[1] for x in data if isinstance(x, tuple)]
    assert bodies == [*msgs, msgs[0]]
    assert all(b"\\Flagged" in x[0] for x in data if isinstance(x, tuple))


def test_append_many_multiappend_matches_append(session: Any) -> None:
    msgs = [b"Subject: multi %d\r\n\r\ny\r\n" % i for i in range(7)]
    date = '"01-Jan-2020 10:00:00 +0000"'
    results = session.append_many("INBOX", msgs, "(\\Seen)", date, window=3, multiappend=True)
    assert [typ for typ, _ in results] == ["OK"] * 7
    assert "MULTIAPPEND" in session.capabilities  # asked again after LOGIN if need be
    assert results[0] == results[2] != results[3]  # one MULTIAPPEND per 3 messages
    assert b"APPENDUID" in results[0][1][0]
    typ, data = session.uid("FETCH", "61:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK"
    items = [x for x in data if isinstance(x, tuple)]
    assert [x[1] for x in items] == msgs
    assert all(b"\\Seen" in x[0] and b"01-Jan-2020 10:00:00 +0000" in x[0] for x in items)
