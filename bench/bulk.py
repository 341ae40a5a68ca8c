"""Bulk transfers over an emulated network: ``python3 bench/bulk.py [options]``.

A private Dovecot (plain TCP) holds a mailbox of ``--messages`` messages
(bench/mailgen.py: realistic sizes and compressibility, some of 1-5 MB with
``--big``); a network-emulating proxy (bench/netem.py, its own process, a fresh one
per row) adds ``--rtt-ms`` of round trip and caps the link at ``--mbit``, and counts
the bytes it carries.  Each row is a fresh client process (bench/bulk_rows.py); the
figures are wall time, client CPU, the client's peak RSS and the bytes on the wire:

* ``imaplib loop``: stdlib imaplib, one ``UID FETCH`` per message (what most tools do);
* ``imaplib 1:*``: stdlib imaplib, the whole mailbox in one command;
* ``fetch_stream``: imaplib_c's streamed, pipelined FETCH;
* ``backup``: ``python -m imaplib_c backup`` of the mailbox to a Maildir;
* ``mbsync``: isync's mbsync pulling the mailbox to a Maildir;
* ``append loop`` / ``append_many``: APPEND of ``--appends`` messages one by one with
  stdlib imaplib, and pipelined (LITERAL+) with imaplib_c.

A row name ending in `` +Z`` runs with COMPRESS=DEFLATE (RFC 4978).  The physical
limit is the bytes on the wire over the link's bandwidth plus one round trip.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.harness import child_env
from bench.mailgen import mailbox
from testsupport.dovecot import OPTIONAL_FEATURES, Dovecot

USER, PASSWORD = "bulk", "bulk-secret"
FETCH_ROWS = (
    "imaplib loop,imaplib 1:*,fetch_stream,fetch_stream +Z,backup,backup +Z,mbsync,mbsync +Z"
)
APPEND_ROWS = "append loop,append_many"


class Link:
    """One netem proxy process in front of Dovecot, for one row."""

    def __init__(self, upstream: str, rtt_ms: float, mbit: float) -> None:
        argv = [sys.executable, "-m", "bench.netem", "--upstream", upstream]
        argv += ["--rtt-ms", str(rtt_ms), "--mbit", str(mbit)]
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, text=True, cwd=REPO, env=child_env()
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def carried(self) -> tuple[int, int]:
        """Stop the proxy; the bytes it carried (up, down)."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        up, down = out.split()
        return int(up), int(down)


def _run_row(row: str, link: Link, extra: dict[str, Any]) -> dict[str, Any]:
    params = json.dumps({"row": row, "port": link.port, "compress": row.endswith("+Z"), **extra})
    r = subprocess.run(
        [sys.executable, "-m", "bench.bulk", "--client", params],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_env(),
        timeout=3600,
        check=False,
    )
    up, down = link.carried()
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]}
    res: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    res["wire"] = up + down
    return res


def _skipped(row: str, dv: Dovecot) -> str | None:
    if row.endswith("+Z") and "compress" not in dv.features:
        return "this Dovecot does not offer COMPRESS"
    if row.startswith("mbsync") and shutil.which("mbsync") is None:
        return "mbsync is not installed (Debian package isync)"
    return None


HEADER = f"{'row':17} {'wall s':>8} {'cpu s':>7} {'peak MiB':>9} {'MB':>7} {'wire MB':>8} {'limit s':>8} {'of link':>8}"


def _line(row: str, res: dict[str, Any], rate: float, rtt: float) -> str:
    limit = res["wire"] / rate + rtt
    peak = f"{res['peak_mib']:.1f}" + (" abs" if res.get("abs") else "")
    return (
        f"{row:17} {res['wall']:8.2f} {res['cpu']:7.2f} {peak:>9} {res['bytes'] / 1e6:7.1f} "
        f"{res['wire'] / 1e6:8.1f} {limit:8.2f} {limit / res['wall']:8.0%}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--appends", type=int, default=200)
    ap.add_argument("--big", action="store_true", help="1 in 200 messages of 1-5 MB")
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--mbit", type=float, default=100.0, help="0: no cap")
    ap.add_argument("--rows", default=f"{FETCH_ROWS},{APPEND_ROWS}")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.client:
        from bench.bulk_rows import run

        print(json.dumps(run(json.loads(a.client))))
        return 0
    sizes: list[int] = []
    features = tuple(f for f in ("no-auth-delay", "compress") if f in OPTIONAL_FEATURES)
    dv = Dovecot(tls=False, pool_size=0, features=features)
    dv.add_user(USER, PASSWORD, (sizes.append(len(m)) or m for m in mailbox(a.messages, a.big)))
    rate = a.mbit * 1e6 / 8 if a.mbit else float("inf")
    results: dict[str, Any] = {}
    with dv:
        print(
            f"# {a.messages} messages, {sum(sizes) / 1e6:.1f} MB (largest {max(sizes) / 1e6:.1f} MB); "
            f"{a.appends} appends; link {a.rtt_ms:g} ms RTT, {a.mbit:g} Mbit/s; "
            f"Dovecot {'.'.join(map(str, dv.version))}",
            flush=True,
        )
        print(HEADER, flush=True)
        for i, row in enumerate(a.rows.split(",")):
            why = _skipped(row, dv)
            if why is not None:
                print(f"{row:17} skipped: {why}", flush=True)
                continue
            link = Link(f"{dv.host}:{dv.plain_port}", a.rtt_ms, a.mbit)
            extra = {
                "appends": a.appends,
                "mailbox": f"append{i}",
                "user": USER,
                "password": PASSWORD,
            }
            res = results[row] = _run_row(row, link, extra)
            print(
                f"{row:17} error {res['error']}"
                if "error" in res
                else _line(row, res, rate, a.rtt_ms / 1000),
                flush=True,
            )
    if a.json:
        Path(a.json).write_text(json.dumps({"args": vars(a), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
