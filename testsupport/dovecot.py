"""A private Dovecot IMAP server on 127.0.0.1, for the real-server tests
(``tests/realserver``) and the benchmarks' Dovecot rows (``bench/run.py``).

Everything lives in one temporary directory: configuration, ``base_dir``,
``state_dir``, logs, the self-signed certificate (made with the ``openssl``
command) and the users' maildirs.  Ports are picked at run time.  Nothing
outside that directory is touched, and :meth:`Dovecot.stop` ends every process
this module started.

Supported: Debian's Dovecot 2.3 (bookworm) and 2.4 (trixie) configuration
syntax, running as root (CI) or as an ordinary user.

The server offers

* a plain port (``plain_port``), with STARTTLS when ``tls`` is on (the default),
* with ``tls``, an implicit-TLS port (``tls_port``); ``tls=False`` (the
  benchmarks) gives ``ssl = no`` and no TLS port, because with TLS Dovecot
  keeps ``imap-login`` as a proxy in front of the ``imap`` process and the
  server's CPU time is split over two processes,
* passwd-file users: :meth:`Dovecot.new_user` hands out a fresh one with an
  empty maildir (so two runs of the same workload see identical mailboxes),
  from a pool made before the start; :meth:`Dovecot.add_user` makes one with
  a given name, password and messages, written directly as maildir files (far
  faster than APPEND; UIDs are 1..N in the order given),
* ``AUTH=PLAIN`` and ``AUTH=LOGIN`` (plaintext passwords),
* the optional features asked for (``features``, default all) that the
  installed Dovecot accepts: ``cram-md5`` (``AUTH=CRAM-MD5``), ``quota``
  (``GETQUOTAROOT``), ``no-auth-delay`` (no delay or penalty after a failed
  login), ``compress`` (COMPRESS=DEFLATE: the imap_zlib plugin in 2.3, built
  into 2.4, where it is on in any case); ``Dovecot.features`` says which are on,
* :meth:`Dovecot.stream_command`, a shell command line for
  ``imaplib.IMAP4_stream`` that runs Dovecot's ``imap`` binary
  preauthenticated as a given user,
* ``cpus``: the CPUs its processes run on (the benchmarks pin the server).

Manual use: ``python -m testsupport.dovecot`` from the repository root.
"""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from testsupport.loopback import HOST, free_port, make_cert

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "OPTIONAL_FEATURES",
    "Dovecot",
    "DovecotError",
    "DovecotUnavailable",
    "User",
    "dovecot_version",
    "find_dovecot",
    "missing_requirements",
]

# Name in the certificate besides IP:127.0.0.1.  Deliberately *not*
# "localhost", so that connecting to "localhost" gives a hostname mismatch.
CERT_DNS_NAME = "imaplib-c.test"

_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
_START_TIMEOUT = 30.0


class DovecotUnavailable(RuntimeError):
    """Dovecot (or another tool the fixture needs) is not installed."""


class DovecotError(RuntimeError):
    """The private Dovecot instance could not be configured or started."""


def _search_path() -> str:
    parts = os.environ.get("PATH", "").split(os.pathsep)
    parts += [d for d in _SBIN_DIRS if d not in parts]
    return os.pathsep.join(p for p in parts if p)


def _which(name: str) -> str | None:
    return shutil.which(name, path=_search_path())


def find_dovecot() -> str | None:
    """Path of the ``dovecot`` master binary, or ``None``."""
    return _which("dovecot")


def dovecot_version(binary: str | None = None) -> tuple[int, ...]:
    """Version of the installed Dovecot, e.g. ``(2, 3, 19, 1)``."""
    binary = binary or find_dovecot()
    if binary is None:
        raise DovecotUnavailable("dovecot is not installed")
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.match(r"\s*(\d+(?:\.\d+)*)", out)
    if match is None:
        raise DovecotError(f"cannot parse `dovecot --version` output: {out!r}")
    return tuple(int(p) for p in match.group(1).split("."))


def missing_requirements(tls: bool = True) -> list[str]:
    """Names of the programs a :class:`Dovecot` (with or without ``tls``)
    needs that are not installed."""
    names = ("dovecot", "doveconf", "doveadm") + (("openssl",) if tls else ())
    return [name for name in names if not _which(name)]


def _temp_parent() -> str:
    """Where to make the server's directory: the usual temporary directory if
    its path is short (Unix socket paths are limited to ~107 bytes) and every
    user can traverse it (Dovecot's own users must reach the sockets and
    maildirs), else /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    ok = len(str(base)) <= 40
    for d in (base, *base.parents):
        try:
            ok = ok and bool(d.stat().st_mode & 0o001)
        except OSError:
            ok = False
    return str(base) if ok or not Path("/tmp").is_dir() else "/tmp"


@dataclass(frozen=True)
class User:
    """A mail account on the private server."""

    name: str
    password: str
    home: Path


# Optional parts of the configuration; Dovecot.features says which are on.
OPTIONAL_FEATURES = ("quota", "cram-md5", "no-auth-delay", "compress")


class Dovecot:
    """One private Dovecot instance.  Use as a context manager or call
    :meth:`start` / :meth:`stop`.  Users can be added before the start."""

    host = HOST

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        keep: bool = False,
        pool_size: int = 200,
        tls: bool = True,
        features: Iterable[str] = OPTIONAL_FEATURES,
        cpus: set[int] | None = None,
    ) -> None:
        wanted = set(features)
        if not wanted <= set(OPTIONAL_FEATURES):
            raise ValueError(f"unknown features: {sorted(wanted - set(OPTIONAL_FEATURES))}")
        missing = missing_requirements(tls)
        if missing:
            raise DovecotUnavailable("not installed: " + ", ".join(missing))
        self.binary = find_dovecot() or "dovecot"
        self.doveconf = _which("doveconf") or "doveconf"
        self.doveadm = _which("doveadm") or "doveadm"
        self.openssl = _which("openssl") or "openssl"
        self.version = dovecot_version(self.binary)
        self.tls = tls
        self.wanted = tuple(f for f in OPTIONAL_FEATURES if f in wanted)
        self.cpus = cpus
        self.keep = keep
        self._own_root = root is None
        self.root = (
            Path(root)
            if root is not None
            else Path(tempfile.mkdtemp(prefix="imaplib-c-dovecot-", dir=_temp_parent()))
        )
        self.conf = self.root / "dovecot.conf"
        self.passwd = self.root / "passwd"
        self.cert_file = self.root / "cert.pem"
        self.key_file = self.root / "key.pem"
        self.log_file = self.root / "dovecot.log"
        self.base_dir = self.root / "run"
        self.state_dir = self.root / "state"
        self.homes = self.root / "home"
        self.plain_port = 0
        self.tls_port = 0
        self.features: frozenset[str] = frozenset()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._passwd_mtime = 0
        self._pool: list[User] = []
        self.pool_size = pool_size
        self.is_root = os.geteuid() == 0
        if self.is_root:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
        self.root.chmod(0o755)  # the dovecot/dovenull/nobody users must traverse it
        for d in (self.base_dir, self.state_dir, self.homes):
            d.mkdir(parents=True, exist_ok=True)
        self.homes.chmod(0o755)
        self.passwd.write_text("")
        self.passwd.chmod(0o644)

    # ------------------------------------------------------------------ setup

    @property
    def is_24(self) -> bool:
        return self.version >= (2, 4)

    def _render(self, features: frozenset[str]) -> str:
        mechanisms = "plain login" + (" cram-md5" if "cram-md5" in features else "")
        lines: list[str] = []
        anvil: list[str] = []
        add = lines.append
        if self.is_24:
            add("dovecot_config_version = 2.4.0")
            add("dovecot_storage_version = 2.4.0")
        add(f"base_dir = {self.base_dir}")
        add(f"state_dir = {self.state_dir}")
        add(f"log_path = {self.log_file}")
        add(f"info_log_path = {self.log_file}")
        add("auth_verbose = yes")
        add("protocols = imap")
        add(f"listen = {HOST}")
        add("ssl = yes" if self.tls else "ssl = no")
        if self.is_24:
            if self.tls:
                add(f"ssl_server_cert_file = {self.cert_file}")
                add(f"ssl_server_key_file = {self.key_file}")
            add("auth_allow_cleartext = yes")
            add("auth_allow_weak_schemes = yes")
        else:
            if self.tls:
                add(f"ssl_cert = <{self.cert_file}")
                add(f"ssl_key = <{self.key_file}")
            add("disable_plaintext_auth = no")
        add(f"auth_mechanisms = {mechanisms}")

        add(f"first_valid_uid = {min(self.mail_uid, 500) or 1}")
        add(f"first_valid_gid = {min(self.mail_gid, 500) or 1}")
        if not self.is_root:
            me = pwd.getpwuid(os.getuid()).pw_name
            add(f"default_internal_user = {me}")
            add(f"default_login_user = {me}")
            with contextlib.suppress(KeyError):
                add(f"default_internal_group = {grp.getgrgid(os.getgid()).gr_name}")
        if self.is_24:
            add(f"passdb passwd-file {{\n  passwd_file_path = {self.passwd}\n}}")
            add(f"userdb passwd-file {{\n  passwd_file_path = {self.passwd}\n}}")
            add("mail_driver = maildir")
            add("mail_path = ~/Mail")
        else:
            add(f"passdb {{\n  driver = passwd-file\n  args = {self.passwd}\n}}")
            add(f"userdb {{\n  driver = passwd-file\n  args = {self.passwd}\n}}")
            add("mail_location = maildir:~/Mail")
        add("mail_fsync = never")  # a throw-away server: no fsync per saved message
        add("namespace inbox {\n  inbox = yes\n  separator = /\n}")
        if "no-auth-delay" in features:
            # No delay after a failed login, and no growing per-IP penalty:
            # the auth process cannot use a mode-0 penalty socket.
            add("auth_failure_delay = 0")
            anvil.append("  unix_listener anvil-auth-penalty {\n    mode = 0\n  }")
        # One `protocol imap` block: a second one's $mail_plugins would not
        # see the first's plugins.
        imap_plugins: list[str] = []
        if "quota" in features:
            imap_plugins.append("imap_quota")
            if self.is_24:
                add("mail_plugins {\n  quota = yes\n}")
                add('quota "User quota" {\n  driver = count\n  storage_size = 1G\n}')
            else:
                add("mail_plugins = $mail_plugins quota")
                add(
                    "plugin {\n  quota = count:User quota\n  quota_vsizes = yes\n"
                    "  quota_rule = *:storage=1G\n}"
                )
        if "compress" in features and not self.is_24:
            # COMPRESS=DEFLATE (RFC 4978): a plugin in 2.3, built into 2.4's imap.
            imap_plugins.append("imap_zlib")
        if imap_plugins and self.is_24:
            on = "".join(f"    {name} = yes\n" for name in imap_plugins)
            add("protocol imap {\n  mail_plugins {\n" + on + "  }\n}")
        elif imap_plugins:
            add("protocol imap {\n  mail_plugins = $mail_plugins " + " ".join(imap_plugins) + "\n}")
        if not self.is_root:
            anvil.append("  chroot =")
        if anvil:
            add("service anvil {\n" + "\n".join(anvil) + "\n}")
        chroot = "" if self.is_root else "  chroot =\n"
        imaps = f"port = {self.tls_port}\n    ssl = yes" if self.tls else "port = 0"
        add(
            "service imap-login {\n"
            f"  inet_listener imap {{\n    port = {self.plain_port}\n  }}\n"
            f"  inet_listener imaps {{\n    {imaps}\n  }}\n"
            f"{chroot}}}"
        )
        return "\n".join(lines) + "\n"

    def _check_config(self) -> str | None:
        res = subprocess.run(
            [self.doveconf, "-c", str(self.conf), "-n"],
            check=False, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if res.returncode != 0:
            return (res.stderr or res.stdout).strip()
        return None

    def _configure(self) -> None:
        self.plain_port = free_port()
        self.tls_port = free_port() if self.tls else 0
        while self.tls and self.tls_port == self.plain_port:
            self.tls_port = free_port()
        errors: list[str] = []
        # Try every subset of the optional features, largest first, so that a
        # Dovecot build or version that rejects one of them still runs.
        for size in range(len(self.wanted), -1, -1):
            for subset in itertools.combinations(self.wanted, size):
                features = frozenset(subset)
                self.conf.write_text(self._render(features))
                err = self._check_config()
                if err is None:
                    self.features = features
                    return
                errors.append(f"{sorted(features)}: {err}")
        raise DovecotError("no Dovecot configuration was accepted:\n" + "\n".join(errors))

    def start(self) -> Self:
        """Write the configuration and start the server; returns ``self``."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        with self._lock:
            self._pool = [self._make_user() for _ in range(self.pool_size)]
            self._publish(self._pool)
        if self.tls:
            self.cert_file, self.key_file = make_cert(
                self.root, CERT_DNS_NAME, openssl=self.openssl
            )
        last_error: Exception | None = None
        for _attempt in range(3):  # a port picked at random may get taken meanwhile
            self._configure()
            try:
                self._launch()
                return
            except DovecotError as exc:
                last_error = exc
                self._terminate()
        assert last_error is not None
        raise last_error

    def _launch(self) -> None:
        stderr_path = self.root / "master.stderr"
        with open(stderr_path, "wb") as stderr:
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                start_new_session=True,
            )  # fmt: skip
        if self.cpus:
            with contextlib.suppress(OSError):  # its children inherit it
                os.sched_setaffinity(self._proc.pid, self.cpus)
        deadline = time.monotonic() + _START_TIMEOUT
        pending = {self.plain_port: False}
        if self.tls:
            pending[self.tls_port] = True
        while pending:
            if self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with status {self._proc.returncode}\n{self.diagnostics()}"
                )
            if time.monotonic() > deadline:
                raise DovecotError(f"dovecot did not come up in time\n{self.diagnostics()}")
            for port, tls in list(pending.items()):
                if self._greeting(port, tls):
                    del pending[port]
            if pending:
                time.sleep(0.05)

    def _greeting(self, port: int, tls: bool) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=5) as raw:
                sock: socket.socket = raw
                if tls:
                    ctx = ssl.create_default_context(cafile=str(self.cert_file))
                    sock = ctx.wrap_socket(raw, server_hostname=HOST)
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = sock.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
                return data.startswith(b"* OK")
        except (OSError, ssl.SSLError):
            return False

    def diagnostics(self) -> str:
        """Tail of the master's stderr and the log, for error messages."""
        parts = []
        for path in (self.root / "master.stderr", self.log_file):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace")
                parts.append(f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(parts)

    # ------------------------------------------------------------------ users

    def new_user(self) -> User:
        """Return a fresh passwd-file user with an empty maildir.

        Users come from a pool written before the server starts (Dovecot
        re-checks the passwd file at most once a second, so users appended
        while it runs are not visible at once).  When the pool is used up,
        a user is appended and this call waits until Dovecot can see it.
        """
        with self._lock:
            if self._pool:
                return self._pool.pop(0)
            user = self._make_user()
            self._publish([user])
        return user

    def add_user(
        self,
        name: str | None = None,
        password: str | None = None,
        messages: Iterable[bytes] | None = None,
    ) -> User:
        """Add a passwd-file user (name and password made up when not given).

        ``messages`` (CRLF line ends) are written into its maildir as files,
        in order: their UIDs are 1..N.  Added while the server runs, the user
        is visible once this call returns (about a second later).
        """
        with self._lock:
            user = self._make_user(name, password, messages)
            self._publish([user])
        return user

    def _make_user(
        self,
        name: str | None = None,
        password: str | None = None,
        messages: Iterable[bytes] | None = None,
    ) -> User:
        name = name or f"user{next(self._counter):04d}"
        password = password or "pw" + secrets.token_hex(8)
        home = self.homes / name
        home.mkdir()
        if messages is not None:
            self._write_maildir(home / "Mail", messages)
        if self.is_root:
            os.chown(home, self.mail_uid, self.mail_gid)
        home.chmod(0o700)
        return User(name, password, home)

    def _write_maildir(self, maildir: Path, messages: Iterable[bytes]) -> None:
        """One file per message, with LF line ends (Dovecot sends CRLF), in
        ``cur/`` and seen; the names sort in message order."""
        dirs = [maildir, maildir / "cur", maildir / "new", maildir / "tmp"]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        for i, crlf in enumerate(messages, 1):
            data = crlf.replace(b"\r\n", b"\n")
            name = f"{1_500_000_000 + i}.M{i}P1.imaplib-c,S={len(data)},W={len(crlf)}:2,S"
            fd = os.open(dirs[1] / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                if self.is_root:
                    os.fchown(fd, self.mail_uid, self.mail_gid)
            finally:
                os.close(fd)
        if self.is_root:
            for d in dirs:
                os.chown(d, self.mail_uid, self.mail_gid)

    def _publish(self, users: list[User]) -> None:
        """Append ``users`` to the passwd file; if the server runs, wait until
        it can see them."""
        with open(self.passwd, "a") as f:
            for u in users:
                f.write(
                    f"{u.name}:{{PLAIN}}{u.password}:{self.mail_uid}:{self.mail_gid}::{u.home}::\n"
                )
        # Dovecot re-reads the file when its mtime (in whole seconds) or size
        # changes; give every version its own second.
        self._passwd_mtime = max(int(time.time()), self._passwd_mtime + 1)
        os.utime(self.passwd, (self._passwd_mtime, self._passwd_mtime))
        if self._proc is not None:
            time.sleep(1.1)  # past Dovecot's once-a-second re-check

    def stream_command(self, user: User) -> str:
        """Shell command for ``IMAP4_stream``: a preauthenticated IMAP session
        of *user* over stdin/stdout."""
        if self.is_root:
            argv = [self.doveadm, "-c", str(self.conf), "exec", "imap", "-u", user.name]
            return " ".join(shlex.quote(a) for a in argv) + " 2>/dev/null"
        env = {"USER": user.name, "HOME": str(user.home), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
        argv += [self.doveadm, "-c", str(self.conf), "exec", "imap"]
        return " ".join(shlex.quote(a) for a in argv) + " 2>/dev/null"

    # ------------------------------------------------------------------ TLS

    def client_context(self, *, check_hostname: bool = True) -> ssl.SSLContext:
        """A verifying client context that trusts this server's certificate."""
        ctx = ssl.create_default_context(cafile=str(self.cert_file))
        ctx.check_hostname = check_hostname
        return ctx

    # ------------------------------------------------------------------ teardown

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                # The master runs in its own session: kill the whole group.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        # Children (auth, login, imap ...) live in the master's process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server and remove the temporary directory."""
        self._terminate()
        if self._own_root and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    with Dovecot(keep=True) as srv:
        u = srv.new_user()
        print(f"root={srv.root} plain={srv.plain_port} tls={srv.tls_port}")
        print(f"user={u.name} password={u.password} features={sorted(srv.features)}")
        print(f"stream: {srv.stream_command(u)}")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
