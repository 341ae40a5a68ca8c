"""A private Dovecot on 127.0.0.1 for the ``headers``/``bodies`` real-server rows.

Everything (configuration, ``base_dir``, logs, the maildir) lives in one temporary
directory; the port is picked at run time; :meth:`BenchDovecot.stop` ends the
master's whole process group.  The mailbox is filled by writing maildir files
directly (``cur/<time>.M<n>P<pid>.bench,S=<size>,W=<vsize>:2,S``), which is far
faster than APPEND; file names sort in message order, so UIDs are 1..N and message
``i`` is ``bench.scenarios.message(i)``.

Plain TCP only: with TLS, Dovecot keeps ``imap-login`` as a proxy in front of the
``imap`` process and the server CPU would be split over two processes.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from bench import scenarios as sc

HOST = "127.0.0.1"
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")

if TYPE_CHECKING:
    from typing_extensions import Self


def find_dovecot() -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which("dovecot", path=path)


def dovecot_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    m = re.match(r"\s*(\d+(?:\.\d+)*)", out)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class BenchDovecot:
    """``with BenchDovecot(n_messages) as dv: ...`` -- ``dv.port``, user ``bench``/``secret``."""

    def __init__(self, n_messages: int, cpus: set[int] | None = None) -> None:
        binary = find_dovecot()
        if binary is None:
            raise RuntimeError("dovecot is not installed")
        self.binary = binary
        self.version = dovecot_version(binary)
        self.n_messages = n_messages
        self.cpus = cpus
        self.root = Path(tempfile.mkdtemp(prefix="imaplib-bench-dovecot-"))
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.home = self.root / "home" / sc.USER
        self.populate_seconds = 0.0

    # -- mailbox -----------------------------------------------------------

    def populate(self) -> None:
        """Write messages 1..n as maildir files (LF line ends; Dovecot sends CRLF)."""
        t0 = time.perf_counter()
        maildir = self.home / "Mail"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        cur = maildir / "cur"
        base = 1_500_000_000
        chown = os.geteuid() == 0
        for i in range(1, self.n_messages + 1):
            crlf = sc.message(i)
            data = crlf.replace(b"\r\n", b"\n")
            name = cur / f"{base + i}.M{i}P1.bench,S={len(data)},W={len(crlf)}:2,S"
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                if chown:
                    os.fchown(fd, self.uid, self.gid)
            finally:
                os.close(fd)
        for d in [
            self.root / "home",
            self.home,
            maildir,
            *(maildir / s for s in ("cur", "new", "tmp")),
        ]:
            if chown:
                os.chown(d, self.uid, self.gid)
        self.populate_seconds = time.perf_counter() - t0

    # -- configuration -------------------------------------------------------

    def _config(self) -> str:
        r = self.root
        v24 = self.version >= (2, 4)
        lines = []
        if v24:
            lines += ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
        lines += [
            f"base_dir = {r / 'run'}",
            f"state_dir = {r / 'state'}",
            f"log_path = {r / 'dovecot.log'}",
            "protocols = imap",
            f"listen = {HOST}",
            "ssl = no",
            "auth_mechanisms = plain login",
            "auth_failure_delay = 0",
            f"first_valid_uid = {min(self.uid, 500) or 1}",
            f"first_valid_gid = {min(self.gid, 500) or 1}",
            "mail_fsync = never",
        ]
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.getuid()).pw_name
            lines += [f"default_internal_user = {me}", f"default_login_user = {me}"]
        if v24:
            lines += [
                "auth_allow_cleartext = yes",
                f"passdb passwd-file {{\n  passwd_file_path = {r / 'passwd'}\n}}",
                f"userdb passwd-file {{\n  passwd_file_path = {r / 'passwd'}\n}}",
                "mail_driver = maildir",
                "mail_path = ~/Mail",
            ]
        else:
            lines += [
                "disable_plaintext_auth = no",
                f"passdb {{\n  driver = passwd-file\n  args = {r / 'passwd'}\n}}",
                f"userdb {{\n  driver = passwd-file\n  args = {r / 'passwd'}\n}}",
                "mail_location = maildir:~/Mail",
            ]
        chroot = "" if os.geteuid() == 0 else "  chroot =\n"
        lines += [
            "namespace inbox {\n  inbox = yes\n  separator = /\n}",
            (
                "service imap-login {\n"
                f"  inet_listener imap {{\n    port = {self.port}\n  }}\n"
                f"  inet_listener imaps {{\n    port = 0\n  }}\n{chroot}}}"
            ),
            "service imap-urlauth-login {\n  inet_listener imap-urlauth {\n    port = 0\n  }\n}",
        ]
        if os.geteuid() != 0:
            lines.append("service anvil {\n  chroot =\n}")
        return "\n".join(lines) + "\n"

    # -- life cycle ----------------------------------------------------------

    def start(self) -> BenchDovecot:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.root.chmod(0o755)
        for d in ("run", "state", "home"):
            (self.root / d).mkdir(exist_ok=True)
        (self.root / "home").chmod(0o755)
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        (self.root / "passwd").write_text(
            f"{sc.USER}:{{PLAIN}}{sc.PASSWORD}:{self.uid}:{self.gid}::{self.home}::\n"
        )
        self.populate()
        self.port = _free_port()
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        with open(self.root / "master.stderr", "wb") as err:
            self.proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                start_new_session=True,
            )
        if self.cpus:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(self.proc.pid, self.cpus)  # imap processes inherit it
        deadline = time.monotonic() + 30
        while not self._greets():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dovecot did not start:\n" + self.diagnostics())
            time.sleep(0.05)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=5) as s:
                return s.recv(4096).startswith(b"* OK")
        except OSError:
            return False

    def diagnostics(self) -> str:
        out = []
        for name in ("master.stderr", "dovecot.log"):
            with contextlib.suppress(OSError):
                out.append(
                    f"--- {name} ---\n"
                    + "\n".join((self.root / name).read_text(errors="replace").splitlines()[-30:])
                )
        return "\n".join(out)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
