"""The sdist installs into a fresh virtual environment and works there (issue 9).

The rest of the suite imports the in-place build with the test interpreter's
site-packages on ``sys.path``, so a run-time import of something the package
does not declare (``typing_extensions`` was one) passes everywhere except on
a user's machine.  Here:

* the source tree is copied to a temporary directory and an sdist is built
  from the copy the way ``python -m build --sdist`` does it (the
  ``[build-system]`` requirements installed apart, the backend's hook run
  with nothing else importable);
* a venv without system site packages is created and ``pip install SDIST``
  installs it (pip's build isolation fetches the build requirements into a
  throw-away environment, so the venv holds only what ensurepip puts there,
  imaplib_c and whatever imaplib_c declares);
* the venv's interpreter, in isolated mode (``-I``) and outside the checkout,
  imports every module of the package and requires every module that import
  loads to come from the standard library or from the installed package;
  runs ``python -m imaplib_c --help``, ``--version`` and ``run -c``; and plays
  a short session (greeting, CAPABILITY, NOOP, LOGOUT) against a scripted
  server in this process.

Needs PyPI (or the configured index) for setuptools.  About 15 s: venv
creation and the C build dominate.  Deselect with ``-m "not packaging"``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from testsupport.scripted_server import ScriptedServer, cmd, send

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.packaging, pytest.mark.usefixtures("only_extension")]

# Build products and caches that a clean clone does not have.
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.so",
    "*.o",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".venv",
    "venv",
)

# Run in the venv: import the whole package and list every module the import
# loaded that is neither standard library nor the installed package itself.
IMPORT_CHECK = textwrap.dedent(
    """
    import os, sys, sysconfig
    before = set(sys.modules)
    import imaplib, imaplib_c, pkgutil, importlib
    for info in pkgutil.iter_modules(imaplib_c.__path__, "imaplib_c."):
        importlib.import_module(info.name)
    problems = []
    if sys.prefix == sys.base_prefix:
        problems.append("not running in a venv")
    pkg = os.path.dirname(os.path.realpath(imaplib_c.__file__))
    if not pkg.startswith(os.path.realpath(sys.prefix) + os.sep):
        problems.append("imaplib_c imported from outside the venv: " + pkg)
    stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
    for name in sorted(set(sys.modules) - before):
        path = getattr(sys.modules[name], "__file__", None)
        if path is None:
            continue  # built-in, frozen or namespace module
        path = os.path.realpath(path)
        if path.startswith(pkg + os.sep):
            continue
        parts = path.split(os.sep)
        in_stdlib = any(path.startswith(d + os.sep) for d in stdlib)
        if not in_stdlib or "site-packages" in parts or "dist-packages" in parts:
            problems.append("non-stdlib module %s from %s" % (name, path))
    if "typing_extensions" in sys.modules:
        problems.append("typing_extensions was imported")
    if not imaplib_c.accelerated or not imaplib_c.c_commands:
        problems.append("C engine not in use: " + imaplib_c.why_not_accelerated)
    if not (isinstance(imaplib_c.IMAP4, type) and imaplib_c.IMAP4 is not imaplib.IMAP4):
        problems.append("imaplib_c.IMAP4 is not its own class")
    if not callable(getattr(imaplib_c.IMAP4, "idle", None)) or not hasattr(imaplib_c, "Idler"):
        problems.append("IMAP4.idle / Idler missing")
    for name in ("IMAP4_SSL", "IMAP4_stream", "Internaldate2tuple", "Int2AP", "ParseFlags",
                 "Time2Internaldate", "Commands"):
        if not hasattr(imaplib_c, name):
            problems.append("imaplib_c." + name + " missing")
    if problems:
        sys.exit("\\n".join(problems))
    print("import ok", imaplib_c.__file__)
    """
)

# Run in the venv against the scripted server below.
SMOKE = textwrap.dedent(
    """
    import sys, imaplib_c
    M = imaplib_c.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
    got = (M.state, M.capabilities, M.noop(), M.logout(), M.state)
    want = ("NONAUTH", ("IMAP4REV1",), ("OK", [b"NOOP completed"]), ("BYE", [b"bye"]), "LOGOUT")
    if got != want:
        sys.exit("got %r, want %r" % (got, want))
    print("smoke ok")
    """
)

SMOKE_SCRIPT = [
    send(b"* OK hi"),
    cmd("CAPABILITY"),
    send(b"* CAPABILITY IMAP4rev1", b"{tag} OK done"),
    cmd("NOOP"),
    send(b"{tag} OK NOOP completed"),
    cmd("LOGOUT"),
    send(b"* BYE bye", b"{tag} OK LOGOUT completed"),
]


def _child_env() -> dict[str, str]:
    """This environment without what would leak the test interpreter's modules
    into the venv (PYTHONPATH, ...) or instrument the children (the ASan run's
    LD_PRELOAD; a sanitized build of the sdist)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON")
        and k not in ("VIRTUAL_ENV", "LD_PRELOAD")
        and k not in ("IMAPLIB_C_SANITIZE", "IMAPLIB_C_DEBUG")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PIP_ROOT_USER_ACTION"] = "ignore"
    return env


def _run(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {out.returncode}\n"
        f"--- stdout\n{out.stdout[-6000:]}\n--- stderr\n{out.stderr[-6000:]}"
    )
    return out


def _build_system() -> tuple[list[str], str]:
    """``[build-system]`` ``requires`` and ``build-backend`` of pyproject.toml."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the copy pip vendors
        from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        table = tomllib.load(f)["build-system"]
    assert "backend-path" not in table, "in-tree backends are not handled here"
    return list(table["requires"]), table.get("build-backend", "setuptools.build_meta:__legacy__")


def _build_sdist(tmp: Path, env: dict[str, str]) -> Path:
    """Build the sdist as an isolated PEP 517 frontend (``python -m build
    --sdist``) does: the build requirements from pyproject.toml installed
    apart, the backend's ``build_sdist`` run with nothing else importable
    (``-S``).  Neither this interpreter's setuptools nor ``build`` is used:
    a setuptools older than pyproject.toml asks for makes a different sdist
    (before 68.1 it left csrc/*.h out, and the sdist did not build)."""
    # Build from a copy of the tree, so that the build's scratch files
    # (egg-info, the release tree) never appear in the checkout.
    src = tmp / "src"
    shutil.copytree(REPO_ROOT, src, ignore=_COPY_IGNORE, symlinks=True)
    requires, backend = _build_system()
    backend_env = tmp / "build-env"
    _run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(backend_env), *requires],
        cwd=tmp,
        env=env,
    )
    dist = tmp / "dist"
    dist.mkdir()
    module, _, obj = backend.partition(":")
    hook = (
        "import functools, importlib, sys; b = importlib.import_module(sys.argv[1]); "
        "b = functools.reduce(getattr, filter(None, sys.argv[2].split('.')), b); "
        "print(b.build_sdist(sys.argv[3]))"
    )
    _run(
        [sys.executable, "-S", "-c", hook, module, obj, str(dist)],
        cwd=src,
        env={**env, "PYTHONPATH": str(backend_env)},
    )
    sdists = sorted(dist.glob("imaplib_c-*.tar.gz"))
    assert len(sdists) == 1, sdists
    return sdists[0]


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":  # pragma: no cover - not a supported platform
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _package_version() -> str:
    text = (REPO_ROOT / "imaplib_c" / "_version.py").read_text(encoding="utf-8")
    m = re.search(r'^VERSION\s*=\s*"([^"]+)"', text, re.MULTILINE)
    assert m, "no VERSION in imaplib_c/_version.py"
    return m.group(1)


def _fresh_venv(tmp: Path, env: dict[str, str]) -> str:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp, env=env)
    return str(_venv_python(venv))


def test_sdist_in_fresh_venv(tmp_path: Path) -> None:
    env = _child_env()
    sdist = _build_sdist(tmp_path, env)

    py = _fresh_venv(tmp_path, env)
    # Plain "pip install SDIST", as a user runs it.  --no-cache-dir: a wheel
    # cached by an earlier run must never stand in for this build.
    _run([py, "-m", "pip", "install", "--no-cache-dir", str(sdist)], cwd=tmp_path, env=env)

    # Everything below runs in isolated mode (-I: no PYTHON* variables, no
    # current directory or user site on sys.path) from a directory outside
    # the checkout, so only the venv can supply modules.
    work = tmp_path / "work"
    work.mkdir()

    out = _run([py, "-I", "-c", IMPORT_CHECK], cwd=work, env=env, timeout=60)
    assert "import ok" in out.stdout

    out = _run([py, "-I", "-m", "imaplib_c", "--help"], cwd=work, env=env, timeout=60)
    assert "usage:" in out.stdout + out.stderr

    out = _run([py, "-I", "-m", "imaplib_c", "--version"], cwd=work, env=env, timeout=60)
    assert out.stdout.startswith(f"imaplib_c {_package_version()} (C engine;"), out.stdout

    _run(
        [
            py,
            "-I",
            "-m",
            "imaplib_c",
            "run",
            "-c",
            "import imaplib, imaplib_c, sys; sys.exit(imaplib is not imaplib_c)",
        ],
        cwd=work,
        env=env,
        timeout=60,
    )

    with ScriptedServer(SMOKE_SCRIPT, timeout=30) as server:
        out = _run([py, "-I", "-c", SMOKE, str(server.port)], cwd=work, env=env, timeout=60)
    assert "smoke ok" in out.stdout
    assert [line.split(b" ", 1)[1] for line in server.connections[0].lines] == [
        b"CAPABILITY\r\n",
        b"NOOP\r\n",
        b"LOGOUT\r\n",
    ]


def test_sdist_tests_run_from_the_unpacked_sdist(tmp_path: Path) -> None:
    """The sdist carries its tests: unpacked, they run against the installed package."""
    env = _child_env()
    sdist = _build_sdist(tmp_path, env)
    py = _fresh_venv(tmp_path, env)
    _run(
        [py, "-m", "pip", "install", "--no-cache-dir", str(sdist), "pytest"], cwd=tmp_path, env=env
    )
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(str(sdist), unpacked)
    (root,) = unpacked.iterdir()
    for needed in (
        "tests/conftest.py",
        "testsupport/scripted_server.py",
        "testsupport/loopback.py",
        "testsupport/dovecot.py",
        "csrc/core/tests/test_util.c",
        "Makefile",
        "LICENSE",
        "LICENSES/PSF-2.0.txt",
        "CHANGELOG.rst",
    ):
        assert (root / needed).is_file(), needed
    # The unpacked source package (without the extension) must not shadow
    # the installed one: the tests put the tree's root on sys.path.
    shutil.rmtree(root / "imaplib_c")
    pytest_bin = str(Path(py).parent / "pytest")
    out = _run(
        [
            pytest_bin,
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_module_functions.py",
            "tests/test_command_path.py",
            "tests/test_differential.py",
        ],
        cwd=root,
        env=env,
        timeout=300,
    )
    assert " passed" in out.stdout and "failed" not in out.stdout, out.stdout[-2000:]


def test_sdist_installs_without_a_compiler(tmp_path: Path) -> None:
    """No working compiler: the package installs without the extension and
    imaplib_c is the interpreter's imaplib, and says so."""
    env = _child_env()
    sdist = _build_sdist(tmp_path, env)
    py = _fresh_venv(tmp_path, env)
    _run(
        [py, "-m", "pip", "install", "--no-cache-dir", str(sdist)],
        cwd=tmp_path,
        env={**env, "CC": "false", "LDSHARED": "false"},
    )
    work = tmp_path / "work"
    work.mkdir()
    check = (
        "import imaplib, imaplib_c, sys; "
        "sys.exit(not (imaplib_c.accelerated is False and imaplib_c.IMAP4 is imaplib.IMAP4 "
        "and imaplib_c.Time2Internaldate is imaplib.Time2Internaldate))"
    )
    _run([py, "-I", "-c", check], cwd=work, env=env, timeout=60)
    out = _run([py, "-I", "-m", "imaplib_c", "--version"], cwd=work, env=env, timeout=60)
    assert "no C engine: the C extension did not load" in out.stdout, out.stdout
    with ScriptedServer(SMOKE_SCRIPT, timeout=30) as server:
        out = _run([py, "-I", "-c", SMOKE, str(server.port)], cwd=work, env=env, timeout=60)
    assert "smoke ok" in out.stdout
