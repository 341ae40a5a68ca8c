"""A realistic IMAP workload, recorded step by step so that two runs (stdlib
``imaplib`` and the module under test) against identical fresh mailboxes can
be compared.

Every step stores what the caller sees: the returned value, or the exception
(its class, relative to the module, and its text), plus the module-visible
state that consumers read (``state``, ``untagged_responses``).  Values that
the *server* chooses per run (UIDVALIDITY, arrival time of appends without a
date, command timings, the user name) are normalised away by
:func:`normalise`; nothing else is.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import ModuleType
from typing import Any

from testsupport.dovecot import Dovecot, User

from .timebound import RealServerTimeout, bounded_step, close_quietly

# --------------------------------------------------------------------------
# Messages

N_MESSAGES = 320
LONG_SUBJECT_SEQ = 7  # message with a 15 KB Subject (sent as a literal)

_WORDS = [
    *("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"),
    *("sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore"),
    *("magna", "aliqua", "enim", "ad", "minim", "veniam", "quis", "nostrud"),
    *("exercitation", "ullamco", "laboris", "nisi", "aliquip", "ex", "ea", "commodo"),
    *("consequat", "invoice", "meeting", "report", "budget", "release", "quarterly"),
]
_PEOPLE = [
    ("Alice Example", "alice@example.org"),
    ("Bob Builder", "bob@example.net"),
    ("Carol Çelik", "carol@example.com"),
    ("Dave", "dave@example.org"),
    ("Eve Ünal", "eve@example.com"),
]
_BASE_DATE = dt.datetime(2019, 1, 3, 9, 30, 0, tzinfo=dt.timezone.utc)


def _text(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n_words)]
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return "\n".join(lines) + "\n"


def make_messages(n: int = N_MESSAGES, seed: int = 20240611) -> list[bytes]:
    """*n* deterministic RFC 5322 messages (CRLF line ends), varied in shape:
    plain text, multipart/alternative, attachments (a few large), non-ASCII
    headers and 8-bit bodies, threads via References."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(1, n + 1):
        msg = EmailMessage(policy=email.policy.SMTP)
        name, addr = _PEOPLE[i % len(_PEOPLE)]
        to_name, to_addr = _PEOPLE[(i + 2) % len(_PEOPLE)]
        msg["From"] = f"{name} <{addr}>"
        msg["To"] = f"{to_name} <{to_addr}>"
        if i % 7 == 0:
            msg["Cc"] = "Team <team@example.org>"
        thread = i // 5
        if i == LONG_SUBJECT_SEQ:
            subject = "long " + " ".join(f"w{k:05d}" for k in range(2200))
        elif i % 9 == 0:
            subject = f"Grüße aus Köln {thread} №{i}"
        else:
            subject = f"thread {thread} {rng.choice(_WORDS)}"
        msg["Subject"] = subject if i % 5 == 0 else "Re: " + subject
        date = _BASE_DATE + dt.timedelta(hours=7 * i, minutes=rng.randrange(60))
        msg["Date"] = email.utils.format_datetime(date)
        msg["Message-ID"] = f"<msg{i}@imaplib-c.test>"
        if i % 5:
            root = f"<msg{thread * 5}@imaplib-c.test>" if thread else "<root@imaplib-c.test>"
            msg["In-Reply-To"] = root
            msg["References"] = root
        msg["X-Seq"] = str(i)
        body = _text(rng, rng.randrange(5, 400))
        if i % 11 == 0:
            body += "Ünïcödé 8-bit body — ü ö ä ß €\n"
            msg.set_content(body, cte="8bit")
        else:
            msg.set_content(body)
        if i % 4 == 0:
            msg.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
        if i % 13 == 0:
            size = 200_000 if i % 39 == 0 else rng.randrange(1_000, 20_000)
            blob = bytes(rng.getrandbits(8) for _ in range(size))
            msg.add_attachment(
                blob, maintype="application", subtype="octet-stream", filename=f"data{i}.bin"
            )
        for k, part in enumerate(msg.walk()):
            if part.is_multipart():
                part.set_boundary(f"=_part{k}_msg{i}_imaplib_c")
        out.append(msg.as_bytes())
    return out


def append_arguments(i: int) -> tuple[str | None, Any]:
    """(flags, date_time) for message number *i* (1-based), covering every
    form ``IMAP4.append`` accepts."""
    flags_cycle: list[str | None] = [
        None,
        r"(\Seen)",
        r"\Seen \Flagged",
        r"($Label1 \Answered)",
        "",
        r"(\Draft)",
        r"\Flagged",
    ]
    flags = flags_cycle[i % len(flags_cycle)]
    when = _BASE_DATE + dt.timedelta(days=i % 200, seconds=37 * i)
    kind = i % 8
    date_time: Any
    if kind == 0:
        date_time = None  # server's arrival time
    elif kind == 1:
        date_time = f'"{when.strftime("%d-%b-%Y %H:%M:%S +0000")}"'  # pre-quoted str
    elif kind == 2:
        date_time = time.localtime(when.timestamp())  # struct_time
    elif kind == 3:
        date_time = tuple(time.localtime(when.timestamp()))  # plain 9-tuple
    elif kind == 4:
        date_time = when.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    elif kind == 5:
        date_time = when.timestamp()  # float
    elif kind == 6:
        date_time = int(when.timestamp())  # int
    else:
        date_time = when  # aware UTC datetime
    return flags, date_time


# --------------------------------------------------------------------------
# Recording


def exception_label(exc: BaseException, module: ModuleType) -> str:
    """Name of *exc*'s class as seen from *module*: imaplib's own exception
    classes are named relative to the module, others by their full name."""
    cls = type(exc)
    ours = {
        getattr(getattr(module, "IMAP4", None), "readonly", None): "IMAP4.readonly",
        getattr(getattr(module, "IMAP4", None), "abort", None): "IMAP4.abort",
        getattr(getattr(module, "IMAP4", None), "error", None): "IMAP4.error",
    }
    if cls in ours:
        return ours[cls]
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_exception(exc: BaseException, module: ModuleType) -> dict[str, Any]:
    info: dict[str, Any] = {"raise": exception_label(exc, module), "args": exc.args}
    if isinstance(exc, ssl.SSLCertVerificationError):
        info["verify_code"] = exc.verify_code
        info["verify_message"] = exc.verify_message
    if isinstance(exc, ssl.SSLError):
        info["reason"] = exc.reason
        info["library"] = exc.library
    info["str"] = str(exc)
    return info


def describe_value(value: Any, module: ModuleType) -> Any:
    """Connection objects are recorded by class name, checked to be the
    module's own class."""
    imap4 = getattr(module, "IMAP4", None)
    if imap4 is not None and isinstance(value, imap4):
        cls = type(value)
        own = getattr(module, cls.__name__, None) is cls
        return f"<{cls.__name__} instance{'' if own else ' of a foreign class'}>"
    return value


@dataclass
class Recorder:
    """Collects ``(label, outcome)`` steps for one run."""

    module: ModuleType
    conn: Any = None
    steps: list[tuple[str, Any]] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        conn = self.conn
        if conn is None:
            return {}
        return {
            "state": getattr(conn, "state", None),
            "untagged": {k: list(v) for k, v in getattr(conn, "untagged_responses", {}).items()},
        }

    def note(self, label: str, value: Any) -> None:
        self.steps.append((label, value))

    def call(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` and record its result or exception.

        A call that does not return within the step bound (timebound.py)
        raises :class:`RealServerTimeout`, which is not recorded: it fails
        the test."""
        try:
            with bounded_step(label):
                result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - recording any failure is the point
            self.steps.append(
                (label, {"exc": describe_exception(exc, self.module), **self.snapshot()})
            )
            return None
        self.steps.append((label, {"ret": describe_value(result, self.module), **self.snapshot()}))
        return result

    def cmd(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call method *name* of the connection and record it."""
        shown = tuple("<callable>" if callable(a) else a for a in args)
        label = f"{name}{shown!r}" + (f"{kwargs!r}" if kwargs else "")
        return self.call(label, getattr(self.conn, name), *args, **kwargs)


# --------------------------------------------------------------------------
# Normalisation

_TIMING = re.compile(rb"\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)")
_UIDVALIDITY_TEXT = re.compile(rb"\b(?:UIDVALIDITY|APPENDUID|COPYUID) (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_RECENT_WINDOW = dt.timedelta(days=2)


def _collect_uidvalidities(obj: Any, found: set[bytes]) -> None:
    if isinstance(obj, (bytes, str)):
        data = obj.encode("utf-8", "surrogateescape") if isinstance(obj, str) else obj
        found.update(m.group(1) for m in _UIDVALIDITY_TEXT.finditer(data))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k == "UIDVALIDITY" and isinstance(v, list):
                found.update(x for x in v if isinstance(x, bytes) and x.isdigit())
            _collect_uidvalidities(v, found)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _collect_uidvalidities(x, found)


def _is_recent_internaldate(text: bytes) -> bool:
    try:
        when = dt.datetime.strptime(text.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return False
    return abs(dt.datetime.now(dt.timezone.utc) - when) < _RECENT_WINDOW


def normalise(obj: Any, user: User) -> Any:
    """Copy of *obj* with run-specific server values replaced by markers.

    Types are kept (bytes stay bytes, tuples stay tuples), so shape
    differences still show."""
    found: set[bytes] = set()
    _collect_uidvalidities(obj, found)
    uv = re.compile(rb"\b(" + b"|".join(sorted(found)) + rb")\b") if found else None
    secrets = ((user.password.encode(), b"<password>"), (user.name.encode(), b"<user>"))

    def fix_bytes(b: bytes) -> bytes:
        b = _TIMING.sub(b"(<t> secs)", b)
        if uv is not None:
            b = uv.sub(b"<UIDVALIDITY>", b)
        b = _INTERNALDATE.sub(
            lambda m: (
                b'INTERNALDATE "<now>"' if _is_recent_internaldate(m.group(1)) else m.group(0)
            ),
            b,
        )
        for secret, marker in secrets:
            b = b.replace(secret, marker)
        return b

    def walk(o: Any) -> Any:
        if type(o) is bytes:
            return fix_bytes(o)
        if type(o) is str:
            return fix_bytes(o.encode("utf-8", "surrogateescape")).decode(
                "utf-8", "surrogateescape"
            )
        if type(o) is list:
            return [walk(x) for x in o]
        if type(o) is tuple:
            return tuple(walk(x) for x in o)
        if type(o) is dict:
            return {walk(k): walk(v) for k, v in o.items()}
        if isinstance(o, (bytes, str, list, tuple, dict)):
            # A subclass where stdlib gives the exact type: keep it visible.
            return ("<subclass>", type(o).__qualname__, walk(type(o).__mro__[1](o)))
        return o

    return walk(obj)


def first_difference(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> str | None:
    """Human-readable description of the differing steps (the first in full,
    the labels of the others), or None when the runs are equal."""
    differing = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if not differing:
        if len(a) != len(b):
            return f"different number of steps: reference {len(a)}, target {len(b)}"
        return None
    i = differing[0]
    text = (
        f"{len(differing)} of {min(len(a), len(b))} steps differ; first, step {i}: {a[i][0]}\n"
        f"  reference: {_short(a[i][1])}\n"
        f"  target:    {_short(b[i][1])}"
    )
    others = [f"{j}: {a[j][0][:80]}" for j in differing[1:21]]
    if others:
        text += "\n  also differing: " + "; ".join(others)
    if len(a) != len(b):
        text += f"\n  and the number of steps differs: {len(a)} vs {len(b)}"
    return text


def _short(value: Any, limit: int = 3000) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


# --------------------------------------------------------------------------
# Connections

TRANSPORTS = ("plain", "starttls", "starttls-verify", "ssl", "ssl-verify", "stream")

# Every socket the real-server tests open has this timeout, so that a client
# waiting for a response that never comes raises instead of blocking.  The
# alarms of timebound.py (per recorded step, per test phase) are shorter and
# also cover IMAP4_stream's pipes, which have no timeout.
SOCKET_TIMEOUT = 60


def connect(module: ModuleType, server: Dovecot, user: User, transport: str, rec: Recorder) -> Any:
    """Open a connection with *transport*, log in, and record the steps."""
    host = server.host
    if transport in ("plain", "starttls", "starttls-verify"):
        conn = rec.call("IMAP4()", module.IMAP4, host, server.plain_port, timeout=SOCKET_TIMEOUT)
        rec.conn = conn
        if conn is None:
            return None
        rec.note("welcome", conn.welcome)
        rec.note("capabilities", conn.capabilities)
        rec.note("timeout", conn.sock.gettimeout())
        if transport != "plain":
            ctx = server.client_context() if transport == "starttls-verify" else None
            rec.call("starttls", conn.starttls, ssl_context=ctx)
            rec.note("tls", _tls_facts(conn.sock, verified=ctx is not None))
            rec.note("capabilities after starttls", conn.capabilities)
            rec.cmd("starttls")  # a second STARTTLS must be refused
    elif transport in ("ssl", "ssl-verify"):
        ctx = server.client_context() if transport == "ssl-verify" else None
        conn = rec.call(
            "IMAP4_SSL()",
            module.IMAP4_SSL,
            host,
            server.tls_port,
            ssl_context=ctx,
            timeout=SOCKET_TIMEOUT,
        )
        rec.conn = conn
        if conn is None:
            return None
        rec.note("welcome", conn.welcome)
        rec.note("capabilities", conn.capabilities)
        rec.note("tls", _tls_facts(conn.sock, verified=ctx is not None))
        rec.note("default context verifies", conn.ssl_context.verify_mode)
        rec.cmd("starttls")  # already TLS
    elif transport == "stream":
        conn = rec.call("IMAP4_stream()", module.IMAP4_stream, server.stream_command(user))
        rec.conn = conn
        if conn is None:
            return None
        rec.note("welcome", conn.welcome)
        rec.note("capabilities", conn.capabilities)
        rec.note("stream attrs", (conn.host, conn.port, conn.sock, conn.file))
        rec.cmd("starttls")
        return conn
    else:
        raise ValueError(transport)
    rec.cmd("login", user.name, user.password)
    rec.note("capabilities after login", conn.capabilities)
    return conn


def _tls_facts(sock: Any, *, verified: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "type": type(sock).__name__,
        "is ssl.SSLSocket": isinstance(sock, ssl.SSLSocket),
        "version": sock.version(),
    }
    if verified:
        facts["peercert subject"] = sock.getpeercert()["subject"]
    return facts


# --------------------------------------------------------------------------
# The workload


@dataclass
class RunResult:
    steps: list[tuple[str, Any]]
    messages: list[bytes]
    transport: str


def run_workload(module: ModuleType, server: Dovecot, user: User, transport: str) -> RunResult:
    """Run the whole workload with *module* as ``imaplib``; return the
    normalised steps."""
    messages = make_messages()
    rec = Recorder(module)
    saved_commands = dict(module.Commands)
    saved_maxline = module._MAXLINE
    timed_out = False
    try:
        conn = connect(module, server, user, transport, rec)
        if conn is not None:
            _session(rec, conn, module, messages)
        _maxline_phase(rec, module, server, user, transport)
    except RealServerTimeout:
        timed_out = True
        raise
    finally:
        module.Commands.clear()
        module.Commands.update(saved_commands)
        module._MAXLINE = saved_maxline  # type: ignore[attr-defined]
        close_quietly(rec.conn, timed_out=timed_out)
    return RunResult(normalise(rec.steps, user), messages, transport)


def _session(rec: Recorder, m: Any, module: ModuleType, messages: list[bytes]) -> None:
    cmd = rec.cmd
    cmd("capability")
    cmd("noop")
    cmd("namespace")
    cmd("xatom", "ID", '("name" "imaplib-c-tests" "version" "1")')
    rec.note("ID in Commands after xatom", "ID" in module.Commands)

    # ---- folders
    cmd("list")
    for name in ("Work", "Work/Sub", "Archive", "Temp", '"My Folder"', "&AMQ-rger"):
        cmd("create", name)
    cmd("create", "Work")  # exists -> NO
    cmd("create", "My Folder")  # unquoted space -> BAD -> error
    cmd("list", "", "*")
    cmd("list", "Work", "%")
    cmd("list", '""', "Work/*")
    cmd("rename", "Temp", "Temp2")
    cmd("rename", "Work", "Projects")
    cmd("rename", "Nope", "Nope2")
    cmd("delete", "Temp2")
    cmd("delete", "Temp2")
    cmd("subscribe", "Projects")
    cmd("subscribe", "Archive")
    cmd("lsub")
    cmd("lsub", '""', "*")
    cmd("unsubscribe", "Archive")
    cmd("lsub", '""', "*")
    cmd("list", '""', "*")

    # ---- append
    for i, msg in enumerate(messages, start=1):
        flags, date_time = append_arguments(i)
        mailbox = "INBOX" if i <= 300 else "Projects/Sub"
        rec.call(f"append#{i}", m.append, mailbox, flags, date_time, msg)
    naive = dt.datetime(2020, 2, 2, 12, 0, 0)
    rec.call("append naive datetime", m.append, "INBOX", None, naive, messages[0])
    rec.call("append bad date", m.append, "INBOX", None, "not a date", messages[0])
    rec.call("append missing mailbox", m.append, "Nope", None, None, messages[0])
    cmd("status", "INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
    cmd("status", "Projects/Sub", "(MESSAGES UIDNEXT UNSEEN)")
    cmd("status", "Nope", "(MESSAGES)")

    # ---- examine (read-only select)
    cmd("select", "Projects/Sub", readonly=True)
    cmd("response", "EXISTS")
    cmd("response", "READ-ONLY")
    cmd("fetch", "1:*", "(FLAGS UID)")
    cmd("store", "1", "+FLAGS", r"(\Seen)")
    cmd("close")

    # ---- select
    cmd("select")
    cmd("response", "FLAGS")
    cmd("response", "UIDVALIDITY")
    cmd("recent")
    cmd("response", "UIDNEXT")
    cmd("select", "Nope")

    # ---- search
    cmd("select", "INBOX")
    searches: list[tuple[Any, ...]] = [
        (None, "ALL"),
        (None, '(FROM "alice" SINCE 01-Feb-2019)'),
        (None, "UNSEEN", "FLAGGED"),
        (None, "OR", "SEEN", "ANSWERED"),
        (None, "LARGER", "50000"),
        (None, "HEADER", "X-Seq", "17"),
        (None, "SUBJECT", '"thread 3"'),
        (None, "BODY", "quarterly"),
        (None, "KEYWORD", "$Label1"),
        (None, "UID", "10:20"),
        (None, "NOT", "DELETED", "DRAFT"),
        (None, "SENTBEFORE", "01-Mar-2019"),
        (None, "BEFORE", "01-Mar-2019"),
        (None, "1:50", "UNANSWERED"),
        (None, "TO", "bob"),
        (None, "TEXT", "Köln".encode()),
        ("US-ASCII", "SUBJECT", "thread"),
        ("UTF-8", "SUBJECT", "Köln"),  # non-ASCII str: UnicodeEncodeError in stdlib
        ("UTF-8", b"SUBJECT", "Köln".encode()),
        ("ISO-8859-1", b"FROM", "Çelik".encode("latin-1")),
        ("X-UNKNOWN", "ALL"),
        (None, "BOGUS-KEY"),
    ]
    for args in searches:
        cmd("search", *args)
    m.literal = "Grüße".encode()
    cmd("search", "UTF-8", "SUBJECT")
    m.literal = None
    cmd("uid", "SEARCH", "ALL")
    cmd("uid", "search", None, "FLAGGED", "UNSEEN")

    # ---- sort / thread (advertised by Dovecot after login)
    caps = _live_capabilities(rec, m)
    if "SORT" in caps:
        cmd("sort", "(REVERSE DATE)", "UTF-8", "ALL")
        cmd("sort", "(SUBJECT FROM)", "UTF-8", "SINCE", "01-Jun-2019")
        cmd("sort", "(ARRIVAL)", "US-ASCII", "ALL")
        cmd("uid", "SORT", "(SIZE)", "UTF-8", "ALL")
        cmd("sort", "(NOPE)", "UTF-8", "ALL")
    if "THREAD=REFERENCES" in caps:
        cmd("thread", "REFERENCES", "UTF-8", "ALL")
        cmd("uid", "THREAD", "REFERENCES", "UTF-8", "ALL")
    if "THREAD=ORDEREDSUBJECT" in caps:
        cmd("thread", "ORDEREDSUBJECT", "UTF-8", "SINCE", "01-Jan-2019")

    # ---- fetch
    fetches: list[tuple[str, str]] = [
        ("1:*", "(FLAGS)"),
        ("1:*", "(UID RFC822.SIZE INTERNALDATE FLAGS)"),
        ("1:40", "(RFC822)"),
        ("41:80", "(BODY.PEEK[])"),
        ("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE MESSAGE-ID)])"),
        ("5", "(BODY[TEXT])"),
        ("1:20", "(BODY.PEEK[]<0.100>)"),
        ("1:20", "(BODY.PEEK[]<100.50> FLAGS)"),
        ("4,8,12,16", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[2])"),
        ("13,26,39,78", "(BINARY.PEEK[2] BINARY.SIZE[2])"),
        ("1:30", "(ENVELOPE BODYSTRUCTURE)"),
        ("31:60", "(BODY)"),
        ("1:*", "FAST"),
        ("1:10", "ALL"),
        ("1:10", "FULL"),
        ("2:3", "(RFC822.HEADER RFC822.TEXT)"),
        ("9999", "(FLAGS)"),
        ("1", "BOGUS"),
    ]
    for seq, items in fetches:
        cmd("fetch", seq, items)
    if "BINARY" in caps:
        cmd("fetch", "11", "(BINARY.PEEK[1])")
    # Internaldate2tuple / ParseFlags over real responses (dated appends only)
    _typ, data = m.fetch("2:6", "(INTERNALDATE FLAGS)")
    rec.note(
        "Internaldate2tuple",
        [
            tuple(module.Internaldate2tuple(x)) if module.Internaldate2tuple(x) else None
            for x in data
        ],
    )
    rec.note("ParseFlags", [module.ParseFlags(x) for x in data])
    cmd("uid", "FETCH", "1:*", "(FLAGS)")
    cmd("uid", "fetch", "290:*", "(BODY.PEEK[HEADER] RFC822.SIZE)")
    cmd("uid", "FETCH", "77", "(BODY.PEEK[])")

    # ---- store / uid store
    cmd("store", "1:5", "+FLAGS", r"\Deleted")
    cmd("store", "6", "-FLAGS", r"(\Seen)")
    cmd("store", "7:9", "+FLAGS.SILENT", "($Custom)")
    cmd("store", "10", "FLAGS", r"(\Answered $Label2)")
    cmd("store", "11:12", "BOGUS", r"(\Seen)")
    cmd("uid", "STORE", "20:30", "+FLAGS", r"(\Flagged)")
    cmd("uid", "STORE", "31", "FLAGS.SILENT", r"(\Seen)")
    cmd("uid", "STORE", "32:33", "-FLAGS", r"(\Flagged \Seen)")

    # ---- copy / uid copy / move
    cmd("copy", "1:10", "Projects")
    cmd("copy", "11", "Nope")
    cmd("uid", "COPY", "40:60", "Archive")
    cmd("uid", "MOVE", "61:62", "Archive")  # MOVE not in Commands (3.11) -> error
    module.Commands.setdefault("MOVE", ("SELECTED",))
    cmd("uid", "MOVE", "61:62", "Archive")
    cmd("uid", "BOGUS", "1")

    # ---- expunge / check
    cmd("check")
    cmd("expunge")
    cmd("response", "EXPUNGE")
    if "UIDPLUS" in caps:
        cmd("store", "1", "+FLAGS.SILENT", r"(\Deleted)")
        cmd("uid", "EXPUNGE", "1:20")
    cmd("noop")
    cmd("status", "Archive", "(MESSAGES UIDNEXT UIDVALIDITY)")

    # ---- quota, acl, misc
    if "QUOTA" in caps:
        cmd("getquotaroot", "INBOX")
        cmd("getquota", '"User quota"')
        cmd("setquota", '"User quota"', "(STORAGE 5)")
    cmd("getacl", "INBOX")
    cmd("myrights", "INBOX")
    cmd("getannotation", "INBOX", '"/comment"', '"value.shared"')
    cmd("partial", "1", "BODY[]", "0", "10")
    cmd("proxyauth", "nobody")
    cmd("unselect")
    cmd("fetch", "1", "(FLAGS)")  # no mailbox selected -> error

    # ---- ENABLE (AUTH state): CONDSTORE, then UTF8=ACCEPT switches the
    # module to UTF-8 arguments if the server says OK
    if "CONDSTORE" in caps:
        cmd("enable", "CONDSTORE")
    cmd("enable", "UTF8=ACCEPT")
    rec.note("utf8_enabled", m.utf8_enabled)
    rec.note("_encoding", getattr(m, "_encoding", None))
    cmd("create", "Ünïcödé")
    cmd("select", "Archive")
    if "CONDSTORE" in caps:
        cmd("response", "HIGHESTMODSEQ")
        cmd("fetch", "1:*", "(FLAGS MODSEQ)")
    cmd("store", "1", "+FLAGS", r"(\Seen)")
    cmd("search", None, "SUBJECT", "Köln")
    cmd("search", "UTF-8", "SUBJECT", '"Grüße"')
    if not _sends_literal8_append(m):
        rec.call("append utf8", m.append, "Archive", None, None, "Grüße\r\n\r\nbody\r\n".encode())

    # ---- bytes arguments, as imap_tools and getmail6 pass them
    cmd("select", b"Projects", True)
    cmd("search", None, b"ALL")
    cmd("fetch", b"1:3", b"(UID RFC822.SIZE)")
    cmd("close")
    cmd("close")  # not selected -> error

    # ---- logout
    cmd("logout")
    rec.note("state after logout", m.state)
    cmd("noop")


def _live_capabilities(rec: Recorder, m: Any) -> set[str]:
    """Capabilities after login (``IMAP4.capabilities`` keeps the
    pre-login ones).  Taken from the recorded CAPABILITY response."""
    for label, outcome in reversed(rec.steps):
        if label.startswith("capability") and "ret" in outcome:
            _typ, data = outcome["ret"]
            text = b" ".join(d for d in data if isinstance(d, bytes))
            return set(text.decode().upper().split())
    return set(getattr(m, "capabilities", ()))


def _maxline_phase(
    rec: Recorder, module: ModuleType, server: Dovecot, user: User, transport: str
) -> None:
    """A response line longer than the module global ``_MAXLINE`` fails the
    same way; the global is read at run time (imap_tools and many scripts
    assign it)."""
    for maxline in (500, module._MAXLINE):
        module._MAXLINE = maxline  # type: ignore[attr-defined]
        sub = Recorder(module)
        conn = connect(module, server, user, transport, sub)
        if conn is not None:
            sub.cmd("select", "INBOX", readonly=True)
            sub.cmd("search", None, "ALL")  # one line of ~1 KiB
            if "exc" in sub.steps[-1][1]:
                # The connection is out of step after a failed read: drop it.
                sub.call("shutdown", conn.shutdown)
            else:
                sub.cmd("logout")
        label = "small" if maxline == 500 else "default"
        rec.steps.extend((f"maxline {label}: {step}", v) for step, v in sub.steps)


def check_reference_sanity(result: RunResult) -> None:
    """Assertions on the stdlib run, so that the comparison is not vacuous."""
    steps = dict(result.steps)
    appended = [v for k, v in result.steps if k.startswith("append#")]
    assert len(appended) == N_MESSAGES
    assert all(v.get("ret", ("",))[0] == "OK" for v in appended), appended[:3]
    fetched = steps["fetch('1:40', '(RFC822)')"]["ret"]
    assert fetched[0] == "OK"
    bodies = [x[1] for x in fetched[1] if isinstance(x, tuple)]
    assert bodies == result.messages[:40]
    searched = steps["search(None, 'ALL')"]["ret"]
    assert searched[0] == "OK" and len(searched[1][0].split()) == 300
    if result.transport == "stream":
        return  # IMAP4_stream.readline() has no _MAXLINE check
    assert any(
        k.startswith("maxline small") and isinstance(v, dict) and "exc" in v
        for k, v in result.steps
    )


def messages_in(data: Iterable[Any]) -> list[bytes]:
    return [x[1] for x in data if isinstance(x, tuple)]


def _sends_literal8_append(m: Any) -> bool:
    """Does this CPython's imaplib frame a UTF8 APPEND as ``UTF8 (~{n}`` (3.14,
    late 3.13.x)?  Dovecot 2.4 never answers that literal8 form with a
    continuation, so imaplib itself waits forever; the step is left out where
    the interpreter's imaplib sends it (stdlib and imaplib_c alike)."""
    import inspect
    import types

    # The interpreter's own _command: the first in the MRO written in Python
    # (imaplib_c's engine restates it in C and hands UTF-8 literals to it).
    for cls in type(m).__mro__:
        func = vars(cls).get("_command")
        func = getattr(func, "__wrapped__", func)
        if isinstance(func, types.FunctionType) and func.__module__ == "imaplib":
            try:
                return "UTF8 (~{" in inspect.getsource(func)
            except (OSError, TypeError):
                return False
    return False
