"""Bulk transfers over an emulated network: ``python3 bench/bulk.py [options]``.

A private Dovecot (plain TCP) holds a mailbox of ``--messages`` messages (a mix of
sizes, some of 1-5 MB with ``--big``); a network-emulating proxy (bench/netem.py, its
own process) adds ``--rtt-ms`` of round trip and caps the link at ``--mbit``.  Each
row is a fresh client process; the figures are wall time, client CPU and the client's
peak RSS growth:

* ``imaplib loop``: stdlib imaplib, one ``UID FETCH`` per message (what most tools do);
* ``imaplib 1:*``: stdlib imaplib, the whole mailbox in one command;
* ``fetch_stream``: imaplib_c's streamed, pipelined FETCH;
* ``append loop`` / ``append_many``: APPEND of ``--appends`` messages one by one with
  stdlib imaplib, and pipelined (LITERAL+) with imaplib_c.

The physical limit is the bytes over the link's bandwidth plus one round trip.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.client import mem_baseline, mem_peak
from bench.harness import child_env
from testsupport.dovecot import Dovecot

USER, PASSWORD = "bulk", "bulk-secret"
PARTS = "(UID BODY.PEEK[])"


def message(i: int, big: bool) -> bytes:
    """A message of a realistic size: mostly 2-60 KB, 1 in 200 of 1-5 MB (big)."""
    rng = random.Random(i)
    size = rng.choice([2_000, 4_000, 8_000, 15_000, 30_000, 60_000])
    if big and i % 200 == 7:
        size = rng.randint(1, 5) * 1_000_000
    head = b"From: a@example.org\r\nSubject: message %d\r\n\r\n" % i
    line = b"%-76d\r\n" % i
    return head + line * (size // len(line) + 1)


def client(p: dict[str, Any]) -> dict[str, Any]:
    """One row, in this (fresh) process."""
    import imaplib

    import imaplib_c

    mod: Any = imaplib_c if p["row"] in ("fetch_stream", "append_many") else imaplib
    m = mod.IMAP4("127.0.0.1", p["port"])
    m.login(USER, PASSWORD)
    rss0, _ = mem_baseline()
    t0, c0 = time.perf_counter(), time.process_time()
    got = 0
    if p["row"] in ("append loop", "append_many"):
        msgs = [message(i, False) for i in range(p["appends"])]
        m.create(p["mailbox"])
        rss0, _ = mem_baseline()
        t0, c0 = time.perf_counter(), time.process_time()
        if p["row"] == "append_many":
            res = m.append_many(p["mailbox"], msgs, window=64)
        else:
            res = [m.append(p["mailbox"], None, None, x) for x in msgs]
        got = sum(len(x) for x in msgs) if all(r[0] == "OK" for r in res) else -1
    else:
        m.select("INBOX", readonly=True)
        if p["row"] == "imaplib loop":
            uids = m.uid("SEARCH", "ALL")[1][0].split()
            for u in uids:
                _, data = m.uid("FETCH", u, PARTS)
                got += sum(len(x[1]) for x in data if isinstance(x, tuple))
        elif p["row"] == "imaplib 1:*":
            _, data = m.uid("FETCH", "1:*", PARTS)
            got = sum(len(x[1]) for x in data if isinstance(x, tuple))
            del data
        else:
            for x in m.fetch_stream("1:*", PARTS, batch=50, window=8):
                if isinstance(x, tuple):
                    got += len(x[1])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    m.logout()  # (peak read below: what the transfer needed at most)
    return {"wall": wall, "cpu": cpu, "peak_mib": (mem_peak() - rss0) / 1024, "bytes": got}


def _run_row(row: str, port: int, extra: dict[str, Any]) -> dict[str, Any]:
    params = json.dumps({"row": row, "port": port, **extra})
    r = subprocess.run(
        [sys.executable, str(Path(__file__)), "--client", params],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=3600,
        check=False,
    )
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--appends", type=int, default=200)
    ap.add_argument("--big", action="store_true", help="1 in 200 messages of 1-5 MB")
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--mbit", type=float, default=100.0)
    ap.add_argument(
        "--rows", default="imaplib loop,imaplib 1:*,fetch_stream,append loop,append_many"
    )
    ap.add_argument("--client", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.client:
        print(json.dumps(client(json.loads(a.client))))
        return 0
    msgs = [message(i, a.big) for i in range(1, a.messages + 1)]
    total = sum(len(x) for x in msgs)
    dv = Dovecot(tls=False, pool_size=0, features=("no-auth-delay",))
    dv.add_user(USER, PASSWORD, iter(msgs))
    with dv:
        proxy = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.netem",
                "--upstream",
                f"{dv.host}:{dv.plain_port}",
                "--rtt-ms",
                str(a.rtt_ms),
                "--mbit",
                str(a.mbit),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=child_env(),
        )
        try:
            assert proxy.stdout is not None
            port = int(proxy.stdout.readline())
            rate = a.mbit * 1e6 / 8 if a.mbit else float("inf")
            print(
                f"# {a.messages} messages, {total / 1e6:.1f} MB; link {a.rtt_ms:g} ms RTT, "
                f"{a.mbit:g} Mbit/s; Dovecot {'.'.join(map(str, dv.version))}"
            )
            print(
                f"{'row':14} {'wall s':>8} {'cpu s':>7} {'peak MiB':>9} {'MB':>7} {'limit s':>8} {'of link':>8}"
            )
            for i, row in enumerate(a.rows.split(",")):
                extra = {"appends": a.appends, "mailbox": f"append{i}"}
                res = _run_row(row, port, extra)
                if "error" in res:
                    print(f"{row:14} error {res['error']}")
                    continue
                limit = res["bytes"] / rate + a.rtt_ms / 1000
                print(
                    f"{row:14} {res['wall']:8.2f} {res['cpu']:7.2f} {res['peak_mib']:9.1f} "
                    f"{res['bytes'] / 1e6:7.1f} {limit:8.2f} {limit / res['wall']:8.0%}"
                )
        finally:
            proxy.kill()
            proxy.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
