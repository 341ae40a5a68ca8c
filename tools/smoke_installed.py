"""Smoke test of an installed imaplib_c, standard library only.

    python -I tools/smoke_installed.py

Run by tools/packaging-check.sh with the interpreter of a fresh venv that
holds only imaplib_c (installed from the sdist or a wheel): the import
loads the C engine and nothing from outside the standard library and the
venv; the command line answers; a session (greeting, CAPABILITY, NOOP,
APPEND with a literal, LOGOUT) against a scripted server on 127.0.0.1
returns what imaplib returns.  Exit status 0 when all holds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import threading

SCRIPT = [  # (what the client sends, without its tag; what the server answers)
    (None, b"* OK ready\r\n"),
    (b"CAPABILITY", b"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n"),
    (b"NOOP", b"* 3 EXISTS\r\n{tag} OK NOOP completed\r\n"),
    (b"APPEND INBOX {5}", b"+ go\r\n"),
    (b"hello", b"{tag} OK [APPENDUID 1 7] appended\r\n"),
    (b"LOGOUT", b"* BYE bye\r\n{tag} OK LOGOUT completed\r\n"),
]


def serve(listener: socket.socket, errors: list[str]) -> None:
    conn, _ = listener.accept()
    with conn, conn.makefile("rb") as f:
        tag = b""
        for want, answer in SCRIPT:
            if want is not None:
                line = f.readline().rstrip(b"\r\n")
                if want == b"hello":
                    got = line
                else:
                    tag, _, got = line.partition(b" ")
                if got != want:
                    errors.append(f"server expected {want!r}, got {line!r}")
                    return
            conn.sendall(answer.replace(b"{tag}", tag))


def check_imports() -> list[str]:
    problems = []
    before = set(sys.modules)
    import imaplib

    import imaplib_c

    stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
    pkg = os.path.dirname(os.path.realpath(imaplib_c.__file__))
    for name in sorted(set(sys.modules) - before):
        path = getattr(sys.modules[name], "__file__", None)
        if path is None:
            continue
        path = os.path.realpath(path)
        in_stdlib = any(path.startswith(d + os.sep) for d in stdlib)
        if not path.startswith(pkg + os.sep) and (not in_stdlib or "-packages" in path):
            problems.append(f"module {name} from {path}")
    if sys.prefix == sys.base_prefix:
        problems.append("not in a venv")
    if not (imaplib_c.accelerated and imaplib_c.c_commands):
        problems.append("C engine not in use: " + imaplib_c.why_not_accelerated)
    if imaplib_c.IMAP4.error is not imaplib.IMAP4.error:
        problems.append("exception classes are not imaplib's")
    return problems


def check_cli() -> list[str]:
    problems = []
    runs = {
        ("--version",): "(C engine;",
        ("--help",): "usage:",
        ("backup", "--help"): "--compress",  # the commands installed with the package
        ("restore", "--help"): "--source",
    }
    for args, want in runs.items():
        arg = " ".join(args)
        out = subprocess.run(
            [sys.executable, "-I", "-m", "imaplib_c", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if out.returncode != 0 or want not in out.stdout + out.stderr:
            problems.append(f"imaplib_c {arg}: exit {out.returncode}: {out.stdout + out.stderr}")
    code = "import imaplib, imaplib_c, sys; sys.exit(imaplib is not imaplib_c)"
    out = subprocess.run(
        [sys.executable, "-I", "-m", "imaplib_c", "run", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if out.returncode != 0:
        problems.append(f"imaplib_c run -c: exit {out.returncode}: {out.stderr}")
    return problems


def check_session() -> list[str]:
    import imaplib_c

    errors: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=serve, args=(listener, errors), daemon=True)
        server.start()
        M = imaplib_c.IMAP4("127.0.0.1", listener.getsockname()[1], timeout=20)
        M.state = "AUTH"
        got = (M.capabilities, M.noop(), M.append("INBOX", None, None, b"hello"), M.logout())
        server.join(20)
    want = (
        ("IMAP4REV1",),
        ("OK", [b"NOOP completed"]),
        ("OK", [b"[APPENDUID 1 7] appended"]),
        ("BYE", [b"bye"]),
    )
    if got != want:
        errors.append(f"session: got {got!r}, want {want!r}")
    return errors


def main() -> int:
    problems = check_imports() + check_cli() + check_session()
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print("smoke ok:", sys.version.split()[0], sys.executable)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
