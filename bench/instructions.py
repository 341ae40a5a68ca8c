"""Instructions per response in the engine's response path, counted by callgrind.

``python3 bench/instructions.py [N]`` fetches N flag-only FETCH lines (default
20,000) twice over a socketpair from a forked server process and prints the
instructions callgrind counts for ``_get_response`` (inclusive) per response.
Unlike CPU time on a shared VM, the count is the same from run to run, so it can
show a 5 % change that ``bench/run.py`` cannot.  Needs valgrind.  At 3c129b8 (the engine before the framer moved into the core) it
prints 933; with the framer (this commit), 1,023.
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
    # imap4_engine.c:get_response before the framer moved into the core (3c129b8)
    pattern = r"^\s*([\d,]+) .*(imap4_response\.c:response_get|imap4_engine\.c:get_response) \["
    m = re.search(pattern, report, re.MULTILINE)
    if m is None:
        print("response_get not found in the profile", file=sys.stderr)
        return 1
    total = int(m.group(1).replace(",", ""))
    print(
        f"{total / (2 * n):.0f} instructions per response (_get_response inclusive, {2 * n} responses)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
