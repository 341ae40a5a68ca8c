"""What the interpreter's imaplib does: feature checks, not version numbers.
The tests use them to say what stdlib imaplib is expected to do here."""

from __future__ import annotations

import io
import socket
import sys
import warnings
from types import ModuleType
from typing import Any

# socket.timeout is TimeoutError from 3.10 on; on 3.9 it is only an OSError.
_TIMEOUT = (TimeoutError, socket.timeout)


class _CutSocket:
    """A socket that delivers ``data`` and then EOF."""

    def __init__(self, data: bytes) -> None:
        self.chunks = [data]

    def recv(self, size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def _unconnected(std: ModuleType, data: bytes) -> object:
    """An IMAP4 of module ``std`` without __init__ whose transport delivers
    ``data`` and then EOF, whichever of sock/file/_file/_imaplib_file that
    imaplib reads."""
    probe = std.IMAP4.__new__(std.IMAP4)
    file = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    vars(probe).update(
        sock=_CutSocket(data), _readbuf=[], file=file, _file=file, _imaplib_file=file
    )
    return probe


def rereads_cut_literal(std: ModuleType) -> bool:
    """Does ``std``'s IMAP4 read a literal cut short by EOF again as the next
    line?  (3.14's own read buffer keeps what ``read()`` returned, so the next
    ``readline()`` gives the partial literal once more; BufferedReader does
    not.)"""
    probe: Any = _unconnected(std, b"abc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return probe.read(10) == b"abc" and probe.readline() == b"abc"


def refuses_oversized_literal(std: ModuleType) -> bool:
    """Does ``std``'s IMAP4.read(size) raise OverflowError at once for a size
    over sys.maxsize (``file.read``, imaplib up to 3.13.0), rather than read
    what arrives until EOF?"""
    probe: Any = _unconnected(std, b"")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe.read(sys.maxsize + 1)
    except OverflowError:
        return True
    return False


def keeps_partial_line(std: ModuleType) -> bool:
    """Does ``std``'s IMAP4.readline() keep the start of a line across a socket
    timeout, so that the next call returns the whole line?  (3.14's own read
    buffer does; the socket file of earlier imaplibs refuses every read after
    a timeout.)"""
    a, b = socket.socketpair()
    file = a.makefile("rb")
    try:
        a.settimeout(0.05)
        probe: Any = std.IMAP4.__new__(std.IMAP4)
        vars(probe).update(sock=a, _readbuf=[], file=file, _file=file, _imaplib_file=file)
        b.sendall(b"* 1 EXI")
        try:
            probe.readline()
        except _TIMEOUT:
            pass
        else:  # pragma: no cover - the probe's premise failed
            return False
        b.sendall(b"STS\r\n")
        try:
            return bool(probe.readline() == b"* 1 EXISTS\r\n")
        except OSError:
            return False
    finally:
        file.close()
        a.close()
        b.close()


def reads_socket_itself(std: ModuleType) -> bool:
    """Is ``std``'s IMAP4.file a property, its reads going to ``sock`` through
    imaplib's own buffer rather than a BufferedReader (3.14 on)?  Such an
    imaplib has no BufferedReader to refuse a reentrant read."""
    return isinstance(vars(std.IMAP4).get("file"), property)
