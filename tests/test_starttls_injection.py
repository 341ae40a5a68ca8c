"""Plaintext injected after a STARTTLS OK must never be read as TLS data.

A man in the middle can append ``* ...`` lines to the server's tagged OK;
a client with a read-ahead buffer would later treat them as if they had come
over TLS (libetpan CVE-2020-15953).  imaplib_c refuses: ``starttls()`` aborts
when bytes follow the OK, and so does any read after ``sock``/``file`` were
replaced (IMAPClient's own ``starttls``) while such bytes were buffered.
"""

from __future__ import annotations

import socket
import threading

import pytest
from conftest import STDLIB, load_target


def file_attribute(M: object) -> str:
    """The attribute a tool assigns its new socket file to: ``file``, as
    IMAPClient does, unless the interpreter's imaplib made ``file`` a read-only
    property (3.14); then the attribute that imaplib's open() set (``_file``)."""
    prop = vars(STDLIB.IMAP4).get("file")
    if not isinstance(prop, property) or prop.fset is not None:
        return "file"
    return next(name for name in ("_imaplib_file", "_file") if name in vars(M))


def _server(ls: socket.socket, after_ok: bytes, stop: threading.Event) -> None:
    conn, _ = ls.accept()
    with conn:
        f = conn.makefile("rb")
        conn.sendall(b"* OK ready\r\n")
        while not stop.is_set():
            line = f.readline()
            if not line:
                return
            tag = line.split()[0]
            if b"CAPABILITY" in line:
                conn.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n")
            elif b"STARTTLS" in line:
                # The OK and the injected lines arrive in one segment.
                conn.sendall(tag + b" OK Begin TLS negotiation now\r\n" + after_ok)
                stop.wait(5)
                return
            else:
                conn.sendall(tag + b" OK done\r\n")


@pytest.fixture
def server():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    stop = threading.Event()
    injected = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"
    t = threading.Thread(target=_server, args=(ls, injected, stop), daemon=True)
    t.start()
    yield ls.getsockname()[1]
    stop.set()
    t.join(5)
    ls.close()


def test_starttls_aborts_on_buffered_plaintext(server: int) -> None:
    mod = load_target()
    if mod.__name__ == "imaplib":
        pytest.skip("an imaplib_c protection; stdlib reads the injected line later")
    M = mod.IMAP4("127.0.0.1", server)
    with pytest.raises(mod.IMAP4.abort, match="plaintext followed the server's OK"):
        M.starttls()
    assert M._tls_established is False
    M.shutdown()


# 3.15 deprecates IMAP4.file, which tools still assign.
@pytest.mark.filterwarnings("ignore:'IMAP4.file' is deprecated:DeprecationWarning")
def test_replaced_socket_with_buffered_plaintext_aborts(server: int) -> None:
    """A subclass that swaps sock/file itself, as IMAPClient's starttls does."""
    mod = load_target()
    if mod.__name__ == "imaplib":
        pytest.skip("an imaplib_c protection")

    class ToolStartTLS(mod.IMAP4):
        def tool_starttls(self) -> None:
            typ, _ = self._simple_command("STARTTLS")
            assert typ == "OK"
            # Stand-in for ssl_context.wrap_socket(self.sock): a new socket.
            a, b = socket.socketpair()
            self._peer = b
            self.sock = a
            setattr(self, file_attribute(self), a.makefile("rb"))

    M = ToolStartTLS("127.0.0.1", server)
    M.tool_starttls()
    with pytest.raises(mod.IMAP4.abort, match="unread bytes were buffered"):
        M.noop()
    M._peer.close()
    M.sock.close()
    getattr(M, file_attribute(M)).close()
