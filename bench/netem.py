"""A network-emulating TCP proxy on 127.0.0.1: latency each way and a bandwidth cap.

tc/netem is not available here, so the link is emulated in user space: every chunk
read from one side is released to the other ``delay`` seconds after it arrived, and
no faster than ``rate`` bytes per second (a token-bucket pacer per direction, like a
serialising link).  One thread reads and one thread writes per direction, so a slow
writer never holds up reading (the receive window stays open, as on a real path).

Run it in its own process (``python -m bench.netem --listen-port 0 --upstream
127.0.0.1:PORT --rtt-ms 20 --mbit 100``; it prints its port on stdout, and on
SIGTERM the bytes it carried each way, ``up DOWN``) or, in a test, start ``Netem``
in threads.  Only loopback addresses.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import socket
import sys
import threading
import time

CHUNK = 64 * 1024


class _Direction:
    """src -> dst with a delay and a pacing rate (bytes/s; 0: unlimited)."""

    def __init__(self, src: socket.socket, dst: socket.socket, delay: float, rate: float) -> None:
        self.src, self.dst, self.delay, self.rate = src, dst, delay, rate
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.cond = threading.Condition()
        self.closed = False
        self.bytes = 0

    def read_loop(self) -> None:
        try:
            while True:
                data = self.src.recv(CHUNK)
                if not data:
                    break
                with self.cond:
                    self.queue.append((time.monotonic() + self.delay, data))
                    self.cond.notify()
        except OSError:
            pass
        with self.cond:
            self.closed = True
            self.cond.notify()

    def write_loop(self) -> None:
        link_free = 0.0  # when the emulated link has sent what it was given
        try:
            while True:
                with self.cond:
                    while not self.queue and not self.closed:
                        self.cond.wait()
                    if not self.queue:
                        break
                    due, data = self.queue.popleft()
                if self.rate:
                    start = max(due - self.delay, link_free)
                    link_free = start + len(data) / self.rate
                    due = max(due, link_free + self.delay)
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                self.dst.sendall(data)
                self.bytes += len(data)
        except OSError:
            pass
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Netem:
    """Listens on 127.0.0.1 and links each client to ``upstream`` through the link."""

    def __init__(self, upstream: tuple[str, int], rtt: float, mbit: float) -> None:
        if upstream[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("loopback only")
        self.upstream = upstream
        self.delay = rtt / 2
        self.rate = mbit * 1e6 / 8 if mbit else 0.0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.directions: list[_Direction] = []

    def serve_forever(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for src, dst in ((client, server), (server, client)):
                d = _Direction(src, dst, self.delay, self.rate)
                self.directions.append(d)
                threading.Thread(target=d.read_loop, daemon=True).start()
                threading.Thread(target=d.write_loop, daemon=True).start()

    def start(self) -> Netem:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.sock.close()

    def carried(self) -> tuple[int, int]:
        """Bytes delivered (client to server, server to client) so far."""
        up = sum(d.bytes for i, d in enumerate(self.directions) if i % 2 == 0)
        down = sum(d.bytes for i, d in enumerate(self.directions) if i % 2 == 1)
        return up, down


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="HOST:PORT (loopback)")
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--mbit", type=float, default=100.0, help="0: no cap")
    a = ap.parse_args(argv)
    host, _, port = a.upstream.rpartition(":")
    link = Netem((host, int(port)), a.rtt_ms / 1000, a.mbit)
    print(link.port, flush=True)

    def report(signum: int, frame: object) -> None:
        up, down = link.carried()
        print(f"{up} {down}", flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, report)
    link.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
