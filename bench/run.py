#!/usr/bin/env python3
"""imaplib_c benchmark suite: ``python bench/run.py [options]``.

Runs each scenario against a loopback replay server (plain TCP and TLS) and,
for ``headers``/``bodies``, against a private Dovecot, with four clients on the
same bytes: stock ``imaplib``, ``imaplib_c`` (when importable), a raw-socket
floor and a keep-floor (see bench/client.py).  Every client run is a fresh
process; runs of one scenario are interleaved (A B C D A B C D ...).  Reports
medians of client CPU time (``time.process_time`` of the timed phase), wall time
and peak memory (peak RSS growth of the client process during the timed phase:
VmHWM after minus VmRSS before, with the peak mark reset through
``/proc/self/clear_refs``), the ratios to stdlib and to the floors, and pass/miss
for each performance target.  Progress goes to stderr, the report to stdout.

Pinning (``--pin auto``, the default on 2+ CPUs): for the throughput scenarios
the server runs on CPU 1 and the client on CPU 0; for the ping-pong scenarios
(``roundtrips``, ``append``, ``append-delack``) both run on CPU 0, because
cross-CPU wake-ups on this VM cost ~50 us each and make those numbers swing 3x
from run to run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import scenarios as sc
from bench.harness import ReplayServer, bench_dovecot, imaplib_c_importable, run_client
from bench.pagecost import fresh_page_us
from testsupport.dovecot import missing_requirements

CLIENTS = ("stdlib", "imaplib_c", "floor", "keepfloor")
CLIENT_LABEL = {
    "stdlib": "stdlib",
    "imaplib_c": "imaplib_c",
    "floor": "raw floor",
    "keepfloor": "keep-floor",
}
PINGPONG = frozenset({"roundtrips", "append", "append-delack"})
LOG_CHECK_SCENARIOS = ("debug5", "headers", "search", "append")
LOG_CHECK_SCALE = 0.005
C_PROBE = """
import imaplib_c, os, sys, time
files = [m.__file__ for n, m in list(sys.modules.items()) if n.startswith('imaplib_c') and getattr(m, '__file__', None)]
ext = [f for f in files if not f.endswith('.py')] or files
print(', '.join(f"{os.path.relpath(f)} ({time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(f)))})" for f in ext))
"""

# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------


class Progress:
    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.done = 0
        self.quiet = quiet
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()

    def note(self, text: str) -> None:
        if not self.quiet:
            self._clear()
            print(text, file=sys.stderr, flush=True)

    def _clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")

    def step(self, label: str, res: dict[str, Any]) -> None:
        self.done += 1
        if self.quiet:
            return
        el = time.monotonic() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else 0.0
        if res.get("ok"):
            msg = f"cpu {res['cpu']:.4f}s wall {res['wall']:.4f}s"
        else:
            msg = "FAILED: " + "; ".join(res.get("errors", []))[:300]
        line = f"[{self.done:>4}/{self.total}] {label:<42} {msg}  (elapsed {_dur(el)}, eta {_dur(eta)})"
        if self.tty and res.get("ok"):
            self._clear()
            sys.stderr.write(line[:200])
            sys.stderr.flush()
        else:
            self._clear()
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if not self.quiet and self.tty:
            sys.stderr.write("\n")


def _dur(s: float) -> str:
    m, s = divmod(int(s), 60)
    return f"{m}m{s:02d}s"


# ---------------------------------------------------------------------------
# Pinning
# ---------------------------------------------------------------------------


def pin_process(pid: int, cpus: set[int]) -> None:
    """Set the affinity of every thread of ``pid`` (new threads inherit it)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:
            pass


def cpu_plan(scenario: str, pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, client CPUs) for a scenario."""
    if not pin:
        return None, None
    if scenario in PINGPONG:
        return {0}, {0}
    return {1}, {0}


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    scenario: str
    impl: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r.get("ok")]

    @property
    def failed(self) -> bool:
        return any(not r.get("ok") for r in self.runs)

    def med(self, key: str) -> float | None:
        vals = [float(r[key]) for r in self.ok_runs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def spread(self, key: str) -> float | None:
        """(max - min) / median of a metric over the good runs."""
        vals = [float(r[key]) for r in self.ok_runs if r.get(key) is not None]
        if len(vals) < 2:
            return None
        med = statistics.median(vals)
        return (max(vals) - min(vals)) / med if med > 0 else None

    def lat(self, key: str) -> float | None:
        vals = [float(r["latency"][key]) for r in self.ok_runs if r.get("latency")]
        return statistics.median(vals) if vals else None

    @property
    def errors(self) -> list[str]:
        out: list[str] = []
        for r in self.runs:
            out += r.get("errors", [])
        return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def _fx(x: float | None, digits: int = 2, suffix: str = "x") -> str:
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}{suffix}"
    if x >= 10:
        return f"{x:.1f}{suffix}"
    return f"{x:.{digits}f}{suffix}"


def _fs(x: float | None) -> str:
    if x is None:
        return "-"
    if x >= 10:
        return f"{x:.2f}"
    if x >= 1:
        return f"{x:.3f}"
    return f"{x:.4f}"


def _sec(x: float | None) -> str:
    """Seconds with 3 significant digits (target details)."""
    return "-" if x is None else f"{x:.3g}"


def _mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


class Results:
    def __init__(self, expected: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.rows: dict[tuple[str, str, str], Row] = {}
        self.order: list[tuple[str, str, str]] = []
        self.expected = expected  # group -> scenario -> Expected json
        self.log_check: dict[str, dict[str, Any]] = {}

    def add(self, group: str, scenario: str, impl: str, res: dict[str, Any]) -> None:
        key = (group, scenario, impl)
        if key not in self.rows:
            self.rows[key] = Row(group, scenario, impl)
            self.order.append(key)
        self.rows[key].runs.append(res)

    def get(self, group: str, scenario: str, impl: str) -> Row | None:
        return self.rows.get((group, scenario, impl))

    def cpu(self, group: str, scenario: str, impl: str) -> float | None:
        row = self.get(group, scenario, impl)
        return row.med("cpu") if row else None

    def data_kib(self, group: str, scenario: str) -> float | None:
        exp = self.expected.get(group, {}).get(scenario)
        if not exp:
            return None
        return sc.data_bytes(sc.Expected.from_json(exp)) / 1024

    def table(self) -> tuple[list[str], list[list[str]]]:
        head = [
            "group",
            "scenario",
            "client",
            "cpu s",
            "spread",
            "wall s",
            "srv cpu",
            "peak MiB",
            "x stdlib",
            "/floor",
            "/keep",
            "wall/floor",
            "notes",
        ]
        rows: list[list[str]] = []
        for key in self.order:
            row = self.rows[key]
            g, s, impl = key
            cpu, wall = row.med("cpu"), row.med("wall")
            notes: list[str] = []
            if row.failed:
                notes.append(
                    f"FAILED {sum(1 for r in row.runs if not r.get('ok'))}/{len(row.runs)}: "
                    + "; ".join(row.errors)[:120]
                )
            if row.lat("p50_ms") is not None:
                notes.append(
                    f"APPEND p50 {row.lat('p50_ms'):.2f} ms p99 {row.lat('p99_ms'):.2f} ms stalls {row.lat('stalls_30ms'):.0f}"
                )
            srv = row.med("server_cpu")
            if srv is not None and wall and srv >= 0.9 * wall and s not in PINGPONG:
                notes.append("server-bound?")
            faults = row.med("faults")
            if faults is not None and faults >= 1000:
                notes.append(f"faults {faults / 1000:.1f}k")
            peak = row.med("peak_kib")
            data = self.data_kib(g, s)
            if s == "large" and peak is not None and data:
                notes.append(f"peak/data {peak / data:.2f}")
            floor_row = self.get(g, s, "floor")
            rows.append(
                [
                    g,
                    s,
                    CLIENT_LABEL[impl],
                    _fs(cpu),
                    "-" if row.spread("cpu") is None else f"{100 * (row.spread('cpu') or 0):.0f}%",
                    _fs(wall),
                    _fs(row.med("server_cpu")),
                    _mib(peak),
                    _fx(_ratio(self.cpu(g, s, "stdlib"), cpu)),
                    _fx(_ratio(cpu, self.cpu(g, s, "floor"))),
                    _fx(_ratio(cpu, self.cpu(g, s, "keepfloor"))),
                    _fx(_ratio(wall, floor_row.med("wall") if floor_row else None)),
                    "; ".join(notes),
                ]
            )
        return head, rows


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    status: str  # "pass", "MISS", "n/a", "FAIL"
    detail: str


def _judge(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "MISS")


def evaluate_targets(res: Results, c_note: str) -> list[Target]:
    out: list[Target] = []
    C = "imaplib_c"

    def failed(group: str, scenario: str) -> bool:
        row = res.get(group, scenario, C)
        return bool(row and row.failed)

    def speedup(name: str, group: str, scenario: str, need: float) -> None:
        std = res.cpu(group, scenario, "stdlib")
        c = res.cpu(group, scenario, C)
        if std is None:
            return
        if failed(group, scenario):
            out.append(Target(name, "FAIL", "imaplib_c gave wrong results"))
            return
        sp = _ratio(std, c)
        ok = None if sp is None else sp >= need
        detail = f"need cpu <= {_sec(std / need)} s (stdlib {_sec(std)} s / {need:g})"
        if sp is not None:
            detail = f"{sp:.1f}x (stdlib {_sec(std)} s, imaplib_c {_sec(c)} s; need >= {need:g}x)"
        out.append(Target(name, _judge(ok), detail))

    def near_floor(
        name: str, group: str, scenario: str, floor: str, factor: float, metric: str = "cpu"
    ) -> None:
        frow = res.get(group, scenario, floor)
        crow = res.get(group, scenario, C)
        f = frow.med(metric) if frow else None
        if f is None:
            return
        if failed(group, scenario):
            out.append(Target(name, "FAIL", "imaplib_c gave wrong results"))
            return
        c = crow.med(metric) if crow else None
        ratio = _ratio(c, f)
        label = CLIENT_LABEL[floor]
        if ratio is None:
            detail = f"need {metric} <= {_sec(f * factor)} s ({label} {_sec(f)} s x {factor:g})"
        else:
            detail = f"{ratio:.2f}x {label} ({metric}: imaplib_c {_sec(c)} s, {label} {_sec(f)} s; need <= {factor:g}x)"
        out.append(Target(name, _judge(None if ratio is None else ratio <= factor), detail))

    g = "plain"
    speedup("meta: >= 25x faster than stdlib", g, "meta", 25)
    near_floor("meta: within 3x of keep-floor", g, "meta", "keepfloor", 3)
    speedup("headers: >= 20x faster than stdlib", g, "headers", 20)
    near_floor("headers: within 3x of keep-floor", g, "headers", "keepfloor", 3)
    speedup("search: >= 10x faster than stdlib", g, "search", 10)
    speedup("bodies: >= 3x faster than stdlib", g, "bodies", 3)
    near_floor("bodies: within 1.3x of keep-floor", g, "bodies", "keepfloor", 1.3)
    speedup("large: no slower than stdlib", g, "large", 1.0)
    lrow = res.get(g, "large", C)
    data = res.data_kib(g, "large")
    if data:
        if failed(g, "large"):
            out.append(
                Target("large: peak memory <= 1.2x data", "FAIL", "imaplib_c gave wrong results")
            )
        else:
            peak = lrow.med("peak_kib") if lrow else None
            std = res.get(g, "large", "stdlib")
            std_peak = std.med("peak_kib") if std else None
            extra = f"; stdlib {std_peak / data:.2f}x" if std_peak else ""
            if peak is None:
                out.append(
                    Target(
                        "large: peak memory <= 1.2x data",
                        "n/a",
                        f"data {data / 1024:.1f} MiB{extra}",
                    )
                )
            else:
                out.append(
                    Target(
                        "large: peak memory <= 1.2x data",
                        _judge(peak <= 1.2 * data),
                        f"{peak / data:.2f}x ({peak / 1024:.1f} MiB for {data / 1024:.1f} MiB{extra})",
                    )
                )
    near_floor("roundtrips: within 1.1x of raw floor", g, "roundtrips", "floor", 1.1)
    near_floor("append: within 1.2x of raw floor", g, "append", "floor", 1.2)
    for grp in ("plain", "tls"):
        row = res.get(grp, "append-delack", C)
        std = res.get(grp, "append-delack", "stdlib")
        if std is None:
            continue
        std_note = (
            f"stdlib p50 {std.lat('p50_ms') or 0:.1f} ms, {std.lat('stalls_30ms') or 0:.0f} stalls"
        )
        name = f"append: no delayed-ACK stall ({grp})"
        if row is None or not row.ok_runs:
            out.append(Target(name, "FAIL" if row else "n/a", std_note))
            continue
        stalls = row.lat("stalls_30ms") or 0
        out.append(
            Target(
                name,
                _judge(stalls == 0),
                f"{stalls:.0f} APPENDs >= 30 ms, p99 {row.lat('p99_ms') or 0:.2f} ms ({std_note})",
            )
        )
    speedup("debug5: >= 5x faster than stdlib", g, "debug5", 5)
    if res.log_check:
        bad = {k: v for k, v in res.log_check.items() if not v.get("equal")}
        detail = ", ".join(f"{k}: {v['lines']} lines" for k, v in res.log_check.items())
        if bad:
            k, v = next(iter(bad.items()))
            detail = f"{k}: {v.get('detail', 'differs')}"
        out.append(Target("debug5: identical _mesg log lines", "MISS" if bad else "pass", detail))
    elif res.get(g, "debug5", "stdlib") is not None:
        out.append(Target("debug5: identical _mesg log lines", "n/a", c_note))
    # TLS: the plain-TCP speed-ups over stdlib must hold within 2x.
    for scenario in sc.SCENARIOS:
        p_std, t_std = res.cpu("plain", scenario, "stdlib"), res.cpu("tls", scenario, "stdlib")
        if p_std is None or t_std is None:
            continue
        name = f"tls {scenario}: speed-up >= plain/2"
        if failed("tls", scenario):
            out.append(Target(name, "FAIL", "imaplib_c gave wrong results"))
            continue
        p_sp = _ratio(p_std, res.cpu("plain", scenario, C))
        t_sp = _ratio(t_std, res.cpu("tls", scenario, C))
        if p_sp is None or t_sp is None:
            out.append(Target(name, "n/a", f"stdlib tls {_sec(t_std)} s, plain {_sec(p_std)} s"))
        else:
            out.append(
                Target(name, _judge(t_sp >= p_sp / 2), f"tls {t_sp:.1f}x vs plain {p_sp:.1f}x")
            )
    near_floor(
        "dovecot headers: wall within 1.2x of raw floor", "dovecot", "headers", "floor", 1.2, "wall"
    )
    speedup("dovecot headers: client cpu >= 20x lower than stdlib", "dovecot", "headers", 20)
    if c_note:
        for t in out:
            if t.status == "n/a" and not t.detail.startswith("need") and t.detail != c_note:
                t.detail += f" ({c_note})"
    return out


# ---------------------------------------------------------------------------
# Output formats
# ---------------------------------------------------------------------------


def fmt_text(head: Sequence[str], rows: Sequence[Sequence[str]], group_cols: int = 2) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]
    widths[-1] = len(head[-1])  # notes: don't pad
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    prev: tuple[str, ...] | None = None
    for r in rows:
        key = tuple(r[:group_cols])
        if group_cols and prev is not None and prev != key:
            lines.append("")
        prev = key
        lines.append(
            "  ".join(
                c.ljust(w) if i < len(r) - 1 else c for i, (c, w) in enumerate(zip(r, widths))
            ).rstrip()
        )
    return "\n".join(lines)


def fmt_rst(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(head)] + [[("\\-" if c == "-" else c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    border = " ".join("=" * w for w in widths)
    out = [border, " ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), border]
    out += [" ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells[1:]]
    out.append(border)
    return "\n".join(out)


def fmt_md(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def environment_lines(args: argparse.Namespace, have_c: bool, c_origin: str) -> list[str]:
    try:
        git = ["git", "-C", str(REPO)]
        rev = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain"], check=False, capture_output=True, text=True
        ).stdout.strip()
        rev += "+dirty" if dirty else ""
    except OSError:
        rev = "?"
    return [
        (
            f"date {datetime.datetime.now().isoformat(timespec='seconds')}; git {rev}; "
            f"python {platform.python_version()} ({platform.python_implementation()}); "
            f"{os.cpu_count()} CPUs; load avg {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        ),
        (
            f"size-scale {args.size_scale}; repeat {args.repeat}; "
            f"pin {'on' if args.pin_effective else 'off'}; imaplib_c "
            + (f"importable: {c_origin}" if have_c else "NOT importable (column omitted)")
        ),
        "cpu = median time.process_time() of the timed phase (fresh client process per run);",
        "wall = median perf_counter of the timed phase; spread = (max - min) / median of the cpu times;",
        "srv cpu = median CPU time of the server process during the timed phase (from /proc;",
        "  for Dovecot the imap process that serves the connection);",
        "peak = median peak-RSS growth of the client during the timed phase",
        "  (VmHWM after - VmRSS before; the peak mark is reset via /proc/self/clear_refs);",
        "x stdlib = stdlib cpu / cpu; /floor = cpu / raw-floor cpu; /keep = cpu / keep-floor cpu;",
        "wall/floor = wall / raw-floor wall;",
        "faults = median page faults of the client in the timed phase (noted from 1,000 up).",
    ]


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def log_check(clients: Sequence[str], progress: Progress, python: str) -> dict[str, dict[str, Any]]:
    """Compare the _mesg lines of stdlib and imaplib_c at debug=5 (small size)."""
    out: dict[str, dict[str, Any]] = {}
    if "imaplib_c" not in clients:
        return out
    with ReplayServer(LOG_CHECK_SCALE, list(LOG_CHECK_SCENARIOS), tls=False, python=python) as srv:
        for scenario in LOG_CHECK_SCENARIOS:
            logs: dict[str, list[str]] = {}
            for impl in ("stdlib", "imaplib_c"):
                p = srv.params(impl, scenario, False)
                p.update(debug5=True, capture_log=True, seed=20240607)
                r = run_client(p, python=python)
                progress.step(f"log-check {scenario} {impl}", r)
                logs[impl] = r.get("log", []) if r.get("ok") else []
                if not r.get("ok"):
                    out[scenario] = {
                        "equal": False,
                        "lines": 0,
                        "detail": f"{impl} failed: {r.get('errors')}",
                    }
            if scenario in out:
                continue
            a, b = logs["stdlib"], logs["imaplib_c"]
            entry: dict[str, Any] = {"equal": a == b and bool(a), "lines": len(a)}
            if a != b:
                i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                entry["detail"] = (
                    f"{len(a)} vs {len(b)} lines; first difference at line {i}: "
                    f"stdlib {a[i] if i < len(a) else None!r:.160} / imaplib_c {b[i] if i < len(b) else None!r:.160}"
                )
            out[scenario] = entry
    return out


def run_replay(
    args: argparse.Namespace,
    groups: list[str],
    scenarios: list[str],
    clients: list[str],
    results: Results,
    progress: Progress,
) -> None:
    progress.note(f"building replay responses (size-scale {args.size_scale}) ...")
    t0 = time.monotonic()
    with ReplayServer(args.size_scale, scenarios, tls="tls" in groups, python=args.python) as srv:
        progress.note(
            f"replay server ready in {time.monotonic() - t0:.1f}s (pid {srv.pid}, ports {srv.ports})"
        )
        for group in groups:
            results.expected[group] = srv.expected
            for scenario in scenarios:
                srv_cpus, cli_cpus = cpu_plan(scenario, args.pin_effective)
                if srv_cpus:
                    pin_process(srv.pid, srv_cpus)
                for rep in range(args.repeat):
                    for impl in clients:
                        p = srv.params(impl, scenario, group == "tls")
                        if cli_cpus:
                            p["cpus"] = sorted(cli_cpus)
                        r = run_client(p, python=args.python)
                        results.add(group, scenario, impl, r)
                        progress.step(
                            f"{group} {scenario} {CLIENT_LABEL[impl]} {rep + 1}/{args.repeat}", r
                        )


def run_dovecot(
    args: argparse.Namespace,
    scenarios: list[str],
    clients: list[str],
    results: Results,
    progress: Progress,
) -> None:
    sizes = sc.make_sizes(args.size_scale)
    n = max(
        sizes.headers if "headers" in scenarios else 0, sizes.bodies if "bodies" in scenarios else 0
    )
    progress.note(f"dovecot: writing {n} maildir messages and starting the server ...")
    srv_cpus, cli_cpus = cpu_plan("headers", args.pin_effective)
    exp: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        exp[scenario] = sc.build_scenario(scenario, sizes, keep_body=False)[1].to_json()
    results.expected["dovecot"] = exp
    t0 = time.perf_counter()
    dovecot = bench_dovecot(n, cpus=srv_cpus)
    populate = time.perf_counter() - t0
    with dovecot as dv:
        progress.note(
            f"dovecot {'.'.join(map(str, dv.version))} on port {dv.plain_port} (maildir written in {populate:.1f}s); warming its index and cache ..."
        )
        base = {
            "host": dv.host,
            "port": dv.plain_port,
            "tls": False,
            "scale": args.size_scale,
            "server_cpu": True,
        }
        if cli_cpus:
            base["cpus"] = sorted(cli_cpus)
        for scenario in scenarios:
            for _ in range(2):
                r = run_client(
                    {**base, "impl": "floor", "scenario": scenario, "expected": exp[scenario]},
                    python=args.python,
                )
                progress.step(f"dovecot warm-up {scenario}", r)
        for scenario in scenarios:
            for rep in range(args.repeat):
                for impl in clients:
                    p = {**base, "impl": impl, "scenario": scenario, "expected": exp[scenario]}
                    r = run_client(p, python=args.python)
                    results.add("dovecot", scenario, impl, r)
                    progress.step(
                        f"dovecot {scenario} {CLIENT_LABEL[impl]} {rep + 1}/{args.repeat}", r
                    )


def _csv(value: str, allowed: Iterable[str], what: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    allowed = list(allowed)
    bad = [x for x in items if x not in allowed]
    if bad:
        raise SystemExit(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return [x for x in allowed if x in items]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--scenarios",
        default=",".join(sc.SCENARIOS),
        help="comma list (default: all): " + ",".join(sc.SCENARIOS),
    )
    ap.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="comma list (default: all): " + ",".join(CLIENTS),
    )
    ap.add_argument(
        "--size-scale",
        type=float,
        default=1.0,
        help="multiply every workload size (e.g. 0.05 for a quick run)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs per client and scenario (median reported; default 5)",
    )
    ap.add_argument(
        "--tls",
        nargs="?",
        const="both",
        default="both",
        choices=("both", "off", "only"),
        help="replay rows over plain TCP and TLS (both, the default), plain only (off) or TLS only (only)",
    )
    ap.add_argument(
        "--dovecot",
        nargs="?",
        const="on",
        default="auto",
        choices=("auto", "on", "off", "only"),
        help="real-Dovecot rows for headers/bodies: auto (if installed; default), on (required), off, only",
    )
    ap.add_argument(
        "--pin", choices=("auto", "off"), default="auto", help="CPU pinning (see above)"
    )
    ap.add_argument(
        "--rst", action="store_true", help="print the tables as reStructuredText (for README)"
    )
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--json", metavar="FILE", help="also write every run and the summary to FILE")
    ap.add_argument(
        "--load", metavar="FILE", help="run nothing; print the report of an earlier --json FILE"
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter for servers and clients")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.size_scale <= 0:
        ap.error("--repeat must be >= 1 and --size-scale > 0")
    return args


def report(results: Results, pre: list[str], c_note: str, args: argparse.Namespace) -> list[Target]:
    """Print the set-up lines, the results table and the targets; return the targets."""
    head, rows = results.table()
    targets = evaluate_targets(results, c_note)
    t_head = ["target", "status", "detail"]
    t_rows = [[t.name, t.status, t.detail] for t in targets]
    if args.rst:
        print("Benchmark set-up::\n\n" + "\n".join("    " + line for line in pre))
        print()
        print(fmt_rst(head, rows))
        print()
        print(fmt_rst(t_head, t_rows))
    elif args.markdown:
        print("```\n" + "\n".join(pre) + "\n```")
        print()
        print(fmt_md(head, rows))
        print()
        print(fmt_md(t_head, t_rows))
    else:
        print("\n".join(pre))
        print()
        print(fmt_text(head, rows))
        print()
        print(fmt_text(t_head, t_rows, 0))
    n_fail = sum(1 for r in results.rows.values() if r.failed)
    if n_fail:
        print(f"\n{n_fail} client/scenario rows had runs with WRONG RESULTS (see notes)")
    return targets


def load(args: argparse.Namespace) -> int:
    """``--load FILE``: print the report of an earlier ``--json FILE`` run."""
    payload = json.loads(Path(args.load).read_text())
    results = Results(payload["expected"])
    for row in payload["rows"]:
        for run in row["runs"]:
            results.add(row["group"], row["scenario"], row["impl"], run)
    results.log_check = payload.get("log_check", {})
    report(results, payload["setup"], payload.get("c_note", ""), args)
    return 1 if any(r.failed for r in results.rows.values()) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.load:
        return load(args)
    scenarios = _csv(args.scenarios, sc.SCENARIOS, "scenario")
    clients = _csv(args.clients, CLIENTS, "client")
    have_c = imaplib_c_importable(args.python)
    c_origin = ""
    if have_c:
        c_origin = subprocess.run(
            [args.python, "-c", C_PROBE],
            check=False,
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    if not have_c and "imaplib_c" in clients:
        clients.remove("imaplib_c")
        print(
            "note: imaplib_c is not importable; running stdlib and the floors only", file=sys.stderr
        )
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count() or 1
    args.pin_effective = args.pin == "auto" and ncpu >= 2 and hasattr(os, "sched_setaffinity")

    groups = (
        []
        if args.dovecot == "only"
        else {"both": ["plain", "tls"], "off": ["plain"], "only": ["tls"]}[args.tls]
    )
    dv_scenarios = [s for s in sc.DOVECOT_SCENARIOS if s in scenarios]
    dv_missing = missing_requirements(tls=False)
    want_dv = args.dovecot in ("on", "only") or (args.dovecot == "auto" and not dv_missing)
    if want_dv and dv_missing:
        raise SystemExit(f"--dovecot {args.dovecot}: not installed: {', '.join(dv_missing)}")
    if not want_dv:
        dv_scenarios = []
    log_check_runs = (
        2 * len(LOG_CHECK_SCENARIOS)
        if ("debug5" in scenarios and "imaplib_c" in clients and "plain" in groups)
        else 0
    )
    total = (
        len(groups) * len(scenarios) * args.repeat * len(clients)
        + len(dv_scenarios) * (args.repeat * len(clients) + 2)
        + log_check_runs
    )
    progress = Progress(total, args.quiet)
    results = Results({})
    page_us_before = fresh_page_us()
    t0 = time.monotonic()
    if groups:
        run_replay(args, groups, scenarios, clients, results, progress)
    if log_check_runs:
        results.log_check = log_check(clients, progress, args.python)
    if dv_scenarios:
        run_dovecot(args, dv_scenarios, clients, results, progress)
    progress.finish()
    elapsed = time.monotonic() - t0

    c_note = ""
    if "imaplib_c" not in clients:
        c_note = "imaplib_c not run" if have_c else "imaplib_c not importable"
    pre = environment_lines(args, "imaplib_c" in clients, c_origin)
    pre.append(f"total run time {_dur(elapsed)}")
    pre.append(
        f"a fresh 4 KiB page costs {page_us_before:.2f} us before the runs and "
        f"{fresh_page_us():.2f} us after them (bench/pagecost.py)"
    )
    targets = report(results, pre, c_note, args)
    if args.json:
        payload = {
            "args": dict(vars(args)),
            "setup": pre,
            "c_note": c_note,
            "elapsed": elapsed,
            "rows": [
                {"group": r.group, "scenario": r.scenario, "impl": r.impl, "runs": r.runs}
                for r in results.rows.values()
            ],
            "expected": results.expected,
            "log_check": results.log_check,
            "targets": [t.__dict__ for t in targets],
        }
        Path(args.json).write_text(json.dumps(payload, indent=1))
    return 1 if any(r.failed for r in results.rows.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
