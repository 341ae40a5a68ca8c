"""Hostile servers and hostile arguments.

Where the stdlib has a defined behaviour the module under test must match it;
the deliberate imaplib_c hardening (bounded literal reads, the busy guard
against concurrent use, control characters in arguments) is asserted for the
module under test only.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from conftest import REPO_ROOT, STDLIB, TARGET_IS_STDLIB, TARGET_NAME, load_target
from imaplib_features import refuses_oversized_literal, rereads_cut_literal
from outcomes import as_eof, describe_exc, typed

from testsupport.scripted_server import (
    HELLO,
    Close,
    ExpectRaw,
    ScriptedServer,
    Send,
    Signal,
    Step,
    WaitFor,
    cmd,
    send,
)

Body = Callable[[ModuleType, int], Any]


def exercise(
    mod: ModuleType, scripts: list[list[Step]], body: Body, seed: int = 7
) -> tuple[str, list[bytes]]:
    """Run ``body(mod, port)`` against a scripted server; describe the outcome."""
    random.seed(seed)
    server = ScriptedServer(*scripts, timeout=10)
    try:
        try:
            result = "-> " + typed(body(mod, server.port))
        except Exception as exc:  # noqa: BLE001 - compared
            result = describe_exc(mod.IMAP4, exc)
    finally:
        server.stop()
    return result, [bytes(c.received) for c in server.connections]


def connect(mod: ModuleType, port: int) -> Any:
    return mod.IMAP4("127.0.0.1", port)


def calls(*names: str) -> Body:
    """Connect, call the named no-argument methods, shut down, return results."""

    def body(mod: ModuleType, port: int) -> Any:
        M = connect(mod, port)
        try:
            return [getattr(M, n)() for n in names]
        finally:
            M.shutdown()

    return body


def compare(scripts: list[list[Step]], body: Body) -> tuple[str, str]:
    target = load_target()
    got, got_wire = exercise(target, scripts, body)
    want, want_wire = exercise(STDLIB, scripts, body)
    assert got_wire == want_wire
    return got, want


# -- line length ---------------------------------------------------------------


@pytest.mark.parametrize("limit", [10, 100, 4096])
@pytest.mark.parametrize("extra", [-3, -2, -1, 0, 1, 50])
def test_maxline_patched(limit: int, extra: int) -> None:
    line = b"* OK " + b"x" * (limit - 7 + extra)  # + CRLF == limit + extra bytes
    scripts = [[send(line), cmd("CAPABILITY"), send(b"* CAPABILITY IMAP4rev1", b"{tag} OK done")]]

    def body(mod: ModuleType, port: int) -> Any:
        with mock.patch.object(mod, "_MAXLINE", limit):
            M = connect(mod, port)
        M.shutdown()
        return M.welcome

    got, want = compare(scripts, body)
    assert got == want


def test_maxline_assignment_mid_session() -> None:
    scripts = [[*HELLO, cmd("NOOP"), send(b"* OK " + b"y" * 200, b"{tag} OK done")]]

    def body(mod: ModuleType, port: int) -> Any:
        M = connect(mod, port)
        saved = mod._MAXLINE
        mod._MAXLINE = 64
        try:
            return M.noop()
        finally:
            mod._MAXLINE = saved
            M.shutdown()

    got, want = compare(scripts, body)
    assert got == want
    assert "got more than 64 bytes" in want


def test_maxline_default_greeting() -> None:
    target = load_target()
    scripts = [[send(b"* OK " + b"x" * target._MAXLINE)]]
    got, want = compare(scripts, connect)
    assert got == want


# -- huge announced literals (gh-119511) ------------------------------------------

EOF_ABORT = "raise abort:abort str='socket error: EOF' args=('socket error: EOF',)"

SIZES = [2**k for k in range(15, 64)] + [10**19 + 7, 99999999999999999999]


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_huge_literal_announced(size: int) -> None:
    if TARGET_IS_STDLIB and size >= 2**24:
        pytest.skip("stdlib 3.11.7 preallocates announced literals (gh-119511)")
    target = load_target()
    scripts = [[Send(b"* OK {%d}\r\nshort line\r\n" % size), Close()]]
    tracemalloc.start()
    try:
        outcome, _ = exercise(target, scripts, connect)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if size > sys.maxsize and refuses_oversized_literal(STDLIB):
        # file.read(size) in imaplib up to 3.13.0 raises this at once; no
        # size that large can ever be read.  Later imaplibs read what arrives
        # until EOF, as the engine does there.
        assert outcome.startswith("raise other:OverflowError"), outcome
    else:
        assert outcome.startswith("raise abort:"), outcome
    assert peak < 16 * 2**20, f"peak {peak} bytes for an announced literal of {size}"
    # The stdlib runs this where it does not allocate the announced size:
    # below 16 MiB, and over sys.maxsize (OverflowError at once, or reads in
    # bounded chunks).
    if size < 2**24 or size > sys.maxsize:
        want, _ = exercise(STDLIB, scripts, connect)
        if rereads_cut_literal(STDLIB) and not TARGET_IS_STDLIB:
            # The literal is cut short by EOF.  This imaplib (3.14 on) reads
            # the partial literal "short line\r\n" again as the line after it,
            # ends the greeting and fails on CAPABILITY; imaplib_c reports EOF
            # inside the literal, as earlier imaplibs do (README, deliberate
            # differences).
            assert outcome == EOF_ABORT, (outcome, want)
        else:
            assert outcome == want


def test_huge_literal_rss_in_subprocess() -> None:
    if TARGET_IS_STDLIB:
        pytest.skip("stdlib 3.11.7 preallocates announced literals (gh-119511)")
    code = textwrap.dedent(
        """
        import importlib, resource, sys
        sys.path.insert(0, sys.argv[1])
        from testsupport.scripted_server import Close, ScriptedServer, Send
        mod = importlib.import_module(sys.argv[2])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for size in (2**33, 2**40, 2**62):
            server = ScriptedServer([Send(b"* OK {%d}\\r\\n" % size + b"z" * 100000 + b"\\r\\n"), Close()])
            try:
                mod.IMAP4("127.0.0.1", server.port)
            except mod.IMAP4.abort:
                pass
            else:
                raise SystemExit("no abort")
            finally:
                server.stop()
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(grown)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(REPO_ROOT), TARGET_NAME],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) < 64 * 1024  # KiB


# -- truncated data and closed connections ------------------------------------------

TRUNCATIONS: list[list[Step]] = [
    [Send(b"* OK {10}\r\nabc"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"* 1 FETCH (BODY[] {100}\r\n" + b"a" * 10), Close()],
    [*HELLO, cmd("NOOP"), Send(b"* 1 FETCH (BODY[] {5}\r\nabcde"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"* 1 FETCH (BODY[] {5}\r\nabcde)"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"* 1 FETCH (BODY[] {5}\r\nabcde\r\n"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"{tag} OK"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"{tag} OK done\r"), Close()],
    [*HELLO, cmd("NOOP"), Send(b"* 3 EXISTS\r\n"), Close()],
    [*HELLO, cmd("NOOP"), Close()],
    [Send(b"* OK"), Close()],
    [Send(b"* OK hi\r\n"), Close()],
    [Send(b"* OK hi\r\n"), cmd("CAPABILITY"), Send(b"* CAPABILITY IMAP4rev1\r\n"), Close()],
    [Send(b"* OK hi\r\n"), cmd("CAPABILITY"), Send(b"* CAPABILITY IMAP4rev1\r\n{tag} OK"), Close()],
    [Close()],
]
# The scripts that close the connection inside a literal: an imaplib that
# keeps what read() returned in its own buffer (3.14 on) reads the partial
# literal again as the next line ("socket error: unterminated line: b'abc'");
# imaplib_c reports "socket error: EOF", as earlier imaplibs do (README,
# deliberate differences).
CUT_LITERAL = {0, 1}


@pytest.mark.parametrize("case", range(len(TRUNCATIONS)), ids=str)
def test_truncated(case: int) -> None:
    got, want = compare([TRUNCATIONS[case]], calls("noop"))
    if case in CUT_LITERAL and rereads_cut_literal(STDLIB) and not TARGET_IS_STDLIB:
        assert want != as_eof(want), want  # the documented difference is there
        assert got == as_eof(want)
    else:
        assert got == want


GARBAGE = [
    b"garbage",
    b"*",
    b"* ",
    b"*  OK",
    b"+",
    b"+garbage",
    b"* 1",
    b"* 1 ",
    b"* -1 EXISTS",
    b"* OK [",
    b"* OK []",
    b"* OK [A",
    b"* 99999999999999999999999 EXISTS",
    b"* OK {}",
    b"* OK {12a}",
    b"* OK {-1}",
    b"* OK { 1}",
    b"* OK {1}x",
    b"\x00\x01\x02",
    b"\xff\xfe OK",
    b"* \xc3\xa9 OK",
    b"{prefix}X OK",
    b"{prefix}1 OK stale tag",
    b"{prefix}2x OK",
    b"{tag}  OK",
    b"{tag} OKAY fine",
    b"{tag} PREAUTH odd",
    b"{tag} BYE odd",
    b"* BYE",
    b"* BYE [ALERT]",
    b"*\tOK",
    b" * OK",
]


@pytest.mark.parametrize("line", GARBAGE, ids=repr)
def test_garbage_line(line: bytes) -> None:
    script = [*HELLO, cmd("NOOP"), send(line), Close()]
    got, want = compare([script], calls("noop"))
    assert got == want


# -- seeded random junk ---------------------------------------------------------------

TOKENS = [
    b"* ", b"{tag} ", b"{tag} OK done", b"{tag} NO no", b"{tag} BAD bad", b"+ ", b"+", b"OK", b"NO", b"BYE",
    b"FETCH", b"EXISTS", b"RECENT", b"(", b")", b"[", b"]", b"[READ-ONLY]", b"[ALERT]", b"{3}", b"{0}", b"{10}",
    b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b" ", b"1", b"42", b"\\Seen", b'"', b"\x00", b"\xff", b"UTF8",
]  # fmt: skip


PREFIXES = [
    b"* ",
    b"* 1 ",
    b"* 12 ",
    b"{tag} ",
    b"+ ",
    b"+",
    b"* OK ",
    b"* 2 FETCH (",
    b"{prefix}7 ",
]


def junk(rng: random.Random) -> bytes:
    out = b""
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.85:
            out += rng.choice(PREFIXES)
        for _ in range(rng.randint(0, 8)):
            if rng.random() < 0.85:
                out += rng.choice(TOKENS)
            else:
                out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.9:
            out += b"\r\n"
    return re.sub(rb"\{(\d{6,})\}", b"{1}", out)


JUNK_CASES = 300


def _summary(outcome: str) -> str:
    if outcome.startswith("raise "):
        return outcome.split(" str=")[0]
    return outcome


@pytest.mark.parametrize("case", range(JUNK_CASES))
def test_random_junk(case: int) -> None:
    data = junk(random.Random(case))
    script = [*HELLO, cmd("NOOP"), Send(data), Close()]
    got, want = compare([script], calls("noop"))
    assert _summary(got) == _summary(want), f"junk {data!r}"


def test_random_junk_messages() -> None:
    diffs = []
    for case in range(JUNK_CASES):
        data = junk(random.Random(case))
        script = [*HELLO, cmd("NOOP"), Send(data), Close()]
        got, want = compare([script], calls("noop"))
        if got != want:
            diffs.append((data, got, want))
    assert not diffs


# -- concurrent use of one object (imaplib_c addition) ---------------------------------


@pytest.mark.usefixtures("only_extension", "no_thread_leak")
@pytest.mark.parametrize("second_call", ["noop", "capability", "select", "check"])
def test_second_thread_gets_runtime_error(second_call: str) -> None:
    target = load_target()
    got_noop, release = threading.Event(), threading.Event()
    script = [
        *HELLO,
        cmd("NOOP"),
        Signal(got_noop),
        WaitFor(release),
        send(b"{tag} OK noop done"),
        cmd("NOOP"),
        send(b"{tag} OK again"),
    ]
    server = ScriptedServer(script)
    results: list[Any] = []
    try:
        M = target.IMAP4("127.0.0.1", server.port)
        worker = threading.Thread(target=lambda: results.append(M.noop()))
        worker.start()
        try:
            assert got_noop.wait(10)
            with pytest.raises(RuntimeError):
                getattr(M, second_call)()
        finally:
            release.set()
            worker.join(10)
        assert results == [("OK", [b"noop done"])]
        assert M.noop() == ("OK", [b"again"])
        M.shutdown()
    finally:
        server.stop()
    server.check()


# -- control characters in arguments (CVE-2025-15366, imaplib_c) ----------------------

CONTROL = ["\r", "\n", "\0", "\r\n"]
INJECTIONS: list[tuple[str, Callable[[Any, str], Any]]] = [
    ("login-user", lambda M, c: M.login(f"us{c}er", "pw")),
    ("login-password", lambda M, c: M.login("user", f"p{c}w")),
    ("select", lambda M, c: M.select(f"IN{c}BOX")),
    ("create-bytes", lambda M, c: M.create(f"a{c}b".encode())),
    ("search", lambda M, c: M.search(None, f"ALL{c}X1 LOGOUT")),
    ("fetch", lambda M, c: M.fetch("1", f"(FLAGS){c}")),
    ("xatom", lambda M, c: M.xatom("XFOO", f"{c}")),
    ("uid", lambda M, c: M.uid("FETCH", f"1{c}", "FLAGS")),
    ("append-mailbox", lambda M, c: M.append(f"IN{c}BOX", None, None, b"x")),
    ("simple_command", lambda M, c: M._simple_command("NOOP", f"x{c}")),
]


@pytest.mark.usefixtures("only_extension")
@pytest.mark.parametrize("char", CONTROL, ids=repr)
@pytest.mark.parametrize("name,call", INJECTIONS, ids=[n for n, _ in INJECTIONS])
def test_control_characters_rejected(name: str, call: Callable[[Any, str], Any], char: str) -> None:
    target = load_target()
    script = [*HELLO, cmd("NOOP"), send(b"{tag} OK after")]
    saved = dict(target.Commands)
    server = ScriptedServer(script)
    try:
        M = target.IMAP4("127.0.0.1", server.port)
        M.state = "SELECTED" if name not in ("login-user", "login-password") else "NONAUTH"
        with pytest.raises(ValueError, match=r"^Control characters not allowed in commands$"):
            call(M, char)
        M.literal = None  # as in CPython, a rejected APPEND leaves its literal pending
        M.state = "NONAUTH"
        assert M.noop() == ("OK", [b"after"])
        M.shutdown()
    finally:
        server.stop()
        target.Commands.clear()
        target.Commands.update(saved)
    server.check()
    assert server.received.count(b"\r\n") == 2  # CAPABILITY and NOOP only


def test_literal_data_may_contain_crlf() -> None:
    script = [
        *HELLO,
        cmd("APPEND INBOX {8}"),
        send(b"+ go"),
        ExpectRaw(b"a\r\nb\r\n\x00c\r\n"),
        send(b"{tag} OK appended"),
    ]

    def body(mod: ModuleType, port: int) -> Any:
        M = connect(mod, port)
        M.state = "AUTH"
        try:
            return M.append("INBOX", None, None, b"a\nb\r\n\x00c")
        finally:
            M.shutdown()

    got, want = compare([script], body)
    assert got == want == "-> ('OK', [b'appended'])"


def test_stdlib_target_marker() -> None:
    assert (TARGET_NAME == "imaplib") is TARGET_IS_STDLIB
    assert os.environ.get("IMAPLIB_C_TARGET", "imaplib_c") == TARGET_NAME
