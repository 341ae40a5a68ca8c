"""Benchmark scenarios: sizes, wire commands, generated mail data and result digests.

Everything here is deterministic: the replay server (bench/replay_server.py), the
Dovecot maildir (bench/harness.py's bench_dovecot) and the result checks of every client
(bench/client.py) derive from the same functions, so a client that is fast but
returns different bytes, a different list shape or different types fails.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

CRLF = b"\r\n"
MiB = 1 << 20
USER = "bench"
USER_DELACK = "delack"  # LOGIN name that makes the replay server keep normal (delayed) ACKs
PASSWORD = "secret"
MAXLINE = 10_000_000  # what users set imaplib._MAXLINE to for huge SEARCH lines

# Scenario names in report order.  "append-delack" is the APPEND workload against a
# server that leaves delayed ACKs on (see bench/replay_server.py); "debug5" is "meta" with
# IMAPClient's debug=5 + logger-adapter _mesg set-up.
SCENARIOS: tuple[str, ...] = (
    "meta",
    "headers",
    "bodies",
    "large",
    "search",
    "roundtrips",
    "append",
    "append-delack",
    "debug5",
)
FETCH_LIKE: frozenset[str] = frozenset({"meta", "headers", "bodies", "large", "search", "debug5"})
DOVECOT_SCENARIOS: tuple[str, ...] = ("headers", "bodies")

META_PARTS = "(UID FLAGS RFC822.SIZE INTERNALDATE)"
HEADER_PARTS = "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])"
BODY_PARTS = "(RFC822)"
LARGE_PARTS = "(BODY.PEEK[])"
APPEND_FLAGS = "(\\Seen)"
APPEND_SIZE = 4096
APPEND_VARIANTS = 16


@dataclass(frozen=True)
class Sizes:
    """Workload sizes; ``make_sizes(1.0)`` is the full benchmark."""

    meta: int
    headers: int
    bodies: int
    large: tuple[int, ...]
    search: int
    roundtrips: int
    append: int
    append_delack: int
    debug5: int


def _scaled(n: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(n * scale))


def make_sizes(scale: float = 1.0) -> Sizes:
    """Sizes for ``--size-scale``; every count/length is multiplied by ``scale``.

    ``append-delack`` uses 100 APPENDs at scale 1 (not 5,000): the stdlib client
    stalls ~40 ms on every one of them, so 5,000 would take over 3 minutes per run.
    ``debug5`` is ``meta`` (same command and response) with debug=5.
    """
    return Sizes(
        meta=_scaled(200_000, scale),
        headers=_scaled(100_000, scale),
        bodies=_scaled(50_000, scale),
        large=tuple(_scaled(m * MiB, scale, 1024) for m in (24, 36, 48)),
        search=_scaled(1_000_000, scale),
        roundtrips=_scaled(20_000, scale),
        append=_scaled(5_000, scale),
        append_delack=_scaled(100, scale, 5),
        debug5=_scaled(200_000, scale),
    )


@dataclass(frozen=True)
class Call:
    """How an imaplib client issues a scenario's command, and the wire text it makes."""

    method: str  # "fetch" or "uid"
    args: tuple[str, ...]

    @property
    def wire(self) -> str:
        """The command as sent after ``TAG `` (what floors send and the server keys on)."""
        if self.method == "uid":
            return "UID " + " ".join(self.args)
        return self.method.upper() + " " + " ".join(self.args)


def fetch_call(scenario: str, sizes: Sizes) -> Call:
    """The single big command of a fetch-like scenario."""
    if scenario == "meta":
        return Call("fetch", (f"1:{sizes.meta}", META_PARTS))
    if scenario == "debug5":
        return Call("fetch", (f"1:{sizes.debug5}", META_PARTS))
    if scenario == "headers":
        return Call("uid", ("FETCH", f"1:{sizes.headers}", HEADER_PARTS))
    if scenario == "bodies":
        return Call("fetch", (f"1:{sizes.bodies}", BODY_PARTS))
    if scenario == "large":
        return Call("fetch", (f"1:{len(sizes.large)}", LARGE_PARTS))
    if scenario == "search":
        return Call("uid", ("SEARCH", "ALL"))
    raise ValueError(f"not a fetch-like scenario: {scenario}")


def append_command(size: int = APPEND_SIZE) -> str:
    """The APPEND line (without tag) stock imaplib sends for ``append('INBOX', '(\\Seen)', None, msg)``."""
    return f"APPEND INBOX {APPEND_FLAGS} {{{size}}}"


def append_ok_text(uid: int, literal: bytes) -> bytes:
    """Text of the replay server's tagged OK for an APPEND (carries a CRC of the literal)."""
    return b"[APPENDUID 1 %d] APPEND completed (crc %08x)" % (uid, zlib.crc32(literal))


NOOP_OK_TEXT = b"NOOP completed"

# ---------------------------------------------------------------------------
# Deterministic mail content
# ---------------------------------------------------------------------------

_DAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BASE_EPOCH = 1_600_000_000


def _civil(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 -> (year, month 1..12, day) (H. Hinnant's algorithm)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d)


def _stamp(i: int) -> tuple[int, int, int, int, int, int, int]:
    t = _BASE_EPOCH + i * 617
    days, secs = divmod(t, 86400)
    y, m, d = _civil(days)
    return y, m, d, secs // 3600, secs // 60 % 60, secs % 60, days % 7


def internaldate(i: int) -> bytes:
    y, m, d, hh, mm, ss, _ = _stamp(i)
    return b"%02d-%s-%04d %02d:%02d:%02d +0000" % (d, _MONTHS[m - 1].encode(), y, hh, mm, ss)


def rfc822_date(i: int) -> bytes:
    y, m, d, hh, mm, ss, wd = _stamp(i)
    return b"%s, %02d %s %04d %02d:%02d:%02d +0000" % (
        _DAYS[wd].encode(),
        d,
        _MONTHS[m - 1].encode(),
        y,
        hh,
        mm,
        ss,
    )


def _mix(i: int) -> int:
    """A cheap deterministic 32-bit hash of ``i``."""
    h = (i * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 2246822519) & 0xFFFFFFFF
    return h ^ (h >> 13)


class _Corpus:
    """~256 KiB of CRLF text lines made of pseudo-words, plus line start offsets."""

    def __init__(self) -> None:
        rng = random.Random(4242)
        letters = "etaoinshrdlucmfwypvbgkqjxz"
        weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
        words = ["".join(rng.choices(letters, weights, k=rng.randint(2, 9))) for _ in range(600)]
        self.words = [w.encode() for w in words]
        lines: list[bytes] = []
        total = 0
        while total < 256 * 1024:
            n = rng.randint(30, 76)
            line = b""
            while len(line) < n:
                line += rng.choice(self.words) + b" "
            lines.append(line.rstrip())
            total += len(lines[-1]) + 2
        self.text = CRLF.join(lines) + CRLF
        self.starts: list[int] = []
        pos = 0
        for line in lines:
            self.starts.append(pos)
            pos += len(line) + 2
        self.starts.append(pos)

    def lines_from(self, seed: int, want: int) -> bytes:
        """Whole lines starting at a seed-chosen line, about ``want`` bytes long."""
        starts = self.starts
        first = seed % (len(starts) - 400)
        start = starts[first]
        end_i = bisect.bisect_left(starts, start + want, first)
        end_i = min(end_i, len(starts) - 1)
        return self.text[start : starts[end_i]]


_CORPUS: _Corpus | None = None


def corpus() -> _Corpus:
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = _Corpus()
    return _CORPUS


def subject(i: int) -> bytes:
    words = corpus().words
    h = _mix(i)
    return b"%s %s %s #%d" % (words[h % 600], words[(h >> 10) % 600], words[(h >> 20) % 600], i)


def sender(i: int) -> bytes:
    u = _mix(i * 7 + 3) % 997
    return b'"User %d" <user%d@example.org>' % (u, u)


def header_fields(i: int) -> bytes:
    """What ``BODY[HEADER.FIELDS (FROM SUBJECT DATE)]`` returns for message ``i``."""
    return b"From: %s\r\nSubject: %s\r\nDate: %s\r\n\r\n" % (sender(i), subject(i), rfc822_date(i))


def message(i: int) -> bytes:
    """Message ``i`` (1-based) as the client receives it: CRLF lines, 4-8 KiB."""
    h = _mix(i)
    size = 4096 + h % 4097
    head = (
        b"From: %s\r\nTo: bench@example.net\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%08x@bench.example>\r\n\r\n"
        % (
            sender(i),
            subject(i),
            rfc822_date(i),
            i,
            h,
        )
    )
    return head + corpus().lines_from(h >> 5, size - len(head))


def large_literal(i: int, size: int) -> bytes:
    text = corpus().text
    k = (_mix(i) % len(text)) & ~1
    rotated = text[k:] + text[:k]
    return (rotated * (size // len(rotated) + 1))[:size]


def append_message(j: int) -> bytes:
    """APPEND payload ``j``: exactly APPEND_SIZE bytes, CRLF only (so imaplib's MapCRLF keeps it)."""
    v = j % APPEND_VARIANTS
    base = b"From: bench@example.org\r\nSubject: append %d\r\n\r\n" % v
    msg = (base + corpus().lines_from(_mix(v), APPEND_SIZE))[: APPEND_SIZE - 2]
    if msg.endswith(b"\r"):
        msg = msg[:-1] + b"-"
    return msg.ljust(APPEND_SIZE - 2, b"-") + CRLF


# ---------------------------------------------------------------------------
# Responses and expected digests
# ---------------------------------------------------------------------------


def crc_lines(lines: Sequence[bytes]) -> int:
    """CRC-32 of the lines, each followed by ``\\n`` (0 for no lines)."""
    return zlib.crc32(b"\n".join(lines) + b"\n") if lines else 0


def shape_first_line(line: bytes) -> bytes:
    """The data item stock imaplib files for an untagged ``* ...`` line we generate."""
    rest = line[2:]
    word, _, tail = rest.partition(b" ")
    if word.isdigit():
        _typ, _, data2 = tail.partition(b" ")
        return word + b" " + data2 if data2 else word
    return tail


@dataclass
class Expected:
    """What the clients of one command must hand back (see ``check_*`` in bench/client.py)."""

    command: str
    tail: str = ""  # tagged completion text after ``TAG `` (replay server only)
    body_len: int = 0  # bytes of the untagged part of the response
    lines: int = 0  # protocol lines in the untagged part (literal contents excluded)
    lines_crc: int = 0  # crc_lines() of those lines, CRLF stripped
    literals: int = 0
    literal_bytes: int = 0
    literal_crc: int = 0  # CRC-32 of all literal payloads concatenated
    items: int = 0  # len(data) of the imaplib result
    items_crc: int = 0  # crc_lines() of the bytes items / tuple heads, in order
    tuples: int = 0  # number of (head, literal) tuples in the imaplib result
    extra: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, object]) -> Expected:
        return cls(**d)  # type: ignore[arg-type]


def build(
    command: str, tail: str, responses: Iterable[list[bytes]], keep_body: bool = True
) -> tuple[bytes, Expected]:
    """Assemble responses (each ``[line, literal, line, literal, ..., line]``) into wire bytes.

    Returns the untagged response bytes and the Expected digests for them.
    """
    parts: list[bytes] = []
    lines: list[bytes] = []
    items: list[bytes] = []
    lit_crc = 0
    lit_bytes = 0
    nlit = 0
    body_len = 0
    for resp in responses:
        for k, seg in enumerate(resp):
            if k % 2 == 0:
                lines.append(seg)
                items.append(shape_first_line(seg) if k == 0 else seg)
                if keep_body:
                    parts.append(seg)
                    parts.append(CRLF)
                body_len += len(seg) + 2
            else:
                nlit += 1
                lit_bytes += len(seg)
                lit_crc = zlib.crc32(seg, lit_crc)
                if keep_body:
                    parts.append(seg)
                body_len += len(seg)
    exp = Expected(
        command=command,
        tail=tail,
        body_len=body_len,
        lines=len(lines),
        lines_crc=crc_lines(lines),
        literals=nlit,
        literal_bytes=lit_bytes,
        literal_crc=lit_crc,
        items=len(items),
        items_crc=crc_lines(items),
        tuples=nlit,
    )
    return (b"".join(parts) if keep_body else b""), exp


def meta_responses(n: int) -> Iterator[list[bytes]]:
    flags = (b"\\Seen", b"\\Seen \\Answered", b"", b"\\Flagged \\Seen $Label1", b"\\Seen NonJunk")
    for i in range(1, n + 1):
        h = _mix(i)
        yield [
            b'* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d INTERNALDATE "%s")'
            % (i, i, flags[h % 5], 4096 + h % 4097, internaldate(i))
        ]


HEADER_ITEM = b"BODY[HEADER.FIELDS (FROM SUBJECT DATE)]"


def header_responses(n: int) -> Iterator[list[bytes]]:
    for i in range(1, n + 1):
        h = header_fields(i)
        yield [b"* %d FETCH (UID %d %s {%d}" % (i, i, HEADER_ITEM, len(h)), h, b")"]


def body_responses(n: int) -> Iterator[list[bytes]]:
    for i in range(1, n + 1):
        m = message(i)
        yield [b"* %d FETCH (RFC822 {%d}" % (i, len(m)), m, b")"]


def large_responses(sizes: Sequence[int]) -> Iterator[list[bytes]]:
    for i, size in enumerate(sizes, 1):
        yield [b"* %d FETCH (BODY[] {%d}" % (i, size), large_literal(i, size), b")"]


def search_responses(n: int) -> Iterator[list[bytes]]:
    yield [b"* SEARCH " + b" ".join(b"%d" % u for u in range(1, n + 1))]


def fetch_responses(scenario: str, sizes: Sizes) -> Iterator[list[bytes]]:
    if scenario == "meta":
        return meta_responses(sizes.meta)
    if scenario == "debug5":
        return meta_responses(sizes.debug5)
    if scenario == "headers":
        return header_responses(sizes.headers)
    if scenario == "bodies":
        return body_responses(sizes.bodies)
    if scenario == "large":
        return large_responses(sizes.large)
    if scenario == "search":
        return search_responses(sizes.search)
    raise ValueError(scenario)


def completion_text(scenario: str) -> str:
    return "OK Search completed." if scenario == "search" else "OK Fetch completed."


def build_scenario(scenario: str, sizes: Sizes, keep_body: bool = True) -> tuple[bytes, Expected]:
    call = fetch_call(scenario, sizes)
    return build(call.wire, completion_text(scenario), fetch_responses(scenario, sizes), keep_body)


def data_bytes(exp: Expected) -> int:
    """Payload size the client must hand back (for memory ratios)."""
    return exp.literal_bytes if exp.literals else exp.body_len
