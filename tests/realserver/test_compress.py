"""COMPRESS=DEFLATE against the real Dovecot: a compressed session sees what an
uncompressed one sees (SELECT, FETCH, APPEND, IDLE, LOGOUT), over plaintext and
after STARTTLS, with fewer bytes on the wire."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from testsupport.dovecot import Dovecot

from .workload import SOCKET_TIMEOUT

PARTS = "(UID FLAGS RFC822.SIZE BODY.PEEK[])"


def _messages(n: int) -> list[bytes]:
    return [
        b"From: a%d@example.org\r\nSubject: message %d\r\n\r\n" % (i, i)
        + b"Line %d of a plain text mail, repeated as mail text is.\r\n" % i * (i % 40 + 5)
        for i in range(n)
    ]


def _session(dovecot: Dovecot, mod: ModuleType, user: Any, *, tls: bool, compress: bool) -> Any:
    conn = mod.IMAP4(dovecot.host, dovecot.plain_port, timeout=SOCKET_TIMEOUT)
    if tls:
        conn.starttls(ssl_context=dovecot.client_context())
    conn.login(user.name, user.password)
    if compress:
        assert conn.compress()[0] == "OK"
    return conn


def _work(conn: Any) -> list[Any]:
    out = [conn.select("INBOX"), conn.fetch("1:*", PARTS), conn.uid("SEARCH", "ALL")]
    out.append(conn.append("INBOX", None, None, b"Subject: appended\r\n\r\nnew\r\n")[0])
    with conn.idle(duration=0.2) as idler:
        out.append(sorted(typ for typ, _ in idler))
    out.append(conn.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out.append(conn.store("1", "+FLAGS", "(\\Deleted)")[0])
    out.append(conn.expunge())
    return out


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "starttls"])
def test_compressed_session_equals_plain(
    dovecot: Dovecot, target_module: ModuleType, tls: bool
) -> None:
    if not hasattr(target_module.IMAP4, "compress"):
        pytest.skip("imaplib_c without its C engine")
    if "compress" not in dovecot.features:
        pytest.skip("this Dovecot has no COMPRESS")
    messages = _messages(40)
    results = []
    wire = []
    for compress in (False, True):
        user = dovecot.add_user(messages=messages)
        conn = _session(dovecot, target_module, user, tls=tls, compress=compress)
        results.append(_work(conn))
        if compress:
            wire.append(conn.sock.bytes_in)
            with pytest.raises(conn.error, match="STARTTLS after COMPRESS"):
                conn.starttls()
            with pytest.raises(conn.error, match="already active"):
                conn.compress()
        assert conn.logout()[0] == "BYE"
    assert results[0] == results[1]
    # The messages alone are ~60 KB; compressed, the whole session is far less.
    assert wire[0] < sum(map(len, messages)) / 3
