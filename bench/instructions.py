"""Instructions the client executes, counted by callgrind: figures that do not
move with a shared VM's noise, so they can show a 5 % change that
``bench/run.py`` cannot.  Needs valgrind.  Runs use PYTHONHASHSEED=0, so
repeated runs give the same count to within a few instructions.

``python3 bench/instructions.py [N]`` fetches N flag-only FETCH lines (default
20,000) twice over a socketpair from a forked server process and prints the
instructions in ``_get_tagged_response`` (the C loop that reads a command's
responses, inclusive) per response.

``python3 bench/instructions.py --command noop|append`` prints the instructions
of one NOOP or one APPEND of a 4 KiB message, the whole client included
(Python code, the engine, the system-call wrappers): the difference between a
run of 1,000 and one of 3,000 commands, divided by 2,000.

Counts (2026-11-30; this file copied into a checkout of each commit):

    commit   what                                       response  NOOP    APPEND
    126dd4d  the engine with its own C copies of        924      21,955  41,527
             imaplib's cold paths (before issue 8)
    3c129b8  the interpreter's imaplib for them         950      21,650  49,396
    506530c  the framer in the C core                   1,088    22,646  50,400
    b1f103e  runs of buffered untagged responses;       911      22,204  50,141
             tagged results built without Py_BuildValue
    e9f6df9  self's attributes from the instance dict;  908      17,405  32,915
             the command line in one allocation; the
             CRLF-only check 64 bytes a round; no
             Continuation match for a literal's wait
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

COMMANDS = ("noop", "append")


def _lines(n: int) -> bytes:
    return b"".join(
        b"* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE %d)\r\n" % (i, i, 1000 + i)
        for i in range(1, n + 1)
    )


def _answer(theirs: socket.socket, body: bytes) -> None:
    """The server (a forked child): CAPABILITY, LOGOUT, APPEND, else `body`."""
    f = theirs.makefile("rb")
    theirs.sendall(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
    for line in iter(f.readline, b""):
        tag = line.split()[0]
        if b"CAPABILITY" in line:
            theirs.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
        elif b"LOGOUT" in line:
            theirs.sendall(b"* BYE\r\n" + tag + b" OK done\r\n")
            break
        elif b" APPEND " in line:
            size = int(line[line.rindex(b"{") + 1 : line.rindex(b"}")])
            theirs.sendall(b"+ go\r\n")
            f.read(size + 2)
            theirs.sendall(tag + b" OK [APPENDUID 1 1] APPEND completed\r\n")
        else:
            theirs.sendall(body + tag + b" OK done\r\n")


def _client(body: bytes) -> object:
    import imaplib_c

    class Client(imaplib_c.IMAP4):  # type: ignore[misc]
        def _create_socket(self, timeout: object = None) -> socket.socket:
            ours, theirs = socket.socketpair()
            if os.fork() == 0:
                ours.close()
                _answer(theirs, body)
                os._exit(0)
            theirs.close()
            return ours

    m = Client("bench")
    m.state = "SELECTED"
    return m


def workload(what: str, n: int) -> None:
    """The client run under callgrind."""
    if what == "fetch":  # two UID FETCHes of n lines each
        m = _client(_lines(n))
        for _ in range(2):
            assert len(m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE)")[1]) == n  # type: ignore[attr-defined]
    elif what == "noop":
        m = _client(b"")
        for _ in range(n):
            m.noop()  # type: ignore[attr-defined]
    else:
        from bench import scenarios as sc

        msgs = [sc.append_message(j) for j in range(sc.APPEND_VARIANTS)]
        m = _client(b"")
        for j in range(n):
            m.append("INBOX", sc.APPEND_FLAGS, None, msgs[j % len(msgs)])  # type: ignore[attr-defined]
    m.logout()  # type: ignore[attr-defined]


def _callgrind(what: str, n: int) -> str:
    """callgrind_annotate's report (inclusive) of the client process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.%p"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                os.path.realpath(sys.executable),
                __file__,
                "--client",
                what,
                str(n),
            ],
            env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONHASHSEED="0"),
            check=True,
            capture_output=True,
        )
        client = min(Path(tmp).glob("cg.*"), key=lambda p: int(p.name.split(".")[1]))
        return subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", "--auto=no", str(client)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def _count(pattern: str, report: str) -> int | None:
    found = re.findall(pattern, report, re.MULTILINE)
    return max(int(c.replace(",", "")) for c in found) if found else None


def per_response(n: int) -> int:
    report = _callgrind("fetch", n)
    total = _count(r"^\s*([\d,]+) .*imap4_engine\.c:engine_get_tagged\b", report)
    if total is None:
        print("engine_get_tagged not found in the profile", file=sys.stderr)
        return 1
    print(
        f"{total / (2 * n):.0f} instructions per response "
        f"(_get_tagged_response inclusive, {2 * n} responses)"
    )
    return 0


def per_command(what: str) -> int:
    totals = [_count(r"^\s*([\d,]+) .*PROGRAM TOTALS", _callgrind(what, n)) for n in (1000, 3000)]
    if None in totals:
        print("no PROGRAM TOTALS in the profile", file=sys.stderr)
        return 1
    lo, hi = totals
    assert lo is not None and hi is not None
    print(f"{(hi - lo) / 2000:.0f} instructions per {what.upper()} (the whole client)")
    return 0


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--client"]:
        workload(args[1], int(args[2]))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("needs valgrind (callgrind)", file=sys.stderr)
        return 2
    if args[:1] == ["--command"] and len(args) == 2 and args[1] in COMMANDS:
        return per_command(args[1])
    if len(args) > 1 or (args and not args[0].isdigit()):
        print("usage: instructions.py [N] | --command noop|append", file=sys.stderr)
        return 2
    return per_response(int(args[0]) if args else 20000)


if __name__ == "__main__":
    sys.exit(main())
