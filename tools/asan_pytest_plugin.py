"""pytest plugin used by tools/asan-pytest.sh: keep libasan out of non-Python children.

The sanitized run preloads libasan into the interpreter (LD_PRELOAD), and
children inherit it.  Python children need it (they import the sanitized
extension), but other programs do not, and some cannot run with it: a
dovecot login process has a small address-space limit (vsz_limit) and
ASan's shadow-memory mmap fails there.  So LD_PRELOAD is removed from the
environment of every child that is not a Python interpreter and not a
shell command line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

_orig_init = subprocess.Popen.__init__
_PY = os.path.realpath(sys.executable)


def _is_python(prog: object) -> bool:
    if isinstance(prog, bytes):
        prog = os.fsdecode(prog)
    if not isinstance(prog, (str, os.PathLike)):
        return True  # unknown shape: leave it alone
    prog = os.fspath(prog)
    return bool(re.fullmatch(r"python[0-9.]*", os.path.basename(prog))) or (
        os.path.realpath(prog) == _PY
    )


def _init(self, args, *a, **kw):  # type: ignore[no-untyped-def]
    if not kw.get("shell") and len(a) < 9:  # env passed by keyword (it always is)
        if isinstance(args, (str, bytes, os.PathLike)):
            prog = kw.get("executable") or args
        else:
            args = list(args)
            prog = kw.get("executable") or (args[0] if args else "")
        if not _is_python(prog):
            env = dict(os.environ if kw.get("env") is None else kw["env"])
            if env.pop("LD_PRELOAD", None) is not None:
                kw["env"] = env
    _orig_init(self, args, *a, **kw)


if os.environ.get("LD_PRELOAD") and "asan" in os.environ["LD_PRELOAD"]:
    subprocess.Popen.__init__ = _init  # type: ignore[method-assign]
