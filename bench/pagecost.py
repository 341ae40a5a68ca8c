"""What a fresh page of memory costs on this machine: ``python3 bench/pagecost.py``.

Every client of a FETCH benchmark builds its results in memory the process has
never touched, and each new 4 KiB page is a page fault.  On a virtual machine
whose host backs guest memory lazily, that fault can cost several microseconds,
and for a client as fast as imaplib_c it can be most of the timed phase (200,000
FETCH lines make about 27 MiB of bytes objects: 6,800 pages).  ``bench/run.py``
prints this figure with its set-up lines and the page faults of each row, so a
ratio to stdlib can be read against it.

The cost is measured by writing one byte to each page of a new anonymous
mapping, then once more to the same pages; the difference, per page, is the
fault (the loop's own cost cancels out).
"""

from __future__ import annotations

import mmap
import statistics
import sys
import time


def fresh_page_us(mib: int = 32, rounds: int = 3) -> float:
    """Median microseconds per first write to a new anonymous page."""
    size, page = mib << 20, mmap.PAGESIZE
    costs = []
    for _ in range(rounds):
        m = mmap.mmap(-1, size)
        try:
            t0 = time.perf_counter()
            for i in range(0, size, page):
                m[i] = 1
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            for i in range(0, size, page):
                m[i] = 2
            again = time.perf_counter() - t0
        finally:
            m.close()
        costs.append(max(0.0, first - again) / (size // page) * 1e6)
    return statistics.median(costs)


def main() -> int:
    print(f"{fresh_page_us():.2f} us per fresh {mmap.PAGESIZE // 1024} KiB page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
