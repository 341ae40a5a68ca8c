"""bench/netem.py, the network-emulating proxy: it adds the round trip it is asked
for and does not pass bytes faster than its rate."""

from __future__ import annotations

import socket
import threading
import time

from bench.netem import Netem


def _echo_server() -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def test_round_trip_and_rate() -> None:
    srv, port = _echo_server()
    link = Netem(("127.0.0.1", port), rtt=0.1, mbit=8).start()  # 1 MB/s
    try:
        c = socket.create_connection(("127.0.0.1", link.port))
        t0 = time.monotonic()
        c.sendall(b"ping")
        assert c.recv(16) == b"ping"
        rtt = time.monotonic() - t0
        assert 0.1 <= rtt < 0.5, rtt
        blob = b"x" * 200_000
        t0 = time.monotonic()
        c.sendall(blob)
        got = b""
        while len(got) < len(blob):
            got += c.recv(65536)
        took = time.monotonic() - t0
        assert got == blob
        assert took >= 0.2 + 0.1, took  # 200 KB at 1 MB/s each way is paced once
        c.close()
        deadline = time.monotonic() + 5
        while link.carried() != (200_004, 200_004) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert link.carried() == (200_004, 200_004)  # what the wire carried, each way
    finally:
        link.close()
        srv.close()
