"""Run unchanged programs with ``imaplib_c`` standing in for ``imaplib``.

``install()`` puts the ``imaplib_c`` module object itself into
``sys.modules["imaplib"]``, so every later ``import imaplib`` (in the program
and in libraries such as IMAPClient or imap_tools) gets ``imaplib_c``, and
module-level writes such as ``imaplib._MAXLINE = ...`` or
``imaplib.Commands["ID"] = ...`` land in the interpreter's imaplib, which
both the engine and the inherited methods read (``_namespace.py``).
It must run before anything other than imaplib_c imports ``imaplib``.

Command line (see ``python -m imaplib_c --help``)::

    python -m imaplib_c run SCRIPT [ARGS...]
    python -m imaplib_c run -m MODULE [ARGS...]
    python -m imaplib_c run -c CODE [ARGS...]
    python -m imaplib_c backup --host HOST --user USER --dest DIR [...]
    python -m imaplib_c restore --host HOST --user USER --source DIR [...]
    python -m imaplib_c --version
"""

from __future__ import annotations

import builtins
import os
import platform
import runpy
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

from ._version import VERSION

__all__ = ["ImaplibAlreadyImported", "install", "main", "run", "version_text"]

PROG = "python -m imaplib_c"

USAGE = f"""\
usage: {PROG} run SCRIPT [ARGS...]
       {PROG} run -m MODULE [ARGS...]
       {PROG} run -c CODE [ARGS...]
       {PROG} backup --host HOST --user USER --dest DIR [OPTIONS]
       {PROG} restore --host HOST --user USER --source DIR [OPTIONS]
       {PROG} --version

run: run a Python program with imaplib_c installed as its 'imaplib' module.
backup, restore: incremental mailbox backup to Maildir/mbox, and back
(see '{PROG} backup --help').
"""


class ImaplibAlreadyImported(RuntimeError):
    """A different ``imaplib`` module was imported before :func:`install`."""


def _load() -> ModuleType:
    import imaplib_c

    if not hasattr(imaplib_c, "IMAP4"):
        raise ImportError(
            "imaplib_c has no IMAP4: the extension is not built "
            "(run 'python setup.py build_ext --inplace')"
        )
    return imaplib_c


def install(*, force: bool = False) -> ModuleType:
    """Make ``import imaplib`` return the ``imaplib_c`` module; return it.

    Idempotent.  If another ``imaplib`` (normally the stdlib one) was already
    imported, code may already hold references to it, so this raises
    :class:`ImaplibAlreadyImported`; with ``force=True`` it replaces the
    entry anyway and issues a :class:`RuntimeWarning`.
    """
    module = _load()
    current = sys.modules.get("imaplib")
    if current is module:
        return module
    # imaplib_c imports the interpreter's imaplib itself (its classes derive
    # from it); only an imaplib that was there before imaplib_c is a problem.
    from . import _stdlib_loader

    if current is not None and (current is not module._stdlib or _stdlib_loader.preimported):
        where = getattr(current, "__file__", None) or repr(current)
        message = (
            f"a different imaplib module was already imported ({where}); "
            "install() must run before anything imports imaplib"
        )
        if not force:
            raise ImaplibAlreadyImported(message)
        warnings.warn(message + "; replacing it anyway", RuntimeWarning, stacklevel=2)
    sys.modules["imaplib"] = module
    return module


def version_text() -> str:
    """One line: imaplib_c's version, whether the C engine runs, the imaplib
    version it mirrors and the interpreter."""
    try:
        import imaplib_c

        mirrored = getattr(imaplib_c, "__version__", "?")
        engine = (
            "C engine"
            if imaplib_c.accelerated
            else (f"no C engine: {imaplib_c.why_not_accelerated}")
        )
    except ImportError as exc:
        mirrored, engine = "?", f"unavailable: {exc}"
    return (
        f"imaplib_c {VERSION} ({engine}; imaplib {mirrored}; "
        f"{platform.python_implementation()} {platform.python_version()})"
    )


class UsageError(Exception):
    """Bad command line."""


class RunnerError(Exception):
    """imaplib_c could not be installed."""


def _run_script(path: str, args: Sequence[str]) -> None:
    sys.argv[:] = [path, *args]
    if os.path.isdir(path) or not path.endswith(".py") and _is_zip(path):
        # runpy puts the directory or archive on sys.path itself, as
        # "python DIR" does, in place of the current directory.
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]
    else:
        # "python SCRIPT" puts the script's directory first on sys.path.
        script_dir = os.path.dirname(os.path.realpath(path))
        if sys.path and sys.path[0] in ("", os.getcwd()):
            sys.path[0] = script_dir
        else:
            sys.path.insert(0, script_dir)
    runpy.run_path(path, run_name="__main__")


def _is_zip(path: str) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _run_module(name: str, args: Sequence[str]) -> None:
    # "python -m MODULE" keeps the current directory first on sys.path, as
    # "python -m imaplib_c" already did; runpy sets sys.argv[0] to the file.
    sys.argv[:] = [name, *args]
    runpy.run_module(name, run_name="__main__", alter_sys=True)


def _run_code(code: str, args: Sequence[str]) -> None:
    sys.argv[:] = ["-c", *args]
    main_module = sys.modules["__main__"]
    namespace: dict[str, object] = {
        "__name__": "__main__",
        "__doc__": None,
        "__builtins__": builtins,
        "__loader__": getattr(main_module, "__loader__", None),
        "__spec__": None,
        "__package__": None,
    }
    exec(compile(code, "<string>", "exec"), namespace)  # noqa: S102 - this is "python -c"


def run(argv: Sequence[str]) -> int:
    """Run a program as ``python`` would, with imaplib_c installed.

    *argv* is what follows ``run`` on the command line: ``SCRIPT ARGS...``,
    ``-m MODULE ARGS...`` or ``-c CODE ARGS...``.  Returns 0 when the program
    finishes; ``SystemExit`` and other exceptions raised by the program
    propagate, so exit codes and tracebacks are those of the program.
    """
    argv = list(argv)
    if not argv:
        raise UsageError("run: missing SCRIPT, -m MODULE or -c CODE")
    first = argv[0]
    if first in ("-m", "-c"):
        if len(argv) < 2:
            raise UsageError(f"run: argument expected after {first}")
        target, rest = argv[1], argv[2:]
    elif first.startswith("-m") and len(first) > 2:
        first, target, rest = "-m", first[2:], argv[1:]
    elif first.startswith("-c") and len(first) > 2:
        first, target, rest = "-c", first[2:], argv[1:]
    elif first == "--":
        if len(argv) < 2:
            raise UsageError("run: missing SCRIPT")
        first, target, rest = "script", argv[1], argv[2:]
    elif first.startswith("-"):
        raise UsageError(f"run: unknown option {first!r}")
    else:
        target, rest = first, argv[1:]
        first = "script"
    if first == "script" and not os.path.exists(target):
        raise UsageError(f"run: can't open file {target!r}: No such file or directory")
    try:
        install()
    except (ImportError, ImaplibAlreadyImported) as exc:
        raise RunnerError(str(exc)) from exc
    if first == "-m":
        _run_module(target, rest)
    elif first == "-c":
        _run_code(target, rest)
    else:
        _run_script(target, rest)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m imaplib_c``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    if args[0] in ("--version", "-V", "version"):
        print(version_text())
        return 0
    if args[0] in ("backup", "restore"):
        from ._backup_cli import main as backup_main

        return backup_main(args[0], args[1:])
    if args[0] != "run":
        sys.stderr.write(USAGE)
        sys.stderr.write(f"{PROG}: error: unknown command {args[0]!r}\n")
        return 2
    try:
        return run(args[1:])
    except UsageError as exc:
        sys.stderr.write(USAGE)
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except RunnerError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 1
