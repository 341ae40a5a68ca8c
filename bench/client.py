"""One benchmark client run, in a fresh process: ``python -m bench.client '<json params>'``.

Phases: set-up (import, connect, LOGIN, SELECT; untimed), baseline (``gc.collect()``,
reset of the peak-RSS mark through ``/proc/self/clear_refs``), the timed phase
(``time.process_time()`` and ``time.perf_counter()`` around the workload only), then
the result checks (untimed).  Prints one JSON line with the measurements.

Peak memory is ``VmHWM`` after the timed phase minus ``VmRSS`` before it, read from
``/proc/self/status`` (the peak mark is reset just before the timed phase; where
that is not possible, ``ru_maxrss`` after the set-up is the baseline instead).

Implementations (``impl``):

* ``stdlib`` / ``imaplib_c``: ``import imaplib`` / ``import imaplib_c`` and the
  public API (``fetch``, ``uid``, ``noop``, ``append``);
* ``floor``: raw socket; sends the same command lines, receives into one reused
  buffer until the tagged completion, keeps nothing (the bytes are only counted);
* ``keepfloor``: like ``floor`` but keeps every protocol line and literal as a new
  ``bytes`` object (``BufferedReader.readline``/``read``): the floor for any client
  that has to hand the data back.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import resource
import socket
import ssl
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scenarios as sc

CRLF = b"\r\n"
IMPLS = ("stdlib", "imaplib_c", "floor", "keepfloor")
RECV_BUF = 1 << 20
KEEP_BUF = 1 << 18

# ---------------------------------------------------------------------------
# Memory and CPU helpers
# ---------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def mem_baseline() -> tuple[int, str]:
    """Reset the peak-RSS mark if possible; return (baseline KiB, method)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        rss = _status_kib("VmRSS")
        if rss is not None:
            return rss, "VmHWM-VmRSS0"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss-delta"


def mem_peak() -> int:
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def proc_cpu_ns(pid: int) -> int | None:
    """On-CPU time of a process in ns: sum of its live threads' schedstat (else stat ticks)."""
    try:
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                continue  # thread ended meanwhile
        return total
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def socket_owner_pids(sock: socket.socket) -> list[int]:
    """Pids of the processes that hold the server end of our TCP connection (loopback only)."""
    lhost, lport = sock.getsockname()[:2]
    rhost, rport = sock.getpeername()[:2]

    def hexaddr(host: str, port: int) -> str:
        return f"{int.from_bytes(socket.inet_aton(host), 'little'):08X}:{port:04X}"

    want_local, want_remote = hexaddr(rhost, rport), hexaddr(lhost, lport)
    inode = None
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want_local and parts[2] == want_remote:
                    inode = parts[9]
                    break
    except OSError:
        return []
    if inode is None:
        return []
    target = f"socket:[{inode}]"
    pids: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(f"{fd_dir}/{fd}") == target:
                        pids.append(int(entry))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return pids


# ---------------------------------------------------------------------------
# Floors
# ---------------------------------------------------------------------------


class FloorError(Exception):
    pass


def _connect(host: str, port: int, tls: bool, cafile: str | None) -> socket.socket:
    sock = socket.create_connection((host, port))
    if tls:
        ctx = ssl.create_default_context(cafile=cafile)
        sock = ctx.wrap_socket(sock, server_hostname=host)
    return sock


class RawFloor:
    """Sends command lines; receives into one reused buffer until the tagged line."""

    def __init__(self, sock: socket.socket, recv_buf: int = RECV_BUF) -> None:
        self.sock = sock
        self.buf = bytearray(recv_buf)
        self.view = memoryview(self.buf)
        self.tagnum = 0
        self.received = 0

    def new_tag(self) -> bytes:
        self.tagnum += 1
        return b"F%d" % self.tagnum

    def read_line(self) -> bytes:
        """Receive until the data ends with CRLF (only for short single replies)."""
        data = self.sock.recv(65536)
        while not data.endswith(CRLF):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise FloorError("EOF")
            data += chunk
        return data

    def until_tagged(self, tag: bytes) -> tuple[int, bytes]:
        """Receive until the tagged completion; return (untagged bytes, tagged line).

        Looks only at the end of each received chunk: the stream is complete when it
        ends with CRLF and its last line starts with ``tag``.  ``frag`` holds the
        start of the current unfinished line when it is short (tagged lines are).
        """
        recv_into = self.sock.recv_into
        buf = self.buf
        view = self.view
        marker = tag + b" "
        total = 0
        frag: bytes | None = b""
        while True:
            n = recv_into(view)
            if not n:
                raise FloorError("EOF")
            total += n
            if buf[n - 1] == 10:
                j = buf.rfind(b"\r\n", 0, n - 2)
                if j >= 0:
                    if buf.startswith(marker, j + 2, n):
                        last = bytes(buf[j + 2 : n - 2])
                        self.received += total
                        return total - len(last) - 2, last
                elif frag is not None and len(frag) + n <= 1024:
                    line = frag + bytes(buf[:n])
                    jj = line.rfind(b"\r\n", 0, len(line) - 2)
                    last = line[jj + 2 : -2] if jj >= 0 else line[:-2]
                    if last.startswith(marker):
                        self.received += total
                        return total - len(last) - 2, last
                frag = b""
                continue
            k = buf.rfind(b"\n", 0, n)
            if k >= 0:
                frag = bytes(buf[k + 1 : n]) if n - k <= 512 else None
            elif frag is not None and len(frag) + n <= 512:
                frag += bytes(buf[:n])
            else:
                frag = None

    def command(self, text: bytes) -> tuple[int, bytes]:
        tag = self.new_tag()
        self.sock.sendall(tag + b" " + text + CRLF)
        return self.until_tagged(tag)

    def append(self, cmd: bytes, literal_crlf: bytes) -> bytes:
        tag = self.new_tag()
        self.sock.sendall(tag + b" " + cmd + CRLF)
        cont = self.read_line()
        if not cont.startswith(b"+"):
            raise FloorError(f"no continuation: {cont!r}")
        self.sock.sendall(literal_crlf)
        return self.until_tagged(tag)[1]


class KeepFloor(RawFloor):
    """Keeps every line (``readline``) and literal (``read``) as new bytes objects."""

    def __init__(self, sock: socket.socket, keep_buf: int = KEEP_BUF) -> None:
        super().__init__(sock, 65536)
        self.file = sock.makefile("rb", buffering=keep_buf)

    def read_line(self) -> bytes:
        line = self.file.readline()
        if not line:
            raise FloorError("EOF")
        return line

    def read_response(self, tag: bytes) -> list[bytes]:
        """Lines (with CRLF) and literal payloads up to and including the tagged line."""
        out: list[bytes] = []
        append = out.append
        readline = self.file.readline
        read = self.file.read
        marker = tag + b" "
        while True:
            line = readline()
            append(line)
            if line.endswith(b"}\r\n"):
                append(read(int(line[line.rindex(b"{") + 1 : -3])))
            elif line.startswith(marker):
                return out
            elif not line:
                raise FloorError("EOF")

    def until_tagged(self, tag: bytes) -> tuple[int, bytes]:
        out = self.read_response(tag)
        return sum(map(len, out[:-1])), out[-1][:-2]

    def command_keep(self, text: bytes) -> list[bytes]:
        tag = self.new_tag()
        self.sock.sendall(tag + b" " + text + CRLF)
        return self.read_response(tag)


def floor_setup(p: dict[str, Any], keep: bool) -> RawFloor:
    sock = _connect(p["host"], p["port"], p["tls"], p.get("cafile"))
    fl: RawFloor
    if keep:
        fl = KeepFloor(sock, p.get("keep_buf", KEEP_BUF))
    else:
        fl = RawFloor(sock, p.get("recv_buf", RECV_BUF))
    greeting = fl.read_line()
    if not greeting.startswith(b"* OK"):
        raise FloorError(f"bad greeting {greeting!r}")
    for cmd in (
        b'LOGIN %s "%s"' % (p["user"].encode(), p["password"].encode()),
        b"SELECT " + p["mailbox"].encode(),
    ):
        _n, last = fl.command(cmd)
        if b" OK" not in last[:20]:
            raise FloorError(f"{cmd!r} failed: {last!r}")
    return fl


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def check_imaplib_fetch(typ: object, data: object, exp: sc.Expected) -> list[str]:
    """Exact result shape of stock imaplib: ('OK', [bytes | (bytes, bytes), ...])."""
    errors: list[str] = []
    if type(typ) is not str or typ != "OK":
        errors.append(f"typ is {typ!r} ({type(typ).__name__}), expected 'OK' (str)")
    if type(data) is not list:
        return errors + [f"data is {type(data).__name__}, expected list"]
    heads: list[bytes] = []
    nlit = lit_bytes = lit_crc = 0
    bad_types = 0
    for x in data:
        if type(x) is tuple:
            if len(x) != 2 or type(x[0]) is not bytes or type(x[1]) is not bytes:
                bad_types += 1
                continue
            heads.append(x[0])
            nlit += 1
            lit_bytes += len(x[1])
            lit_crc = zlib.crc32(x[1], lit_crc)
        elif type(x) is bytes:
            heads.append(x)
        else:
            bad_types += 1
    if bad_types:
        errors.append(f"{bad_types} items of wrong type (want bytes or (bytes, bytes))")
    got = {
        "items": len(data),
        "items_crc": sc.crc_lines(heads),
        "tuples": nlit,
        "literal_bytes": lit_bytes,
        "literal_crc": lit_crc,
    }
    for k, v in got.items():
        want = getattr(exp, k)
        if v != want:
            errors.append(f"{k}: got {v}, expected {want}")
    return errors


def check_keepfloor(out: list[bytes], exp: sc.Expected) -> list[str]:
    """Lines (with or without their CRLF) and literals, ending with the tagged line."""
    errors: list[str] = []
    lines: list[bytes] = []
    nlit = lit_bytes = lit_crc = 0
    i = 0
    while i < len(out) - 1:
        line = out[i]
        if line.endswith(CRLF):
            line = line[:-2]
        lines.append(line)
        b = line.rfind(b"{")
        if line.endswith(b"}") and b >= 0 and line[b + 1 : -1].isdigit():
            i += 1
            lit = out[i]
            if len(lit) != int(line[b + 1 : -1]):
                errors.append(f"literal {nlit} has wrong size")
            nlit += 1
            lit_bytes += len(lit)
            lit_crc = zlib.crc32(lit, lit_crc)
        i += 1
    got = {
        "lines": len(lines),
        "lines_crc": sc.crc_lines(lines),
        "literals": nlit,
        "literal_bytes": lit_bytes,
        "literal_crc": lit_crc,
    }
    for k, v in got.items():
        want = getattr(exp, k)
        if v != want:
            errors.append(f"{k}: got {v}, expected {want}")
    if not out or b" OK " not in out[-1][:24]:
        errors.append(f"tagged line: {out[-1][:80]!r}" if out else "no response")
    return errors


def check_tagged_ok(last: bytes, tag_free_text: bytes | None = None) -> bool:
    _tag, _, rest = last.partition(b" ")
    if tag_free_text is None:
        return rest.startswith(b"OK ")
    return rest == b"OK " + tag_free_text


# ---------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------


class _AdapterLikeIMAPClient(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Same behaviour as imapclient.imapclient.IMAPlibLoggerAdapter."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        if isinstance(msg, bytes):
            msg = msg.decode("ascii", "ignore")
        for command in ("LOGIN", "AUTHENTICATE"):
            if msg.startswith(">") and command in msg:
                msg = f"{msg.split(command)[0]}{command} **REDACTED**"
                break
        return super().process(msg, kwargs)


def dropping_mesg() -> Callable[..., None]:
    """``_mesg`` as IMAPClient installs it, on a logger that drops DEBUG records."""
    logger = logging.getLogger("bench.imaplib")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return _AdapterLikeIMAPClient(logger, {}).debug


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Timer:
    """CPU and wall time of the timed phase, and its page faults (each new page
    of memory the results need is one; see bench/pagecost.py)."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self._c = self._w = 0.0
        self.faults = self._f = 0

    def start(self) -> None:
        self._f = _minflt()
        self._c = time.process_time()
        self._w = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        self.faults = _minflt() - self._f


def latency_stats(lat: list[float]) -> dict[str, float | int]:
    s = sorted(lat)
    n = len(s)
    return {
        "n": n,
        "p50_ms": s[n // 2] * 1e3,
        "p99_ms": s[min(n - 1, int(n * 0.99))] * 1e3,
        "max_ms": s[-1] * 1e3,
        "stalls_30ms": sum(1 for x in s if x >= 0.030),
    }


def run_imaplib(p: dict[str, Any], result: dict[str, Any]) -> None:
    mod: Any = importlib.import_module("imaplib" if p["impl"] == "stdlib" else "imaplib_c")
    scenario: str = p["scenario"]
    sizes = sc.make_sizes(p["scale"])
    log: list[str] = []
    if p.get("seed") is not None:
        import random

        random.seed(p["seed"])
    if p["tls"]:
        ctx = ssl.create_default_context(cafile=p.get("cafile"))
        M = mod.IMAP4_SSL(p["host"], p["port"], ssl_context=ctx)
    else:
        M = mod.IMAP4(p["host"], p["port"])
    if scenario == "debug5" or p.get("debug5"):
        M.debug = 5
        if p.get("capture_log"):

            def capture(s: Any, secs: Any = None) -> None:
                log.append(s if isinstance(s, str) else repr(s))

            M._mesg = capture
        else:
            M._mesg = dropping_mesg()
    typ, dat = M.login(p["user"], p["password"])
    if typ != "OK":
        raise RuntimeError(f"LOGIN failed: {dat!r}")
    typ, dat = M.select(p["mailbox"])
    if typ != "OK":
        raise RuntimeError(f"SELECT failed: {dat!r}")
    errors: list[str] = result["errors"]
    exp = sc.Expected.from_json(p["expected"]) if p.get("expected") else None
    timer = Timer()
    server_pids = socket_owner_pids(M.socket()) if p.get("server_cpu") else []
    srv0 = [proc_cpu_ns(x) for x in server_pids]

    if scenario in sc.FETCH_LIKE:
        call = sc.fetch_call(scenario, sizes)
        if scenario == "search":
            mod._MAXLINE = sc.MAXLINE
        method = getattr(M, call.method)
        rss0, how = mem_baseline()
        timer.start()
        typ, data = method(*call.args)
        timer.stop()
        peak = mem_peak()
        if exp is not None:
            errors += check_imaplib_fetch(typ, data, exp)
        del data
    elif scenario == "roundtrips":
        n = sizes.roundtrips
        noop = M.noop
        rss0, how = mem_baseline()
        timer.start()
        res = [noop() for _ in range(n)]
        timer.stop()
        peak = mem_peak()
        want = ("OK", [sc.NOOP_OK_TEXT])
        bad = sum(
            1 for r in res if r != want or type(r[0]) is not str or type(r[1][0]) is not bytes
        )
        if bad or len(res) != n:
            errors.append(f"{bad} NOOP results differ from {want!r}")
    elif scenario in ("append", "append-delack"):
        n = sizes.append if scenario == "append" else sizes.append_delack
        msgs = [sc.append_message(j) for j in range(sc.APPEND_VARIANTS)]
        append = M.append
        lat: list[float] = []
        res_a: list[Any] = []
        pc = time.perf_counter
        rss0, how = mem_baseline()
        timer.start()
        for j in range(n):
            t = pc()
            r = append("INBOX", sc.APPEND_FLAGS, None, msgs[j % sc.APPEND_VARIANTS])
            lat.append(pc() - t)
            res_a.append(r)
        timer.stop()
        peak = mem_peak()
        result["latency"] = latency_stats(lat)
        for j, r in enumerate(res_a):
            want = ("OK", [sc.append_ok_text(j + 1, msgs[j % sc.APPEND_VARIANTS])])
            if r != want or type(r[0]) is not str:
                errors.append(f"APPEND {j}: got {r!r}, expected {want!r}")
                break
    else:
        raise ValueError(scenario)

    srv1 = [proc_cpu_ns(x) for x in server_pids]
    try:
        M.logout()
    except Exception as e:  # noqa: BLE001 - a failing LOGOUT must not hide the numbers
        errors.append(f"logout: {e!r}")
    if log:
        tagpre = M.tagpre.decode("ascii")
        result["log"] = [line.replace(tagpre, "TAG") for line in log]
    _finish(result, timer, rss0, how, peak, srv0, srv1)


def run_floor(p: dict[str, Any], result: dict[str, Any]) -> None:
    keep = p["impl"] == "keepfloor"
    scenario: str = p["scenario"]
    sizes = sc.make_sizes(p["scale"])
    fl = floor_setup(p, keep)
    errors: list[str] = result["errors"]
    exp = sc.Expected.from_json(p["expected"]) if p.get("expected") else None
    timer = Timer()
    server_pids = socket_owner_pids(fl.sock) if p.get("server_cpu") else []
    srv0 = [proc_cpu_ns(x) for x in server_pids]

    if scenario in sc.FETCH_LIKE:
        wire = sc.fetch_call(scenario, sizes).wire.encode()
        if keep:
            assert isinstance(fl, KeepFloor)
            rss0, how = mem_baseline()
            timer.start()
            out = fl.command_keep(wire)
            timer.stop()
            peak = mem_peak()
            if exp is not None:
                errors += check_keepfloor(out, exp)
            del out
        else:
            rss0, how = mem_baseline()
            timer.start()
            body_len, last = fl.command(wire)
            timer.stop()
            peak = mem_peak()
            if exp is not None and body_len != exp.body_len:
                errors.append(
                    f"received {body_len} bytes before the tagged line, expected {exp.body_len}"
                )
            if not check_tagged_ok(last):
                errors.append(f"tagged line {last[:80]!r}")
    elif scenario == "roundtrips":
        n = sizes.roundtrips
        command = fl.command
        rss0, how = mem_baseline()
        timer.start()
        lasts = [command(b"NOOP")[1] for _ in range(n)]
        timer.stop()
        peak = mem_peak()
        bad = sum(1 for x in lasts if not check_tagged_ok(x, sc.NOOP_OK_TEXT))
        if bad:
            errors.append(f"{bad} NOOP replies were not 'OK NOOP completed'")
    elif scenario in ("append", "append-delack"):
        n = sizes.append if scenario == "append" else sizes.append_delack
        msgs = [sc.append_message(j) for j in range(sc.APPEND_VARIANTS)]
        payloads = [m + CRLF for m in msgs]
        cmd = sc.append_command().encode()
        append = fl.append
        lat: list[float] = []
        lasts = []
        pc = time.perf_counter
        rss0, how = mem_baseline()
        timer.start()
        for j in range(n):
            t = pc()
            lasts.append(append(cmd, payloads[j % sc.APPEND_VARIANTS]))
            lat.append(pc() - t)
        timer.stop()
        peak = mem_peak()
        result["latency"] = latency_stats(lat)
        for j, last in enumerate(lasts):
            if not check_tagged_ok(last, sc.append_ok_text(j + 1, msgs[j % sc.APPEND_VARIANTS])):
                errors.append(f"APPEND {j}: tagged line {last!r}")
                break
    else:
        raise ValueError(scenario)

    srv1 = [proc_cpu_ns(x) for x in server_pids]
    try:
        fl.command(b"LOGOUT")
    except (OSError, FloorError):
        pass
    fl.sock.close()
    _finish(result, timer, rss0, how, peak, srv0, srv1)


def _finish(
    result: dict[str, Any],
    timer: Timer,
    rss0: int,
    how: str,
    peak: int,
    srv0: list[int | None],
    srv1: list[int | None],
) -> None:
    result["cpu"] = timer.cpu
    result["wall"] = timer.wall
    result["faults"] = timer.faults
    result["peak_kib"] = max(0, peak - rss0)
    result["mem_method"] = how
    if srv0 and all(x is not None for x in srv0 + srv1):
        result["server_cpu"] = (
            sum(b - a for a, b in zip(srv0, srv1) if a is not None and b is not None) / 1e9
        )


def run(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("cpus"):
        try:
            os.sched_setaffinity(0, set(p["cpus"]))
        except (AttributeError, OSError):
            pass
    p.setdefault("user", sc.USER_DELACK if p["scenario"] == "append-delack" else sc.USER)
    p.setdefault("password", sc.PASSWORD)
    p.setdefault("mailbox", "INBOX")
    p.setdefault("tls", False)
    result: dict[str, Any] = {"impl": p["impl"], "scenario": p["scenario"], "errors": []}
    if p["impl"] in ("stdlib", "imaplib_c"):
        run_imaplib(p, result)
    elif p["impl"] in ("floor", "keepfloor"):
        run_floor(p, result)
    else:
        raise ValueError(f"unknown impl {p['impl']!r}")
    result["ok"] = not result["errors"]
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    p = json.loads(args[0])
    try:
        result = run(p)
    except Exception as e:  # noqa: BLE001 - reported to the parent as a failed run
        result = {
            "impl": p.get("impl"),
            "scenario": p.get("scenario"),
            "ok": False,
            "errors": [f"{type(e).__name__}: {e}"],
        }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
