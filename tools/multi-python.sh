#!/usr/bin/env bash
# Build imaplib_c for every CPython 3.9-3.13 under pyenv and run, with each,
# the tests whose reference is the running interpreter's own imaplib (the
# conformance, differential and signature tests) plus the other
# version-independent files.  The extension files carry the ABI tag, so the
# builds sit side by side in imaplib_c/.
#
#   tools/multi-python.sh [pytest args]
#
# Interpreters: for each minor version in MULTI_PYTHON_VERSIONS (default
# "3.9 3.10 3.11 3.12 3.13"), the newest $PYENV_ROOT/versions/3.X.N (default
# PYENV_ROOT ~/.pyenv).  A minor version that pyenv does not have is a failure.
# With no pyenv at all the script fails too, unless
# IMAPLIB_C_ALLOW_NO_PYENV=1, which makes it report that and exit 0 (for
# machines that are not CI machines; CI machines have pyenv).
#
# Time bounds (seconds): MULTI_PYTHON_BUILD_TIMEOUT for pip and for the build
# (default 180 each), MULTI_PYTHON_TEST_TIMEOUT for one interpreter's pytest
# run (default 300; it normally takes ~20-30 s, the whole script ~2 min).  Logs: $MULTI_PYTHON_LOGS/{build,pytest}-3.X.log (default
# /tmp/imaplib_c-multi-python).  Exit status: non-zero if any interpreter is
# missing, fails to build, times out or has a failing test.
set -uo pipefail
cd "$(dirname "$0")/.."

TESTS=(
    # reference = the running imaplib: these must pass on every version
    tests/test_conformance.py
    tests/test_differential.py
    tests/test_signatures.py
    tests/test_command_path.py
    tests/test_binding_fuzz.py
    tests/test_stubs.py
    # version independent
    tests/test_hostile.py
    tests/test_subclass.py
    tests/test_module_functions.py
    tests/test_long_lines.py
    tests/test_starttls_injection.py
)
VERSIONS=(${MULTI_PYTHON_VERSIONS:-3.9 3.10 3.11 3.12 3.13})
ROOT=${PYENV_ROOT:-$HOME/.pyenv}
LOGS=${MULTI_PYTHON_LOGS:-/tmp/imaplib_c-multi-python}
BUILD_TIMEOUT=${MULTI_PYTHON_BUILD_TIMEOUT:-180}
TEST_TIMEOUT=${MULTI_PYTHON_TEST_TIMEOUT:-300}

if [ ! -d "$ROOT/versions" ] || ! ls -d "$ROOT"/versions/3.* >/dev/null 2>&1; then
    echo "multi-python: no pyenv CPython in $ROOT/versions" >&2
    if [ "${IMAPLIB_C_ALLOW_NO_PYENV:-0}" = 1 ]; then
        echo "multi-python: IMAPLIB_C_ALLOW_NO_PYENV=1: skipping the multi-version run" >&2
        exit 0
    fi
    echo "multi-python: FAILED: CI machines have pyenv with CPython 3.9-3.13" \
        "(set IMAPLIB_C_ALLOW_NO_PYENV=1 to skip this run elsewhere)" >&2
    exit 1
fi

mkdir -p "$LOGS"
status=0
summary=()
for ver in "${VERSIONS[@]}"; do
    # newest 3.X.N (release versions only: not 3.X-dev, 3.X.Nt, ...)
    dir=$(ls -d "$ROOT/versions/$ver".* 2>/dev/null | grep -E "/$ver\.[0-9]+$" | sort -V | tail -n 1)
    py=${dir:+$dir/bin/python3}
    if [ -z "$py" ] || [ ! -x "$py" ]; then
        summary+=("$ver: MISSING (no $ROOT/versions/$ver.N)"); status=1; continue
    fi
    t0=$SECONDS
    blog=$LOGS/build-$ver.log
    tlog=$LOGS/pytest-$ver.log
    {
        timeout -k 10 "$BUILD_TIMEOUT" "$py" -m pip install -q --disable-pip-version-check \
            "setuptools>=77" pytest mypy &&
        IMAPLIB_C_WERROR=1 timeout -k 10 "$BUILD_TIMEOUT" "$py" setup.py -q build_ext --inplace
    } >"$blog" 2>&1
    rc=$?
    if [ $rc != 0 ]; then
        [ $rc = 124 ] && what="BUILD TIMED OUT after ${BUILD_TIMEOUT} s" || what="BUILD FAILED"
        summary+=("$ver ($py): $what (see $blog)"); status=1
        tail -n 30 "$blog" >&2
        continue
    fi
    echo "== $ver ($("$py" -V 2>&1)): pytest" >&2
    timeout -k 30 "$TEST_TIMEOUT" "$py" -m pytest -q -p no:cacheprovider "${TESTS[@]}" "$@" \
        >"$tlog" 2>&1
    rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        result="TIMED OUT after ${TEST_TIMEOUT} s (see $tlog)"
    else
        result="pytest exit $rc: $(tail -n 1 "$tlog")"
    fi
    if [ $rc != 0 ]; then
        status=1
        # the failures, so that the CI log shows them without the log file
        grep -E '^(FAILED|ERROR) ' "$tlog" | head -n 50 >&2
        tail -n 5 "$tlog" >&2
    fi
    summary+=("$ver ($("$py" -V 2>&1)): $result in $((SECONDS - t0)) s")
done
printf '%s\n' "${summary[@]}"
[ $status = 0 ] && echo "multi-python: all passed" || echo "multi-python: FAILED" >&2
exit $status
