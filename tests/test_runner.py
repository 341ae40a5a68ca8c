"""``python -m imaplib_c run ...`` and ``imaplib_c._runner.install()``.

Each test runs a small program in a subprocess, exactly as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent(
    """\
    import json, os, sys
    import imaplib
    import imaplib_c
    info = {
        "name": imaplib.__name__,
        "identical": imaplib is imaplib_c,
        "sys_modules": sys.modules["imaplib"] is imaplib_c,
        "has_IMAP4": hasattr(imaplib, "IMAP4"),
        "argv": sys.argv,
        "dunder_name": __name__,
        "path0": sys.path[0],
        "file": globals().get("__file__"),
    }
    out = os.environ.get("PROBE_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(info, f)
    else:
        print(json.dumps(info))
    """
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.pop("PYTHONSTARTUP", None)
    env.update(extra)
    return env


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imaplib_c", *args],
        check=False,
        cwd=cwd,
        env=_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, (proc.stdout, proc.stderr)
    data: dict[str, object] = json.loads(lines[-1])
    return data


def test_version(tmp_path: Path) -> None:
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("imaplib_c "), proc.stdout
    assert f"{sys.version_info.major}.{sys.version_info.minor}." in proc.stdout


def test_usage(tmp_path: Path) -> None:
    proc = run_cli(cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stdout
    assert run_cli("--help", cwd=tmp_path).returncode == 0
    bad = run_cli("frobnicate", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown command" in bad.stderr
    assert run_cli("run", cwd=tmp_path).returncode == 2
    assert run_cli("run", "-m", cwd=tmp_path).returncode == 2


def test_run_script(tmp_path: Path) -> None:
    script = tmp_path / "sub" / "probe.py"
    script.parent.mkdir()
    script.write_text(PROBE)
    args = ["--flag", "a b", "-m", "x", "--", "-c"]
    info = _json(run_cli("run", str(script), *args, cwd=tmp_path))
    assert info["name"] == "imaplib_c"
    assert info["identical"] is True
    assert info["sys_modules"] is True
    assert info["has_IMAP4"] is True
    assert info["argv"] == [str(script), *args]
    assert info["dunder_name"] == "__main__"
    assert info["file"] == str(script)
    # like "python SCRIPT": the script's directory comes first on sys.path
    assert info["path0"] == str(script.parent)


def test_run_script_relative_path(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    info = _json(run_cli("run", "probe.py", "1", cwd=tmp_path))
    assert info["argv"] == ["probe.py", "1"]
    assert info["identical"] is True
    assert info["path0"] == str(tmp_path.resolve())


def test_run_module(tmp_path: Path) -> None:
    (tmp_path / "probemod.py").write_text(PROBE)
    info = _json(run_cli("run", "-m", "probemod", "x", "-y", cwd=tmp_path))
    assert info["identical"] is True
    assert info["dunder_name"] == "__main__"
    assert info["argv"] == [str(tmp_path / "probemod.py"), "x", "-y"]


def test_run_package_main(tmp_path: Path) -> None:
    pkg = tmp_path / "probepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(PROBE)
    info = _json(run_cli("run", "-m", "probepkg", "z", cwd=tmp_path))
    assert info["identical"] is True
    assert info["argv"] == [str(pkg / "__main__.py"), "z"]


def test_run_code(tmp_path: Path) -> None:
    info = _json(run_cli("run", "-c", PROBE, "p", "q", cwd=tmp_path))
    assert info["identical"] is True
    assert info["argv"] == ["-c", "p", "q"]
    assert info["dunder_name"] == "__main__"


def test_run_directory_with_main(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "__main__.py").write_text(PROBE)
    info = _json(run_cli("run", str(app), "k", cwd=tmp_path))
    assert info["identical"] is True
    assert info["argv"] == [str(app), "k"]


@pytest.mark.parametrize(
    ("body", "code", "stderr_part"),
    [
        ("import sys; sys.exit(3)", 3, ""),
        ("import sys; sys.exit(0)", 0, ""),
        ("raise SystemExit('bye now')", 1, "bye now"),
        ("raise ValueError('boom')", 1, "ValueError: boom"),
        (
            "import imaplib; raise imaplib.IMAP4.abort('socket error: EOF')",
            1,
            "abort: socket error: EOF",
        ),
        ("pass", 0, ""),
    ],
)
def test_exit_codes(tmp_path: Path, body: str, code: int, stderr_part: str) -> None:
    script = tmp_path / "exit.py"
    script.write_text(body + "\n")
    proc = run_cli("run", str(script), cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert stderr_part in proc.stderr
    mod = tmp_path / "exitmod.py"
    mod.write_text(body + "\n")
    assert run_cli("run", "-m", "exitmod", cwd=tmp_path).returncode == code


def test_missing_script(tmp_path: Path) -> None:
    proc = run_cli("run", str(tmp_path / "nope.py"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr
    proc = run_cli("run", "-m", "no_such_module_xyz", cwd=tmp_path)
    assert proc.returncode == 1
    assert "No module named" in proc.stderr


def test_stdin_and_main_guard(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text(
        "import sys, imaplib\n"
        "def main():\n"
        "    print(sys.stdin.read().upper(), imaplib.__name__)\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    proc = run_cli("run", str(script), cwd=tmp_path, stdin="hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["HELLO", "imaplib_c"]


def test_module_globals_are_shared(tmp_path: Path) -> None:
    """Writes to ``imaplib.X`` land in imaplib_c (one module object)."""
    script = tmp_path / "globals.py"
    script.write_text(
        "import json, imaplib, imaplib_c\n"
        "imaplib._MAXLINE = 12345\n"
        "imaplib.Commands['XTEST'] = ('AUTH',)\n"
        "from imaplib import IMAP4\n"
        "print(json.dumps([imaplib_c._MAXLINE, 'XTEST' in imaplib_c.Commands,\n"
        "                  IMAP4 is imaplib_c.IMAP4]))\n"
    )
    proc = run_cli("run", str(script), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [12345, True, True]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_install_in_process(tmp_path: Path) -> None:
    proc = _python(
        "import sys\n"
        "from imaplib_c._runner import install\n"
        "m = install()\n"
        "assert install() is m  # idempotent\n"
        "import imaplib, imaplib_c\n"
        "assert imaplib is imaplib_c is m\n"
        "assert sys.modules['imaplib'] is imaplib_c\n"
        "print('ok')\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_install_after_stdlib_imaplib(tmp_path: Path) -> None:
    proc = _python(
        "import warnings, sys\n"
        "import imaplib as stdlib_imaplib\n"
        "from imaplib_c._runner import install, ImaplibAlreadyImported\n"
        "try:\n"
        "    install()\n"
        "except ImaplibAlreadyImported as exc:\n"
        "    print('raised:', 'already imported' in str(exc))\n"
        "assert sys.modules['imaplib'] is stdlib_imaplib\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    m = install(force=True)\n"
        "print('warned:', any(issubclass(x.category, RuntimeWarning) for x in w))\n"
        "import imaplib\n"
        "print('replaced:', imaplib is m and imaplib is not stdlib_imaplib)\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["raised: True", "warned: True", "replaced: True"]


def test_run_refuses_when_stdlib_imaplib_preloaded(tmp_path: Path) -> None:
    """A sitecustomize that imports imaplib first makes ``run`` fail loudly
    instead of silently mixing two modules."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import imaplib\n")
    (tmp_path / "probe.py").write_text(PROBE)
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    proc = run_cli("run", "probe.py", cwd=tmp_path, **env)
    assert proc.returncode == 1
    assert "already imported" in proc.stderr
