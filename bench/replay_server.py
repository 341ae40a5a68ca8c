"""Loopback replay IMAP server for the benchmarks.

Run as its own process (``python -m bench.replay_server``) so that its CPU time is never
counted as client CPU.  At start-up it builds every big response once, in memory,
then listens on 127.0.0.1 (plain, and TLS when given a certificate) and prints one
JSON line on stdout: ``{"ports": {...}, "expected": {scenario: Expected}, "pid": N}``.
It exits when its stdin is closed (i.e. when the parent goes away).

Per connection (one thread each) it answers:

* greeting, ``CAPABILITY``, ``LOGIN`` (any password), ``SELECT``/``EXAMINE``,
  ``NOOP``, ``LOGOUT`` with the usual untagged data;
* the prebuilt commands (``FETCH 1:N (...)``, ``UID FETCH ...``, ``UID SEARCH ALL``):
  the untagged part is one prebuilt ``bytes`` sent with one ``sendall``, followed by
  the tagged completion line;
* ``APPEND ... {n}``: ``+`` continuation, then it reads the n bytes and the closing
  CRLF and only then answers ``TAG OK [APPENDUID 1 uid] ... (crc xxxxxxxx)``.

ACK behaviour: by default the server sets ``TCP_QUICKACK`` before every ``recv`` so
its kernel ACKs at once.  When the client logs in as ``delack`` (scenario
``append-delack``) it leaves the kernel's delayed ACKs on, like a normal server that
says nothing until the whole literal and its CRLF are in: a client that writes the
literal and the CRLF in two small writes with Nagle on then waits ~40 ms for the
delayed ACK on every APPEND.

The listening sockets, the reader and the certificate come from
``testsupport/loopback.py``, shared with the tests' scripted server (that module
says why the two stay two servers).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scenarios as sc
from testsupport.loopback import Reader, accepted, listener, server_context

CRLF = b"\r\n"
GREETING = b"* OK [CAPABILITY IMAP4rev1 UIDPLUS IDLE] bench replay server ready\r\n"
CAPABILITY = b"* CAPABILITY IMAP4rev1 UIDPLUS IDLE\r\n"


class Session:
    """One client connection."""

    def __init__(
        self, sock: socket.socket, responses: dict[bytes, tuple[bytes, bytes]], exists: int
    ) -> None:
        self.sock = sock
        self.responses = responses
        self.exists = exists
        self.reader = Reader(sock, quickack=True, chunk=262144)
        self.next_uid = 1

    def readline(self) -> bytes | None:
        """The next line without its CRLF."""
        line = self.reader.line(CRLF)
        return None if line is None else line[:-2]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def run(self) -> None:
        try:
            self._run()
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def _run(self) -> None:
        self.send(GREETING)
        while True:
            line = self.readline()
            if line is None:
                return
            tag, _, rest = line.partition(b" ")
            word, _, args = rest.partition(b" ")
            cmd = word.upper()
            if cmd == b"CAPABILITY":
                self.send(CAPABILITY + tag + b" OK Capability completed.\r\n")
            elif cmd == b"LOGIN":
                user = args.split(b" ", 1)[0].strip(b'"')
                if user == sc.USER_DELACK.encode():
                    self.reader.quickack = False
                self.send(tag + b" OK Logged in\r\n")
            elif cmd in (b"SELECT", b"EXAMINE"):
                rw = b"READ-ONLY" if cmd == b"EXAMINE" else b"READ-WRITE"
                self.send(
                    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 NonJunk)\r\n"
                    b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                    b"* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                    b"* OK [UIDNEXT %d] Predicted next UID\r\n%s OK [%s] Select completed.\r\n"
                    % (self.exists, self.exists + 1, tag, rw)
                )
            elif cmd == b"NOOP":
                self.send(tag + b" OK " + sc.NOOP_OK_TEXT + CRLF)
            elif cmd == b"APPEND":
                if not self._append(tag, args):
                    return
            elif cmd == b"LOGOUT":
                self.send(b"* BYE Logging out\r\n" + tag + b" OK Logout completed.\r\n")
                return
            elif rest in self.responses:
                body, tail = self.responses[rest]
                self.send(body)
                self.send(tag + b" " + tail + CRLF)
            else:
                self.send(tag + b" BAD Unknown command: " + rest[:60] + CRLF)

    def _append(self, tag: bytes, args: bytes) -> bool:
        if not args.endswith(b"}") or b"{" not in args:
            self.send(tag + b" BAD APPEND without literal\r\n")
            return True
        size = int(args[args.rindex(b"{") + 1 : -1])
        self.send(b"+ Ready for literal data\r\n")
        literal = self.reader.exact(size)
        if literal is None:
            return False
        end = self.readline()
        if end is None:
            return False
        if end != b"":
            self.send(tag + b" BAD Unexpected data after literal\r\n")
            return True
        uid = self.next_uid
        self.next_uid += 1
        self.send(tag + b" OK " + sc.append_ok_text(uid, literal) + CRLF)
        return True


def _serve(
    sock: socket.socket,
    ctx: ssl.SSLContext | None,
    responses: dict[bytes, tuple[bytes, bytes]],
    exists: int,
) -> None:
    while True:
        conn = accepted(sock.accept()[0])

        def handle(c: socket.socket = conn) -> None:
            try:
                s: socket.socket = ctx.wrap_socket(c, server_side=True) if ctx else c
            except (OSError, ssl.SSLError):
                c.close()
                return
            Session(s, responses, exists).run()

        threading.Thread(target=handle, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size-scale", type=float, default=1.0)
    ap.add_argument("--scenarios", default=",".join(sc.SCENARIOS))
    ap.add_argument("--cert", help="PEM certificate: also listen with TLS")
    ap.add_argument("--key", help="PEM private key for --cert")
    args = ap.parse_args(argv)

    sizes = sc.make_sizes(args.size_scale)
    wanted = [s for s in args.scenarios.split(",") if s]
    responses: dict[bytes, tuple[bytes, bytes]] = {}
    expected: dict[str, dict[str, object]] = {}
    for name in wanted:
        if name not in sc.FETCH_LIKE:
            continue
        wire = sc.fetch_call(name, sizes).wire
        same = [k for k, v in expected.items() if v["command"] == wire]
        if same:  # e.g. debug5 and meta: one response
            expected[name] = expected[same[0]]
            continue
        body, exp = sc.build_scenario(name, sizes)
        responses[exp.command.encode()] = (body, exp.tail.encode())
        expected[name] = exp.to_json()

    ports: dict[str, int] = {}
    plain = listener(16)
    ports["plain"] = plain.getsockname()[1]
    threading.Thread(target=_serve, args=(plain, None, responses, sizes.meta), daemon=True).start()
    if args.cert:
        ctx = server_context(args.cert, args.key)
        tls = listener(16)
        ports["tls"] = tls.getsockname()[1]
        threading.Thread(target=_serve, args=(tls, ctx, responses, sizes.meta), daemon=True).start()

    sys.stdout.write(json.dumps({"pid": os.getpid(), "ports": ports, "expected": expected}) + "\n")
    sys.stdout.flush()
    # Live until the parent closes our stdin (or dies).
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, KeyboardInterrupt):
        pass
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
