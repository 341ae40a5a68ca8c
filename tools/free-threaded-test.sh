#!/usr/bin/env bash
# Run the thread tests on a free-threaded CPython (no GIL).
#
#   tools/free-threaded-test.sh [pytest args]
#
# Gets the interpreter from tools/free-threaded-python.sh (builds one from
# Debian's source package the first time, ~5 min), installs pytest and
# setuptools into it, builds the extension in place (its file carries the
# "t" ABI tag, beside the others) and runs, with PYTHON_GIL=0, the tests of
# the command guard and of threads, signals and shutdown from another thread,
# plus the differential and subclass tests.  tests/test_free_threading.py
# also checks that importing imaplib_c leaves the GIL off (Py_mod_gil).
# Not part of .ci/run (building CPython there would take most of its time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(tools/free-threaded-python.sh | tail -n 1)
"$PY" -m pip install -q --disable-pip-version-check "setuptools>=77" pytest
IMAPLIB_C_WERROR=1 "$PY" setup.py -q build_ext --inplace >/tmp/imaplib_c-ft-build.log 2>&1 ||
    { cat /tmp/imaplib_c-ft-build.log >&2; exit 1; }
"$PY" -c 'import sys, imaplib_c; print(sys.version); assert not sys._is_gil_enabled()' >&2
tests=(tests/test_free_threading.py tests/test_thread_safety.py tests/test_stress.py
       tests/test_command_path.py tests/test_differential.py tests/test_subclass.py
       tests/test_idle.py)
[ $# -gt 0 ] && tests=("$@")
PYTHON_GIL=0 exec "$PY" -m pytest -q -p no:cacheprovider "${tests[@]}"
