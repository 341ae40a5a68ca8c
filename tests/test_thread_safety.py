"""Threads, signals, timeouts and callbacks into Python (issue 7).

Each test forces one interleaving deterministically: the scripted server holds
its reply until the test sets an event, and the client side waits for
events set from inside the code under test (a socket subclass's recv_into, an
override).  Where the stdlib has a defined behaviour the module under test
must match it; the imaplib_c-only guarantees (a per-command thread guard, a
broken connection refusing reads) are asserted for the module under test.
"""

from __future__ import annotations

import copy
import signal
import socket
import subprocess
import sys
import threading
import time
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO_ROOT, STDLIB, TARGET_IS_STDLIB, load_target
from imaplib_features import keeps_partial_line, reads_socket_itself, refuses_oversized_literal

from testsupport.scripted_server import HELLO, Close, ScriptedServer, Send, WaitFor, cmd, send

mod = load_target()
both = pytest.mark.parametrize("m", [mod, STDLIB], ids=["target", "stdlib"])


def _skip_unguarded_stdlib(m: ModuleType) -> None:
    """The reentrancy tests hold for the stdlib where its reads go through a
    BufferedReader, which refuses a reentrant call; an imaplib that reads
    ``sock`` into its own buffer (3.14 on) has no such guard, and imaplib_c
    keeps refusing there (asserted by the ``target`` run)."""
    if m is STDLIB and reads_socket_itself(STDLIB):
        pytest.skip(
            "this imaplib reads the socket into its own buffer: no BufferedReader refuses a reentrant read"
        )


def _socket_class(on_recv: Any) -> type[socket.socket]:
    class HookedSocket(socket.socket):
        def recv_into(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
            on_recv(self)
            return super().recv_into(*args, **kwargs)

    return HookedSocket


def _client(
    m: ModuleType, port: int, sock_cls: type[socket.socket] | None = None, **kw: Any
) -> Any:
    """IMAP4 on 127.0.0.1:port whose socket is of class sock_cls."""

    class Client(m.IMAP4):  # type: ignore[name-defined,misc]
        def _create_socket(self, timeout: Any) -> socket.socket:
            s = super()._create_socket(timeout)
            if sock_cls is None:
                return s
            h = sock_cls(s.family, s.type, s.proto, fileno=s.detach())
            h.settimeout(timeout)
            return h

    M = Client("127.0.0.1", port, **kw)
    M.state = "SELECTED"
    return M


# 1. ---------------------------------------------------------------- signals


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
@both
def test_signal_handler_reading_again_is_refused(m: ModuleType) -> None:
    """A SIGALRM handler calls readline() while noop() is blocked in recv."""
    _skip_unguarded_stdlib(m)
    go = threading.Event()
    big = b"* XBIG " + b"x" * 600_000
    server = ScriptedServer(
        HELLO + [cmd("NOOP"), WaitFor(go), send(big, b"* 5 EXISTS", b"{tag} OK done")], timeout=10
    )
    M = _client(m, server.port)
    seen: list[BaseException] = []

    def handler(*_: Any) -> None:
        go.set()
        try:
            M.readline()
        except RuntimeError as exc:
            seen.append(exc)

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        assert M.noop() == ("OK", [b"done"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        M.shutdown()
        server.stop()
    assert len(seen) == 1 and "reentrant call" in str(seen[0])
    assert M.untagged_responses["XBIG"] == [b"x" * 600_000]
    assert M.untagged_responses["EXISTS"] == [b"5"]


@both
def test_recv_into_calling_back_is_refused(m: ModuleType) -> None:
    """A socket subclass whose recv_into reads from the IMAP4 object again."""
    _skip_unguarded_stdlib(m)
    seen: list[BaseException] = []
    state: dict[str, Any] = {"armed": False, "M": None}

    def on_recv(_: socket.socket) -> None:
        if state["armed"]:
            state["armed"] = False
            try:
                state["M"].readline()
            except RuntimeError as exc:
                seen.append(exc)

    big = b"* XBIG " + b"y" * 300_000
    server = ScriptedServer(HELLO + [cmd("NOOP"), send(big, b"{tag} OK done")], timeout=10)
    M = state["M"] = _client(m, server.port, _socket_class(on_recv))
    try:
        state["armed"] = True
        assert M.noop() == ("OK", [b"done"])
    finally:
        M.shutdown()
        server.stop()
    assert len(seen) == 1 and "reentrant call" in str(seen[0])
    assert M.untagged_responses["XBIG"] == [b"y" * 300_000]


# 2. ------------------------------------------------ shutdown from a thread


_SHUTDOWN_SCRIPT = """
import sys, threading, socket
sys.path.insert(0, {repo!r})
import {mod} as m
from testsupport.scripted_server import HELLO, ScriptedServer, Send, Signal, WaitFor, cmd, send
m._MAXLINE = 10_000_000
sent_more, done = threading.Event(), threading.Event()
# A >1 MiB partial line is buffered, then the server holds: the reader is
# blocked in recv with a large buffer when shutdown() comes.
server = ScriptedServer(HELLO + [
    cmd("FETCH 1:* (UID)"), Send(b"* 1 FETCH (UID " + b"9" * 2_000_000),
    WaitFor(sent_more), Send(b"9" * 500_000), Signal(done), WaitFor(threading.Event(), 5)],
    timeout=10)
blocked, returned = threading.Event(), threading.Event()
total = [0]

class Sock(socket.socket):
    def recv_into(self, buf, *a):
        if total[0] >= 2_000_000:
            blocked.set()
        n = super().recv_into(buf, *a)
        total[0] += n
        if blocked.is_set():
            returned.set()
        return n
    def recv(self, size, *a):  # imaplib's own read buffer (3.14 on) calls this
        if total[0] >= 2_000_000:
            blocked.set()
        data = super().recv(size, *a)
        total[0] += len(data)
        if blocked.is_set():
            returned.set()
        return data

class File:
    # file.close() runs while shutdown() is half done: let more data
    # arrive into the reader's recv before the socket is shut down.
    def __init__(self, real): self.real = real; self.raw = real.raw
    def readline(self, *a): return self.real.readline(*a)
    def read(self, *a): return self.real.read(*a)
    def close(self):
        sent_more.set(); done.wait(5); returned.wait(2); self.real.close()

class C(m.IMAP4):
    def _create_socket(self, timeout):
        s = super()._create_socket(timeout)
        return Sock(s.family, s.type, s.proto, fileno=s.detach())
    def open(self, *a, **k):
        super().open(*a, **k)
        # The socket file that the interpreter's shutdown() closes: "file" up
        # to 3.13, "_file" in 3.14, "_imaplib_file" from 3.15 (where "file" is
        # a property).
        name = next(n for n in ("_imaplib_file", "_file", "file") if n in vars(self))
        setattr(self, name, File(getattr(self, name)))

M = C("127.0.0.1", server.port)
M.state = "SELECTED"
out = []
def run():
    try:
        out.append(("ok", M.fetch("1:*", "(UID)")))
    except (OSError, ValueError, m.IMAP4.error) as exc:
        out.append(("clear", type(exc).__name__, str(exc)[:80]))
t = threading.Thread(target=run); t.start()
assert blocked.wait(10)
try:
    M.shutdown()
except OSError:
    pass
t.join(10)
assert not t.is_alive()
server.stop()
print("RESULT", out)
"""


def test_shutdown_from_another_thread_while_reading() -> None:
    """Another thread shuts down while fetch() is in recv with a 2 MB buffer."""
    code = _SHUTDOWN_SCRIPT.format(repo=str(REPO_ROOT), mod=mod.__name__)
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        assert result, proc.stdout
        # The fetch ends in a clear exception (the connection went away
        # under it), never a crash or a hang.
        assert "'clear'" in result[0], result


def test_shutdown_from_another_thread_wakes_blocked_reader(only_extension: None) -> None:
    """The common pattern: stop a reader blocked on a silent server."""
    hold, in_recv = threading.Event(), threading.Event()
    server = ScriptedServer(HELLO + [cmd("NOOP"), WaitFor(hold, 10)], timeout=15)
    holder: dict[str, Any] = {}

    def on_recv(_: socket.socket) -> None:
        # Whether shutdown() lands just before or during this recv, the
        # reader must end with the same clear exception.
        if holder.get("M") is not None and holder["M"].tagged_commands:
            in_recv.set()

    M = holder["M"] = _client(mod, server.port, _socket_class(on_recv))
    out: list[BaseException] = []
    real = M.sock

    def run() -> None:
        try:
            M.noop()
        except BaseException as exc:  # noqa: BLE001 - recorded
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    try:
        assert in_recv.wait(10)
        M.shutdown()
        t.join(5)
    finally:
        hold.set()
        server.stop()
    assert not t.is_alive()
    assert len(out) == 1 and isinstance(out[0], (mod.IMAP4.abort, OSError)), out
    assert real.fileno() == -1


# 3. ------------------------------------------------- timeout in a literal


def _timeout_in_literal_script(go: threading.Event) -> list[Any]:
    body = (
        b"Subject: x\r\n\r\n* 31337 EXISTS\r\n* OK [ALERT] pwned\r\n* CAPABILITY EVIL\r\n"
        + b"z" * 40
    )
    first = b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body[:20]
    return HELLO + [
        cmd("FETCH 1 (BODY[])"),
        Send(first),
        WaitFor(go),
        Send(body[20:] + b")\r\n"),
        Send(b"{tag} OK done\r\n"),
        cmd("NOOP"),
        send(b"{tag} OK noop"),
    ]


@both
def test_timeout_inside_literal_never_parses_the_body(m: ModuleType) -> None:
    go = threading.Event()
    server = ScriptedServer(_timeout_in_literal_script(go), timeout=10)
    M = _client(m, server.port, timeout=0.3)
    try:
        with pytest.raises((TimeoutError, socket.timeout, m.IMAP4.abort)):
            M.fetch("1", "(BODY[])")
        go.set()
        time.sleep(0.2)
        with pytest.raises((OSError, m.IMAP4.abort)) as info:
            M.noop()
        for key in ("EXISTS", "OK", "CAPABILITY"):
            assert key not in M.untagged_responses, M.untagged_responses
        if m is mod and not TARGET_IS_STDLIB:
            assert isinstance(info.value, mod.IMAP4.abort)
            assert "middle of a response" in str(info.value)
            assert "timed out" in str(info.value)
    finally:
        M.shutdown()
        server.stop()


@both
def test_timeout_before_a_response_is_recoverable(m: ModuleType) -> None:
    """IDLE-style waiting: nothing of a response has arrived yet."""
    go = threading.Event()
    script = HELLO + [cmd("NOOP"), WaitFor(go), send(b"* 2 EXISTS", b"{tag} OK late")]
    server = ScriptedServer(script, timeout=10)
    M = _client(m, server.port)
    try:
        tag = M._command("NOOP")
        M.sock.settimeout(0.2)
        with pytest.raises((TimeoutError, socket.timeout)):
            M._get_response()
        go.set()
        M.sock.settimeout(5)
        if m is STDLIB and not keeps_partial_line(STDLIB):
            pytest.skip("this imaplib's socket file refuses every read after a timeout")
        assert M._command_complete("NOOP", tag) == ("OK", [b"late"])
        assert M.untagged_responses["EXISTS"] == [b"2"]
    finally:
        M.shutdown()
        server.stop()


def _partial_line_then_timeout(m: ModuleType, after: Any) -> Any:
    """noop() times out inside a line ("* 1 EXI"); the rest of it and the
    tagged reply arrive; return ``after(M)``."""
    go = threading.Event()
    script = HELLO + [cmd("NOOP"), Send(b"* 1 EXI"), WaitFor(go), send(b"STS", b"{tag} OK x")]
    server = ScriptedServer(script, timeout=10)
    M = _client(m, server.port, timeout=0.3)
    try:
        with pytest.raises((TimeoutError, socket.timeout)):
            M.noop()
        go.set()
        return after(M)
    finally:
        M.shutdown()
        server.stop()


def test_timeout_in_partial_line_breaks_the_connection(only_extension: None) -> None:
    """Where the interpreter's imaplib refuses reads after a timeout (its
    socket file, up to 3.13), the engine marks the connection broken.  Where
    imaplib keeps the start of the line in its own buffer and finishes it on
    the next read (3.14 on, what IDLE relies on), the engine does the same."""
    if keeps_partial_line(STDLIB):

        def finish(M: Any) -> Any:
            M.sock.settimeout(5)
            return [M.readline(), M.readline().split(b" ", 1)[1]]

        want = [b"* 1 EXISTS\r\n", b"OK x\r\n"]
        assert _partial_line_then_timeout(STDLIB, finish) == want
        assert _partial_line_then_timeout(mod, finish) == want
        return

    def refused(M: Any) -> None:
        with pytest.raises(mod.IMAP4.abort, match="middle of a response"):
            M.readline()
        with pytest.raises(mod.IMAP4.abort, match="middle of a response"):
            M.read(1)

    _partial_line_then_timeout(mod, refused)


# 4. ------------------------------------------ one guard for the whole command


def test_guard_covers_the_whole_command(only_extension: None) -> None:
    """select() from a thread between fetch()'s two halves is refused."""
    between, release = threading.Event(), threading.Event()
    script = HELLO + [cmd("FETCH 1 (FLAGS)"), send(b"* 1 FETCH (FLAGS ())", b"{tag} OK done")]
    server = ScriptedServer(script, timeout=10)

    class C(mod.IMAP4):  # type: ignore[misc,name-defined]
        def _untagged_response(self, *a: Any) -> Any:
            between.set()
            release.wait(5)
            return super()._untagged_response(*a)

    M = C("127.0.0.1", server.port)
    M.state = "SELECTED"
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(M.fetch("1", "(FLAGS)")))
    t.start()
    try:
        assert between.wait(5)
        for call in (
            lambda: M.select(),
            lambda: M.noop(),
            lambda: M._simple_command("NOOP"),
            M.readline,
        ):
            with pytest.raises(RuntimeError, match="another thread"):
                call()
    finally:
        release.set()
        t.join(5)
        M.shutdown()
        server.stop()
    assert out == [("OK", [b"1 (FLAGS ())"])]


def test_guard_leaves_signatures_and_identity() -> None:
    import inspect

    g = vars(mod.IMAP4)["fetch"]  # the guarded wrapper in the class dict
    assert inspect.signature(g) == inspect.signature(g.__wrapped__)
    assert g.__name__ == "fetch" and g.__doc__ == g.__wrapped__.__doc__
    # Through the class, the interpreter's own function (tools introspect it).
    assert mod.IMAP4.fetch is g.__wrapped__ is STDLIB.IMAP4.fetch
    assert "message_set" in str(inspect.signature(mod.IMAP4.fetch))


# 5. ------------------------------------------------------- the filed keys


@both
def test_untagged_keys_after_an_equal_but_distinct_key(m: ModuleType) -> None:
    # Twelve-letter words: their str objects share a size class with no
    # other object the engine makes per line, so a freed word's memory is
    # what the next word gets (how a dangling pointer showed up).
    kinds = [
        b"XFOOXFOOXFOO",
        b"NEWTNEWTNEWT",
        b"WWWWWWWWWWWW",
        b"XFOOXFOOXFOO",
        b"QQQQQQQQQQQQ",
        b"RRRRRRRRRRRR",
        b"XFOOXFOOXFOO",
        b"SSSSSSSSSSSS",
        b"TTTTTTTTTTTT",
    ]
    lines = [b"* %s v%d" % (k, i) for i, k in enumerate(kinds)]
    server = ScriptedServer(HELLO + [cmd("NOOP"), send(*lines, b"{tag} OK done")], timeout=10)
    M = _client(m, server.port)
    try:
        key = "".join(["XFOO"] * 3)  # equal to the type word, a different object
        M.untagged_responses = {key: []}
        M.noop()
        got = {k: list(v) for k, v in M.untagged_responses.items()}
    finally:
        M.shutdown()
        server.stop()
    assert got[key] == [b"v0", b"v3", b"v6"]
    for i, k in enumerate(kinds):
        if k != key.encode():
            assert got[k.decode()] == [b"v%d" % i]


# 6. --------------------------------------------- rejected arguments leak nothing


def test_rejected_arguments_take_no_tag(only_extension: None) -> None:
    server = ScriptedServer(HELLO + [cmd("NOOP"), send(b"{tag} OK done")], timeout=10)
    M = _client(mod, server.port)
    try:
        before = (M.tagnum, dict(M.tagged_commands))
        for bad in ("IN\rBOX", b"a\nb", "x\0y"):
            for _ in range(50):
                with pytest.raises(ValueError, match="Control characters"):
                    M.select(bad)
        assert (M.tagnum, M.tagged_commands) == before
        assert M.noop() == ("OK", [b"done"])
    finally:
        M.shutdown()
        server.stop()


# -------------------------------------------------------- smaller differences


@both
def test_copy_copy(m: ModuleType) -> None:
    server = ScriptedServer(HELLO, timeout=10)
    M = _client(m, server.port)
    try:
        c = copy.copy(M)
        assert type(c) is type(M)
        assert c.__dict__ == M.__dict__ and c.sock is M.sock
    finally:
        M.shutdown()
        server.stop()


@both
def test_readline_override_returning_none_is_eof(m: ModuleType) -> None:
    server = ScriptedServer(HELLO + [cmd("NOOP")], timeout=10)

    class C(m.IMAP4):  # type: ignore[name-defined,misc]
        dead = False

        def readline(self) -> Any:
            return None if self.dead else super().readline()

    M = C("127.0.0.1", server.port)
    try:
        M.dead = True
        with pytest.raises(m.IMAP4.abort, match="EOF"):
            M.noop()
    finally:
        M.shutdown()
        server.stop()


@both
def test_huge_literal_fails_at_once(m: ModuleType) -> None:
    """A literal announced larger than sys.maxsize: where the interpreter's
    imaplib refuses it at once (``file.read``, up to 3.13.0), so does the
    engine; where imaplib reads what arrives (in bounded chunks) until EOF or
    a timeout, the engine waits the same way (README, deliberate differences)."""
    refuses = refuses_oversized_literal(STDLIB)
    hold = threading.Event()
    script = HELLO + [cmd("NOOP"), send(b"* 1 FETCH (BODY[] {%d}" % (2**64)), WaitFor(hold, 10)]
    server = ScriptedServer(script, timeout=15)
    M = _client(m, server.port, timeout=5 if refuses else 0.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(Exception) as info:
            M.noop()
        if refuses:
            assert time.monotonic() - t0 < 3, "waited for a literal that can never arrive"
            assert not isinstance(info.value, (TimeoutError, socket.timeout))
        else:
            assert time.monotonic() - t0 >= 0.4, "did not wait for the literal as imaplib does"
            assert isinstance(info.value, (TimeoutError, socket.timeout)), info.value
    finally:
        hold.set()
        M.shutdown()
        server.stop()


def test_line_over_maxline_breaks_the_connection(only_extension: None, monkeypatch: Any) -> None:
    monkeypatch.setattr(mod, "_MAXLINE", 100)
    script = HELLO + [
        cmd("NOOP"),
        send(b"* XLONG " + b"a" * 300 + b" * 9 EXISTS", b"{tag} OK done"),
    ]
    server = ScriptedServer(script, timeout=10)
    M = _client(mod, server.port)
    try:
        with pytest.raises(mod.IMAP4.error, match="got more than 100 bytes"):
            M.noop()
        with pytest.raises(mod.IMAP4.abort, match="middle of a response"):
            M.readline()
        assert "EXISTS" not in M.untagged_responses
    finally:
        M.shutdown()
        server.stop()


@both
def test_tagpre_changed_mid_session(m: ModuleType) -> None:
    """imaplib matches replies with the tagre made in __init__."""
    script = HELLO + [cmd("NOOP"), send(b"{tag} OK done"), Close()]
    server = ScriptedServer(script, timeout=10)
    M = _client(m, server.port)
    try:
        M.tagpre = b"ABCD"
        with pytest.raises(m.IMAP4.abort, match="unexpected response"):
            M.noop()
    finally:
        M.shutdown()
        server.stop()
