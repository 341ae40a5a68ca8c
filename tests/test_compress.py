"""IMAP4.compress(): COMPRESS=DEFLATE (RFC 4978, imaplib_c/_compress.py).

The server here is a small loopback peer, written as a function per test, that
speaks plaintext until it answers COMPRESS and raw deflate in both directions
afterwards; it records the bytes that crossed the wire.  The real-server test
is tests/realserver/test_compress.py.
"""

from __future__ import annotations

import os
import random
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from testsupport.loopback import accepted, listener

pytestmark = pytest.mark.usefixtures("only_extension")

CAPS = b"* CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE STARTTLS AUTH=PLAIN"
FILE_ATTR = sys.version_info < (3, 14)  # `file` is a plain attribute before 3.14


class Peer:
    """The server's end of one connection: lines and bytes in, bytes out,
    deflated in both directions once ``deflate()`` was called."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = bytearray()
        self.inflater: Any = None
        self.deflater: Any = None
        self.wire_in = 0
        self.wire_out = 0
        self.lines: list[bytes] = []
        self.mirror: Any = None  # the client's inflater, as it will be

    def deflate(self) -> None:
        self.inflater = zlib.decompressobj(-15)
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.mirror = zlib.decompressobj(-15)

    def deflated(self, data: bytes) -> tuple[bytes, int]:
        """``data`` deflated, and the longest prefix of it that inflates to nothing."""
        out = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        quiet = max(k for k in range(len(out)) if not self.mirror.copy().decompress(out[:k]))
        self.mirror.decompress(out)
        return out, quiet

    def _more(self) -> None:
        data = self.conn.recv(65536)
        if not data:
            raise EOFError("client closed")
        self.wire_in += len(data)
        if self.inflater is not None:
            data = self.inflater.decompress(data)
        self.buf += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[: i + 2]
        self.lines.append(line)
        return line

    def cmd(self, text: str) -> bytes:
        """Read ``<tag> text``; the tag."""
        tag, _, rest = self.line().partition(b" ")
        assert rest == text.encode(), (rest, text)
        return tag

    def raw(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, *lines: bytes | str, tag: bytes = b"") -> None:
        data = b"".join((x.encode() if isinstance(x, str) else x) + b"\r\n" for x in lines)
        self.send_bytes(data.replace(b"{tag}", tag))

    def send_bytes(self, data: bytes, pieces: int = 1) -> None:
        if self.deflater is not None:
            data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
            self.mirror.decompress(data)
        step = max(1, -(-len(data) // pieces))
        for i in range(0, len(data), step):
            self.conn.sendall(data[i : i + step])
            self.wire_out += len(data[i : i + step])

    # -- the usual exchanges ----------------------------------------------

    def hello(self, caps: bytes = CAPS) -> None:
        self.send(b"* OK ready")
        self.send(caps, b"{tag} OK done", tag=self.cmd("CAPABILITY"))
        tag, _, rest = self.line().partition(b" ")
        assert rest.startswith(b"LOGIN user "), rest  # the password is quoted or not
        self.send(b"{tag} OK logged in", tag=tag)
        # Newer imaplibs ask again after LOGIN (_refresh_capabilities): next_cmd answers.
        self.pending_caps = caps

    def next_cmd(self) -> tuple[bytes, bytes]:
        """The next command that is not a CAPABILITY refresh (answered here)."""
        while True:
            tag, _, rest = self.line().partition(b" ")
            if rest == b"CAPABILITY":
                self.send(self.pending_caps, b"{tag} OK done", tag=tag)
                continue
            return tag, rest

    def expect(self, text: str) -> bytes:
        tag, rest = self.next_cmd()
        assert rest == text.encode(), (rest, text)
        return tag

    def compress_ok(self, after: bytes = b"") -> None:
        """The OK; ``after`` goes out compressed in the same write (RFC 4978
        lets the server compress right after the OK's CRLF)."""
        tag = self.expect("COMPRESS DEFLATE")
        self.deflate()
        assert self.deflater is not None
        data = self.deflater.compress(after) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        self.mirror.decompress(data)
        self.conn.sendall(tag + b" OK DEFLATE active\r\n" + data)

    def logout(self) -> None:
        self.send(b"* BYE bye", b"{tag} OK done", tag=self.expect("LOGOUT"))


class Server:
    """Plays ``play(peer)`` on one loopback connection, in a thread."""

    def __init__(self, play: Callable[[Peer], None]) -> None:
        self.play = play
        self.errors: list[BaseException] = []
        self.peer: Peer | None = None
        self.done = threading.Event()
        self._listener = listener(1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        accepted(conn, timeout=10)
        self.peer = Peer(conn)
        try:
            self.play(self.peer)
        except EOFError:
            pass
        except BaseException as exc:  # noqa: BLE001  # recorded: check() raises it in the test
            self.errors.append(exc)
        finally:
            self.done.set()
            conn.close()
            self._listener.close()

    def check(self) -> None:
        self.done.wait(10)
        if self.errors:
            raise self.errors[0]


@pytest.fixture
def serve(target: Any) -> Iterator[Callable[..., Any]]:
    servers: list[Server] = []
    clients: list[Any] = []

    def start(play: Callable[[Peer], None], cls: Any = None) -> Any:
        server = Server(play)
        servers.append(server)
        imap = (cls or target.IMAP4)("127.0.0.1", server.port)
        imap.server = server
        clients.append(imap)
        imap.login("user", "pass")
        return imap

    yield start
    for imap in clients:
        try:
            imap.shutdown()
        except OSError:
            pass
    for server in servers:
        server.check()


def text_body(size: int, seed: int = 1) -> bytes:
    """Mail-like text: compressible, but not trivially."""
    rng = random.Random(seed)
    words = [b"imap", b"message", b"the", b"server", b"client", b"deflate", b"hello", b"world"]
    words += [
        bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(300)
    ]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b"\r\n"
    return bytes(out[:size])


# ----------------------------------------------------------------- round trip


def test_commands_round_trip_compressed(serve: Any, target: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        p.send(b"* 3 EXISTS", b"* OK [UIDVALIDITY 7] x", b"{tag} OK [READ-WRITE] selected",
               tag=p.expect("SELECT INBOX"))  # fmt: skip
        tag = p.expect("FETCH 1 (BODY[])")
        p.send(b"* 1 FETCH (BODY[] {5}", b"hello)", b"{tag} OK done", tag=tag)
        p.send(b"{tag} OK noop", tag=p.expect("NOOP"))
        p.logout()

    imap = serve(play)
    assert imap.compress() == ("OK", [b"DEFLATE active"])
    assert "COMPRESS" not in target.Commands  # only while the command is sent
    assert type(imap.sock).__name__ == "DeflateSocket"
    assert imap.select("INBOX") == ("OK", [b"3"])
    assert imap.fetch("1", "(BODY[])") == ("OK", [(b"1 (BODY[] {5}", b"hello"), b")"])
    assert imap.noop()[0] == "OK"
    assert imap.logout()[0] == "BYE"
    imap.server.check()
    peer = imap.server.peer
    # What crossed the wire after the switch was not plaintext.
    assert peer.lines[-1].endswith(b"LOGOUT")
    assert imap.sock.bytes_out > 0 and imap.sock.bytes_in > 0


@pytest.mark.parametrize("pieces", [1, 997])
def test_large_literal(serve: Any, pieces: int) -> None:
    body = text_body(6 << 20) + os.urandom(1 << 20)  # several MB, some incompressible

    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        tag = p.expect("FETCH 1 (BODY[])")
        data = b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\n" + tag + b" OK done\r\n"
        p.send_bytes(data, pieces)
        p.logout()

    imap = serve(play)
    imap.state = "SELECTED"
    imap.compress()
    typ, dat = imap.fetch("1", "(BODY[])")
    assert typ == "OK"
    assert dat[0][1] == body
    imap.logout()
    assert imap.server.peer.wire_out < len(body)


def _append_play(p: Peer) -> None:
    p.hello()
    p.compress_ok()
    tag = p.expect("APPEND INBOX {11}")
    p.send(b"+ go")
    assert p.raw(13) == b"hello world\r\n"
    p.send(b"{tag} OK [APPENDUID 1 5] appended", tag=tag)
    p.logout()


def test_append_through_deflate(serve: Any) -> None:
    imap = serve(_append_play)
    imap.compress()
    assert imap.append("INBOX", None, None, b"hello world")[0] == "OK"
    imap.logout()


# ------------------------------------------------- reading paths of the engine


class _Overrides:
    """A subclass overriding read/readline (the engine then calls them)."""

    calls = 0

    def readline(self) -> bytes:
        _Overrides.calls += 1
        return super().readline()  # type: ignore[misc,no-any-return]

    def read(self, size: int) -> bytes:
        return super().read(size)  # type: ignore[misc,no-any-return]


class _FileReads:
    """Reads `self.file` itself, as 3.9-3.13's imaplib does."""

    def readline(self) -> bytes:
        return self.file.readline()  # type: ignore[attr-defined,no-any-return]

    def read(self, size: int) -> bytes:
        return self.file.read(size)  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("mixin", [_Overrides, _FileReads])
def test_overridden_read_paths(serve: Any, target: Any, mixin: type) -> None:
    if mixin is _FileReads and not FILE_ATTR:
        pytest.skip("`file` is a property on 3.14+ (imaplib reads sock itself)")
    cls = type("Sub", (mixin, target.IMAP4), {})
    body = text_body(700_000, seed=3)

    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        tag = p.expect("FETCH 1 (BODY[])")
        p.send_bytes(
            b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body + b")\r\n" + tag + b" OK done\r\n", 50
        )
        p.logout()

    imap = serve(play, cls)
    imap.state = "SELECTED"
    imap.compress()
    if FILE_ATTR:
        assert imap.file.raw._sock is imap.sock
    assert imap.fetch("1", "(BODY[])")[1][0][1] == body
    imap.logout()
    if mixin is _Overrides:
        assert _Overrides.calls > 0


def test_debug_log_shows_plaintext(serve: Any, capsys: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        p.send(b"* 9 EXISTS", b"{tag} OK noop-done", tag=p.expect("NOOP"))
        p.logout()

    imap = serve(play)
    imap.debug = 5
    imap.compress()
    imap.noop()
    imap.logout()
    err = capsys.readouterr().err
    assert "NOOP" in err and "noop-done" in err and "9 EXISTS" in err


# ----------------------------------------------------------------------- IDLE


def test_idle_responses_arrive_compressed(serve: Any) -> None:
    go = threading.Event()

    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        tag = p.expect("IDLE")
        p.send(b"+ idling")
        assert go.wait(10)
        p.send(b"* 4 EXISTS")
        time.sleep(0.05)
        p.send(b"* 1 RECENT")
        assert p.line() == b"DONE"
        p.send(b"{tag} OK idle done", tag=tag)
        p.logout()

    imap = serve(play)
    imap.state = "SELECTED"
    imap.compress()
    got = []
    with imap.idle(duration=5) as idler:
        go.set()
        for resp in idler:
            got.append(resp)
            if len(got) == 2:
                break
    assert got == [("EXISTS", [b"4"]), ("RECENT", [b"1"])]
    imap.logout()


def test_idle_timeout_keeps_inflater_state(serve: Any) -> None:
    later = threading.Event()

    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        tag = p.expect("IDLE")
        p.send(b"+ idling")
        # Deflate input that inflates to nothing yet, before the client's wait
        # times out; the rest after.
        data, quiet = p.deflated(b"* 5 EXISTS\r\n")
        assert quiet > 0
        p.conn.sendall(data[:quiet])
        assert later.wait(10)
        p.conn.sendall(data[quiet:])
        assert p.line() == b"DONE"
        p.send(b"* 6 EXISTS", b"{tag} OK idle done", tag=tag)
        p.send(b"* 7 EXISTS", b"{tag} OK noop", tag=p.expect("NOOP"))
        p.logout()

    imap = serve(play)
    imap.state = "SELECTED"
    imap.compress()
    with imap.idle(duration=0.3) as idler:
        assert list(idler) == []  # timed out: nothing complete arrived
        later.set()
    # DONE's completion read the rest: the response begun before the timeout.
    imap.noop()
    assert imap.untagged_responses["EXISTS"][-3:] == [b"5", b"6", b"7"]
    imap.logout()


# ---------------------------------------------------------------------- rules


def test_corrupt_stream_aborts(serve: Any, target: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok()
        p.expect("NOOP")
        p.conn.sendall(b"\xff\xff* 1 EXISTS\r\nA5 OK fake\r\n")
        p.line()

    imap = serve(play)
    imap.compress()
    with pytest.raises(
        target.IMAP4.abort, match="COMPRESS: corrupt deflate stream from the server"
    ):
        imap.noop()


def _compress_then_logout(p: Peer) -> None:
    p.hello()
    p.compress_ok()
    p.logout()


@pytest.fixture
def compressed(serve: Any) -> Any:
    """A session that has turned COMPRESS on; the server then expects LOGOUT."""
    imap = serve(_compress_then_logout)
    imap.compress()
    return imap


def test_not_offered(serve: Any, target: Any) -> None:
    def play(p: Peer) -> None:
        p.hello(caps=b"* CAPABILITY IMAP4rev1")
        p.logout()

    imap = serve(play)
    with pytest.raises(target.IMAP4.error, match="COMPRESS=DEFLATE not supported"):
        imap.compress()  # after asking for CAPABILITY again
    assert "COMPRESS" not in target.Commands
    assert imap.server.peer.lines[-1].endswith(b"CAPABILITY")
    imap.logout()


def test_second_compress_refused(compressed: Any, target: Any) -> None:
    imap = compressed
    with pytest.raises(target.IMAP4.error, match="already active"):
        imap.compress()
    imap.logout()


def test_starttls_after_compress_refused(compressed: Any, target: Any) -> None:
    imap = compressed
    with pytest.raises(target.IMAP4.error, match="STARTTLS after COMPRESS"):
        imap.starttls()
    imap.logout()  # nothing was sent: the next command is LOGOUT


def test_refused_by_server(serve: Any, target: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.send(b"{tag} NO [COMPRESSIONACTIVE] no", tag=p.expect("COMPRESS DEFLATE"))
        p.send(b"{tag} OK plain", tag=p.expect("NOOP"))
        p.logout()

    imap = serve(play)
    sock = imap.sock
    with pytest.raises(target.IMAP4.error, match="COMPRESS command error: NO"):
        imap.compress()
    assert imap.sock is sock
    assert imap.noop()[0] == "OK"
    imap.logout()


def test_wrong_state(serve: Any, target: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.logout()

    imap = serve(play)
    imap.state = "NONAUTH"
    with pytest.raises(target.IMAP4.error, match="illegal in state NONAUTH"):
        imap.compress()
    imap.state = "AUTH"
    imap.logout()


def test_compressed_bytes_right_after_the_ok(serve: Any) -> None:
    def play(p: Peer) -> None:
        p.hello()
        p.compress_ok(after=b"* 1 EXISTS\r\n")
        p.send(b"{tag} OK done", tag=p.expect("NOOP"))
        p.logout()

    imap = serve(play)
    assert imap.compress()[0] == "OK"
    assert imap.noop()[0] == "OK"
    assert imap.response("EXISTS") == ("EXISTS", [b"1"])  # read with the OK, inflated
    imap.logout()


def test_logout_closes_the_socket(compressed: Any) -> None:
    imap = compressed
    raw = imap.sock.raw
    imap.logout()
    assert raw.fileno() == -1


# ------------------------------------------------------------ DeflateSocket


def _pair() -> tuple[Any, socket.socket]:
    from imaplib_c._compress import DeflateSocket

    a, b = socket.socketpair()
    return DeflateSocket(a), b


def test_bomb_is_inflated_only_as_asked() -> None:
    sock, peer = _pair()
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = bomb.compress(b"\0" * (64 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    assert len(data) < 100_000
    threading.Thread(target=peer.sendall, args=(data,), daemon=True).start()
    buf = bytearray(1000)
    total = 0
    for _ in range(50):
        n = sock.recv_into(buf)
        assert 0 < n <= 1000
        total += n
    assert total == 50_000
    assert len(sock.recv(10)) == 10
    sock.close()
    peer.close()


def test_timeout_in_the_middle_of_a_block() -> None:
    sock, peer = _pair()
    sock.settimeout(0.05)
    assert sock.gettimeout() == 0.05
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = z.compress(b"abc" * 1000) + z.flush(zlib.Z_SYNC_FLUSH)
    peer.sendall(data[:5])
    out = b""
    with pytest.raises((TimeoutError, socket.timeout)):
        while True:
            out += sock.recv(10_000)  # a first part may come, then the timeout
    peer.sendall(data[5:])
    sock.settimeout(5)
    while len(out) < 3000:
        out += sock.recv(10_000)
    assert out == b"abc" * 1000  # nothing lost to the timeout
    sock.close()
    peer.close()


def test_send_is_deflated_and_flushed() -> None:
    sock, peer = _pair()
    sock.sendall(b"A1 NOOP\r\n")
    assert sock.send(b"A2 NOOP\r\n") == 9
    got = zlib.decompressobj(-15).decompress(peer.recv(1000))
    assert got == b"A1 NOOP\r\nA2 NOOP\r\n"
    sock.close()
    peer.close()
