"""``python -m imaplib_c backup`` / ``restore`` against the private Dovecot:
exact copies (bytes, flags, INTERNALDATE), incremental runs that send no FETCH,
resuming after SIGKILL without duplicates, UIDVALIDITY changes, mbox, restore
round trips, passwords and certificate checks.  Every subprocess has a timeout
and every test the folder's time bound (timebound.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from imaplib_c import _backup
from imaplib_c._backup_store import State, read_messages
from testsupport.dovecot import Dovecot, User

from .workload import SOCKET_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 60


@pytest.fixture(autouse=True)
def _needs_engine(target_module: ModuleType) -> None:
    if not hasattr(target_module.IMAP4, "fetch_stream"):
        pytest.skip("backup needs imaplib_c's fetch_stream")


def _messages(n: int, tag: str = "m") -> list[bytes]:
    # 'From ' lines exercise mbox quoting; sizes vary.
    return [
        b"Subject: %s %d\r\nFrom: a@example.org\r\n\r\nFrom here\r\n>From there\r\n" % (
            tag.encode(), i) + b"line %d\r\n" % i * (i % 17 + 1)
        for i in range(n)
    ]


def _session(dovecot: Dovecot, user: User) -> Any:
    import imaplib_c

    conn = imaplib_c.IMAP4(dovecot.host, dovecot.plain_port, timeout=SOCKET_TIMEOUT)
    conn.starttls(ssl_context=dovecot.client_context())
    conn.login(user.name, user.password)
    return conn


def _vary_flags(conn: Any, mailbox: str = "INBOX") -> None:
    conn.select(mailbox)
    conn.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    data = conn.uid("SEARCH", "ALL")[1]
    uids = data[0].split()
    for i, uid in enumerate(uids):
        flags = [f for f, k in (("\\Seen", 2), ("\\Flagged", 3), ("\\Answered", 5)) if i % k == 0]
        if flags:
            conn.uid("STORE", uid, "+FLAGS", "(" + " ".join(flags) + ")")
    conn.close()


# Keywords Dovecot 2.4 sets by itself once it has parsed a message (attachment
# detection): a restored copy gets them from the server, not from the backup.
SERVER_KEYWORDS = frozenset({"$HasAttachment", "$HasNoAttachment"})


def _flags(flags: list[str]) -> list[str]:
    return sorted(f for f in flags if f not in SERVER_KEYWORDS)


def _server_view(conn: Any, mailbox: str = "INBOX") -> dict[int, tuple]:
    """uid -> (flags, INTERNALDATE, bytes) as the server has them."""
    conn.select(_backup.quote(mailbox), readonly=True)
    data = conn.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")[1]
    conn.close()
    out = {}
    for m in _backup.messages_of(data):
        out[m.uid] = (_flags(m.flags), m.internaldate, m.data)
    return out


def _backup_view(dest: Path, mailbox: str = "INBOX") -> dict[int, tuple]:
    state = State.load(dest)
    out: dict[int, tuple] = {}
    for m in read_messages(state, state.mailboxes[mailbox]):
        assert m.uid not in out, f"duplicate UID {m.uid}"
        out[m.uid] = (_flags(m.flags), m.internaldate, m.data)
    return out


def _cli(
    dovecot: Dovecot, user: User, *args: str, password: str | None = None, env_extra: dict | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), IMAP_PASSWORD=password or user.password)
    env.update(env_extra or {})
    argv = [sys.executable, "-m", "imaplib_c", args[0], "--host", dovecot.host,
            "--user", user.name, *args[1:]]
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )


def _tls(dovecot: Dovecot) -> list[str]:
    return ["--port", str(dovecot.tls_port), "--cafile", str(dovecot.cert_file)]


class _Recorder:
    """The command lines a session sends (its own send(), wrapped)."""

    def __init__(self, conn: Any) -> None:
        self.lines: list[bytes] = []
        real = conn.send
        conn.send = lambda data: (self.lines.append(bytes(data)), real(data))[1]

    def verbs(self) -> list[str]:
        return [line.split()[1].decode() for line in self.lines if b" " in line]


def test_full_backup_then_incremental(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user(messages=_messages(150))
    conn = _session(dovecot, user)
    _vary_flags(conn)
    conn.create('"Archive/&AOk-t&AOk-"')
    conn.append('"Archive/&AOk-t&AOk-"', "(\\Draft)", None, _messages(1, "x")[0])
    dest = tmp_path / "bk"

    first = _backup.backup(conn, dest)
    assert (first.messages, first.mailboxes) == (151, 2)
    assert first.fetch_commands == 3  # INBOX: 2 batches of <= 100; Archive: 1
    assert _backup_view(dest) == _server_view(conn)
    assert _backup_view(dest, "Archive/&AOk-t&AOk-") == _server_view(conn, "Archive/&AOk-t&AOk-")
    names = sorted(p.name for p in (dest / "INBOX" / "cur").iterdir())
    assert len(names) == 150 and all(":2," in n for n in names)
    assert (dest / "Archive" / "été" / "cur").is_dir()  # decoded, nested
    some = next(p for p in (dest / "INBOX" / "cur").iterdir() if p.name.endswith(":2,FRS"))
    assert some  # \Flagged \Answered \Seen -> FRS

    rec = _Recorder(conn)
    second = _backup.backup(conn, dest)
    assert (second.messages, second.bytes, second.fetch_commands) == (0, 0, 0)
    assert rec.verbs() == ["LIST", "EXAMINE", "EXAMINE", "CLOSE"]  # no SEARCH, no FETCH

    conn.append("INBOX", "(\\Flagged)", None, b"Subject: new\r\n\r\nnew\r\n")
    conn.append("INBOX", None, None, b"Subject: new2\r\n\r\nnew2\r\n")
    rec.lines.clear()
    third = _backup.backup(conn, dest)
    assert (third.messages, third.fetch_commands) == (2, 1)
    assert sum(line.count(b"FETCH") for line in rec.lines) == 1
    assert _backup_view(dest) == _server_view(conn)
    conn.logout()


@pytest.mark.parametrize("fmt", ["maildir", "mbox"])
def test_sigkill_half_way_resumes_exactly(dovecot: Dovecot, tmp_path: Path, fmt: str) -> None:
    user = dovecot.add_user(messages=_messages(300))
    dest = tmp_path / "bk"
    env = dict(os.environ, PYTHONPATH=str(ROOT), IMAP_PASSWORD=user.password)
    env[_backup.PAUSE_ENV] = "250"  # the test-only hook: pause after 250 messages
    argv = [sys.executable, "-m", "imaplib_c", "backup", "--host", dovecot.host, *_tls(dovecot),
            "--user", user.name, "--dest", str(dest), "--format", fmt]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "backup: paused\n"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=CLI_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    if fmt == "mbox":  # a torn write at the tail, too
        with open(dest / "INBOX.mbox", "ab") as f:
            f.write(b"From imaplib_c@backup Thu Jan  1 00:00:00 1970\nSubject: torn")
    assert len(State.load(dest).mailboxes["INBOX"].uids) == 200  # the last checkpoint

    done = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", str(dest), "--format", fmt)
    assert done.returncode == 0, done.stderr
    # Maildir finds the 250 files again; mbox cuts back to the checkpoint.
    refetched = 50 if fmt == "maildir" else 100
    assert f"1 mailboxes, {refetched} messages" in done.stderr
    conn = _session(dovecot, user)
    assert _backup_view(dest) == _server_view(conn)
    conn.logout()


def test_uidvalidity_change_moves_the_old_copy_aside(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.new_user()
    conn = _session(dovecot, user)
    conn.create("Work")
    conn.append_many("Work", _messages(5, "old"))
    dest = tmp_path / "bk"
    _backup.backup(conn, dest, mailboxes=["Work"])
    old = State.load(dest).mailboxes["Work"].uidvalidity
    conn.delete("Work")
    conn.create("Work")  # Dovecot gives the new mailbox a new UIDVALIDITY
    conn.append_many("Work", _messages(3, "new"))
    stats = _backup.backup(conn, dest, mailboxes=["Work"])
    assert stats.messages == 3
    state = State.load(dest)
    assert state.mailboxes["Work"].uidvalidity != old
    assert _backup_view(dest, "Work") == _server_view(conn, "Work")
    assert len(list((dest / f".uidvalidity-{old}" / "Work" / "cur").iterdir())) == 5
    conn.logout()


@pytest.mark.parametrize("fmt", ["maildir", "mbox"])
def test_restore_round_trip(dovecot: Dovecot, tmp_path: Path, fmt: str) -> None:
    """backup -> restore into a new user -> backup again: the same messages,
    flags and INTERNALDATEs (and, appended in order, the same UIDs)."""
    src = dovecot.add_user(messages=_messages(40))
    conn = _session(dovecot, src)
    _vary_flags(conn)
    conn.create('"Archive/&AOk-t&AOk-"')
    conn.append_many('"Archive/&AOk-t&AOk-"', _messages(3, "arch"), "(\\Flagged)")
    conn.logout()
    first, second = tmp_path / "one", tmp_path / "two"
    done = _cli(dovecot, src, "backup", *_tls(dovecot), "--dest", str(first), "--format", fmt)
    assert done.returncode == 0, done.stderr
    dst = dovecot.new_user()
    done = _cli(dovecot, dst, "restore", *_tls(dovecot), "--source", str(first))
    assert done.returncode == 0, done.stderr
    assert "restore: 2 mailboxes, 43 messages" in done.stderr
    done = _cli(dovecot, dst, "backup", *_tls(dovecot), "--dest", str(second), "--format", fmt)
    assert done.returncode == 0, done.stderr
    for name in ("INBOX", "Archive/&AOk-t&AOk-"):
        assert _backup_view(second, name) == _backup_view(first, name)
    assert len(_backup_view(second)) == 40


def test_mbox_matches_the_server(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user(messages=_messages(60))
    conn = _session(dovecot, user)
    _vary_flags(conn)
    dest = tmp_path / "bk"
    _backup.backup(conn, dest, fmt="mbox")
    assert _backup_view(dest) == _server_view(conn)
    text = (dest / "INBOX.mbox").read_bytes()
    assert text.count(b"\n>From here\r\n") == 60 and text.count(b"\n>>From there") == 60
    assert _backup.backup(conn, dest, fmt="mbox").fetch_commands == 0
    conn.logout()


def test_password_sources(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user(messages=_messages(3))
    dest = str(tmp_path / "bk")
    pwfile = tmp_path / "pw"
    pwfile.write_text(user.password + "\n")
    ok = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", dest,
              "--password-file", str(pwfile), password="wrong")
    assert ok.returncode == 0, ok.stderr
    ok = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", dest, "--password-env", "MYPW",
              password="wrong", env_extra={"MYPW": user.password})
    assert ok.returncode == 0 and "0 messages" in ok.stderr, ok.stderr
    bad = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", dest, password="wrong-pw-xyz")
    assert bad.returncode == 1
    assert "login failed for" in bad.stderr and "Traceback" not in bad.stderr
    assert "wrong-pw-xyz" not in bad.stderr + bad.stdout
    quiet = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", dest, "--quiet")
    assert (quiet.returncode, quiet.stderr, quiet.stdout) == (0, "", "")


def test_certificate_checks(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user(messages=_messages(2))
    dest = str(tmp_path / "bk")
    port = ["--port", str(dovecot.tls_port)]
    bad = _cli(dovecot, user, "backup", *port, "--dest", dest)  # self-signed, not trusted
    assert bad.returncode == 1 and "certificate verification failed" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "bk").exists()
    ok = _cli(dovecot, user, "backup", *port, "--insecure", "--dest", dest)
    assert ok.returncode == 0 and "WARNING: --insecure" in ok.stderr, ok.stderr
    starttls = _cli(dovecot, user, "backup", "--starttls", "--port", str(dovecot.plain_port),
                    "--cafile", str(dovecot.cert_file), "--dest", dest)
    assert starttls.returncode == 0 and "0 messages" in starttls.stderr, starttls.stderr
    plain = _cli(dovecot, user, "backup", "--plain", "--port", str(dovecot.plain_port),
                 "--dest", dest)
    assert plain.returncode in (0, 1)  # Dovecot may refuse LOGIN without TLS
    assert "Traceback" not in plain.stderr


def test_unknown_mailbox_and_a_failing_one(dovecot: Dovecot, tmp_path: Path) -> None:
    user = dovecot.add_user(messages=_messages(2))
    dest = str(tmp_path / "bk")
    bad = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", dest, "--mailbox", "Nope")
    assert bad.returncode == 1 and "no mailbox 'Nope' on the server" in bad.stderr
    conn = _session(dovecot, user)
    real = conn.select

    def select(mailbox: str = "INBOX", readonly: bool = False) -> Any:
        if mailbox == '"INBOX"':
            return "NO", [b"[SERVERBUG] refused for the test"]
        return real(mailbox, readonly)

    conn.create("Other")
    conn.append_many("Other", _messages(3, "o"))
    conn.select = select
    with pytest.raises(_backup.BackupError, match="1 mailbox.*EXAMINE INBOX: NO"):
        _backup.backup(conn, dest)
    assert len(_backup_view(Path(dest), "Other")) == 3  # the other one was backed up
    conn.logout()


def test_compressed_backup_is_the_same_copy(dovecot: Dovecot, tmp_path: Path) -> None:
    if "compress" not in dovecot.features:
        pytest.skip("this Dovecot does not offer COMPRESS")
    user = dovecot.add_user(messages=_messages(60))
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    for dest, mode in ((plain, "no"), (packed, "yes")):
        r = _cli(dovecot, user, "backup", *_tls(dovecot), "--dest", str(dest), "--compress", mode)
        assert r.returncode == 0, r.stderr
        assert ("COMPRESS=DEFLATE:" in r.stderr) is (mode == "yes"), r.stderr
    assert _backup_view(packed) == _backup_view(plain)
    conn = _session(dovecot, user)
    assert _backup_view(packed) == _server_view(conn)
    conn.logout()
