"""The rows of bench/bulk.py: each runs in a fresh client process.

A row gets its parameters as a dict (``port`` of the emulated link, ``user``,
``password``, ...) and returns ``wall``/``cpu`` seconds, ``peak_mib`` and the
message ``bytes`` it moved.  Python rows measure their own process (peak RSS growth
over the transfer); the rows that run a program (``backup``, ``mbsync``) measure that
child (its CPU and its whole peak RSS, marked ``abs``).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.client import mem_baseline, mem_peak
from bench.mailgen import message

PARTS = "(UID BODY.PEEK[])"
HOST = "127.0.0.1"


def _login(mod: Any, p: dict[str, Any]) -> Any:
    m = mod.IMAP4(HOST, p["port"])
    m.login(p["user"], p["password"])
    if p.get("compress"):
        m.compress()
    return m


def _measured(
    p: dict[str, Any], mod: Any, work: Callable[[Any], int], mailbox: str = "INBOX"
) -> dict[str, Any]:
    m = _login(mod, p)
    if mailbox:
        m.select(mailbox, readonly=True)
    rss0, _ = mem_baseline()
    t0, c0 = time.perf_counter(), time.process_time()
    got = work(m)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    m.logout()
    return {"wall": wall, "cpu": cpu, "peak_mib": (mem_peak() - rss0) / 1024, "bytes": got}


def _literals(data: list[Any]) -> int:
    return sum(len(x[1]) for x in data if isinstance(x, tuple))


def imaplib_loop(m: Any) -> int:
    got = 0
    for u in m.uid("SEARCH", "ALL")[1][0].split():
        got += _literals(m.uid("FETCH", u, PARTS)[1])
    return got


def imaplib_all(m: Any) -> int:
    return _literals(m.uid("FETCH", "1:*", PARTS)[1])


def stream(m: Any) -> int:
    return sum(
        len(x[1]) for x in m.fetch_stream("1:*", PARTS, batch=50, window=8) if isinstance(x, tuple)
    )


def _appends(p: dict[str, Any]) -> list[bytes]:
    return [message(i, False) for i in range(p["appends"])]


def _append_row(p: dict[str, Any], mod: Any, many: bool) -> dict[str, Any]:
    msgs = _appends(p)

    def work(m: Any) -> int:
        if many:
            res = m.append_many(p["mailbox"], msgs, window=64)
        else:
            res = [m.append(p["mailbox"], None, None, x) for x in msgs]
        return sum(len(x) for x in msgs) if all(r[0] == "OK" for r in res) else -1

    m = _login(mod, p)
    m.create(p["mailbox"])
    m.logout()
    return _measured(p, mod, work, mailbox="")


def _child(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a program; its wall time, CPU and peak RSS (the only child so far)."""
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "peak_mib": ru.ru_maxrss / 1024,
        "abs": True,
    }


def _maildir_bytes(root: Path) -> int:
    """Bytes of the messages under a Maildir tree (mbsync converts nothing)."""
    return sum(
        f.stat().st_size for d in ("cur", "new") for f in root.rglob(f"{d}/*") if f.is_file()
    )


def backup(p: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as dest:
        argv = [
            sys.executable, "-m", "imaplib_c", "backup", "--host", HOST, "--port", str(p["port"]),
            "--plain", "--user", p["user"], "--password-env", "BENCH_PASSWORD",
            "--mailbox", "INBOX", "--dest", dest, "--compress", "yes" if p.get("compress") else "no",
        ]  # fmt: skip
        res = _child(argv, env={**os.environ, "BENCH_PASSWORD": p["password"]})
        res["bytes"] = _maildir_bytes(Path(dest))
    return res


MBSYNCRC = """\
IMAPAccount bench
Host {host}
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN
{disable}

IMAPStore far
Account bench

MaildirStore near
Path {dest}/
Inbox {dest}/INBOX

Channel bench
Far :far:
Near :near:
Patterns INBOX
Sync Pull
Create Near
SyncState *
"""


def mbsync(p: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as dest:
        rc = Path(dest, "mbsyncrc")
        disable = "" if p.get("compress") else "DisableExtensions COMPRESS=DEFLATE"
        rc.write_text(
            MBSYNCRC.format(
                host=HOST,
                port=p["port"],
                user=p["user"],
                password=p["password"],
                dest=dest,
                disable=disable,
            )
        )
        res = _child(["mbsync", "-q", "-c", str(rc), "bench"])
        res["bytes"] = _maildir_bytes(Path(dest, "INBOX"))
    return res


def run(p: dict[str, Any]) -> dict[str, Any]:
    """One row, in this (fresh) process."""
    import imaplib

    import imaplib_c

    row = p["row"].replace(" +Z", "")
    if row == "imaplib loop":
        return _measured(p, imaplib, imaplib_loop)
    if row == "imaplib 1:*":
        return _measured(p, imaplib, imaplib_all)
    if row == "fetch_stream":
        return _measured(p, imaplib_c, stream)
    if row in ("append loop", "append_many"):
        return _append_row(p, imaplib_c if row == "append_many" else imaplib, row == "append_many")
    if row == "backup":
        return backup(p)
    if row == "mbsync":
        return mbsync(p)
    raise SystemExit(f"unknown row {p['row']!r}")
