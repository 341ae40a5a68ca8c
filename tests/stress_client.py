"""Random interleavings of signals, threads, shutdown() and timeouts.

Run as a script (tests/test_stress.py starts it in a subprocess, so that a
crash or a sanitizer report fails the test instead of killing pytest):

    python tests/stress_client.py MODULE SECONDS SEED

A permissive loopback server answers every command, sending its replies in
random chunks with random pauses; message bodies contain lines that look like
responses ("* 9 INJECTED ...").  Against it, for SECONDS: a SIGALRM handler
calls methods at random moments, a second thread calls methods and
shutdown(), the socket's recv_into sometimes calls back into the object,
and socket timeouts are short.  Every call must return a result or raise one
of the clear exceptions; nothing the server sent inside a literal may ever be
filed as a response.  Prints "OK <calls> <outcomes>" at the end.
"""

from __future__ import annotations

import collections
import importlib
import os
import random
import signal
import socket
import sys
import threading
import time
from typing import Any

BODY = b"Subject: s\r\n\r\n* 9 INJECTED\r\n* OK [ALERT] injected\r\n" + b"b" * 3000
ALLOWED_KEYS = {"EXISTS", "FETCH", "OK", "BYE", "CAPABILITY", "READ-WRITE", "RECENT", "FLAGS"}


def serve_one(conn: socket.socket, rnd: random.Random) -> None:
    def out(data: bytes) -> None:
        while data:
            n = rnd.choice([1, 7, 100, 4096, len(data)])
            conn.sendall(data[:n])
            data = data[n:]
            if rnd.random() < 0.05:
                time.sleep(rnd.choice([0.001, 0.02, 0.15]))

    f = conn.makefile("rb")
    try:
        out(b"* OK ready\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            parts = line.split()
            if len(parts) < 2:
                continue
            tag, name = parts[0], parts[1].upper()
            if name == b"CAPABILITY":
                out(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
            elif name == b"FETCH":
                body = BODY[: rnd.randrange(10, len(BODY))]
                out(
                    b"* 1 FETCH (BODY[] {%d}\r\n" % len(body)
                    + body
                    + b")\r\n"
                    + tag
                    + b" OK done\r\n"
                )
            elif name == b"LOGOUT":
                out(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            else:
                out(b"* 3 EXISTS\r\n* 1 RECENT\r\n" + tag + b" OK done\r\n")
    except OSError:
        return
    finally:
        conn.close()


def server(ls: socket.socket, seed: int) -> None:
    rnd = random.Random(seed)
    while True:
        try:
            conn, _ = ls.accept()
        except OSError:
            return
        threading.Thread(
            target=serve_one, args=(conn, random.Random(rnd.random())), daemon=True
        ).start()


def main() -> None:
    modname, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    # the checkout's build, not an installed copy
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mod = importlib.import_module(modname)
    rnd = random.Random(seed)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    threading.Thread(target=server, args=(ls, seed), daemon=True).start()
    port = ls.getsockname()[1]
    clear = (mod.IMAP4.error, OSError, RuntimeError, ValueError, EOFError)
    outcomes: collections.Counter[str] = collections.Counter()
    calls = 0
    current: dict[str, Any] = {"M": None}

    # Raw reads (readline, read, _get_line) between commands would split a
    # response the way they do in imaplib, so they are only made from inside
    # a read (the recv_into hook), where they must always be refused.
    commands = ["noop", "fetch", "shutdown", "check"]
    raw_reads = ["readline", "read", "get_line"]

    def act(M: Any, r: random.Random, choices: list[str] = commands) -> None:
        nonlocal calls
        what = r.choice(choices)
        calls += 1
        try:
            if what == "noop":
                M.noop()
            elif what == "fetch":
                M.fetch("1", "(BODY[])")
            elif what == "readline":
                M.readline()
            elif what == "read":
                M.read(r.choice([1, 10, 5000]))
            elif what == "shutdown":
                M.shutdown()
            elif what == "get_line":
                M._get_line()
            else:
                M.check()
            outcomes[what + ":ok"] += 1
        except clear as exc:
            outcomes[what + ":" + type(exc).__name__] += 1

    class Sock(socket.socket):
        def recv_into(self, *a: Any, **k: Any) -> int:  # type: ignore[override]
            M = current["M"]
            if M is not None and rnd.random() < 0.02:
                if rnd.random() < 0.5:
                    act(M, rnd)
                else:
                    try:
                        act(M, rnd, raw_reads)
                    finally:
                        reentrant = [k for k in outcomes if k.split(":")[0] in raw_reads]
                        ok = [k for k in reentrant if not k.endswith(":RuntimeError")]
                        assert not ok, f"a read inside a read was not refused: {ok}"
            return super().recv_into(*a, **k)

    class Client(mod.IMAP4):  # type: ignore[misc,name-defined]
        def _create_socket(self, timeout: Any) -> socket.socket:
            s = super()._create_socket(timeout)
            h = Sock(s.family, s.type, s.proto, fileno=s.detach())
            h.settimeout(timeout)
            return h

    def on_alarm(*_: Any) -> None:
        M = current["M"]
        if M is not None:
            act(M, rnd)

    signal.signal(signal.SIGALRM, on_alarm)
    stop = time.monotonic() + seconds
    other_rnd = random.Random(seed + 1)
    while time.monotonic() < stop:
        try:
            M = Client("127.0.0.1", port, timeout=rnd.choice([0.05, 0.2, 0.5]))
        except clear:
            continue
        M.state = "SELECTED"
        current["M"] = M

        def other(M: Any = M) -> None:
            for _ in range(other_rnd.randrange(1, 4)):
                time.sleep(other_rnd.random() * 0.02)
                act(M, other_rnd)

        t = threading.Thread(target=other)
        t.start()
        signal.setitimer(signal.ITIMER_REAL, rnd.random() * 0.02)
        for _ in range(rnd.randrange(1, 8)):
            act(M, rnd)
        signal.setitimer(signal.ITIMER_REAL, 0)
        t.join(10)
        assert not t.is_alive(), "a call hung"
        current["M"] = None
        bad = set(M.untagged_responses) - ALLOWED_KEYS
        assert not bad, f"filed what the server never sent as a response: {bad}"
        for key in ("OK", "EXISTS"):
            for v in M.untagged_responses.get(key, []):
                assert b"injected" not in bytes(v), M.untagged_responses
        try:
            M.shutdown()
        except clear:
            pass
    ls.close()
    print("OK", calls, dict(sorted(outcomes.items())))


if __name__ == "__main__":
    main()
