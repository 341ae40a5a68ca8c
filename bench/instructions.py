"""Instructions per response in the engine's response path, counted by callgrind.

``python3 bench/instructions.py [N]`` fetches N flag-only FETCH lines (default
20,000) twice over a socketpair from a forked server process and prints the
instructions callgrind counts for ``_get_tagged_response`` (the C loop that
reads a command's responses, inclusive) per response.  Unlike CPU time on a
shared VM, the count is the same from run to run, so it can show a 5 % change
that ``bench/run.py`` cannot.  Needs valgrind.  Counts: 960 at 3c129b8 (the
engine before the framer moved into the core), 1,076 at 506530c (the framer in
the core), 905 with runs of buffered untagged responses (e766b9e).
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


def _lines(n: int) -> bytes:
    return b"".join(
        b"* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE %d)\r\n" % (i, i, 1000 + i)
        for i in range(1, n + 1)
    )


def workload(n: int) -> None:
    """The client (run under callgrind): two UID FETCHes of n lines each."""
    import imaplib_c

    body = _lines(n)

    class Client(imaplib_c.IMAP4):  # type: ignore[misc]
        def _create_socket(self, timeout: object = None) -> socket.socket:
            ours, theirs = socket.socketpair()
            if os.fork() == 0:  # the server: answers from a prepared body
                ours.close()
                f = theirs.makefile("rb")
                theirs.sendall(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
                for line in iter(f.readline, b""):
                    tag = line.split()[0]
                    if b"CAPABILITY" in line:
                        theirs.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                    elif b"LOGOUT" in line:
                        theirs.sendall(b"* BYE\r\n" + tag + b" OK done\r\n")
                        break
                    else:
                        theirs.sendall(body + tag + b" OK done\r\n")
                os._exit(0)
            theirs.close()
            return ours

    m = Client("bench")
    m.state = "SELECTED"
    for _ in range(2):
        assert len(m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE)")[1]) == n
    m.logout()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--client" else 20000
    if "--client" in sys.argv:
        workload(int(sys.argv[-1]))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("needs valgrind (callgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.%p"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                os.path.realpath(sys.executable),
                __file__,
                "--client",
                str(n),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        client = min(Path(tmp).glob("cg.*"), key=lambda p: int(p.name.split(".")[1]))
        report = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", str(client)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    counts = re.findall(r"^\s*([\d,]+) .*imap4_engine\.c:engine_get_tagged\b", report, re.MULTILINE)
    if not counts:
        print("engine_get_tagged not found in the profile", file=sys.stderr)
        return 1
    total = max(int(c.replace(",", "")) for c in counts)
    print(
        f"{total / (2 * n):.0f} instructions per response "
        f"(_get_tagged_response inclusive, {2 * n} responses)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
