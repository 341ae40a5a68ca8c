#!/usr/bin/env bash
# asan-pytest.sh - run the whole pytest suite against an ASan+UBSan build
# of the extension (house style §3.8, the msgspec recipe).
#
#   tools/asan-pytest.sh [--in-place] [pytest args...] [paths...]
#
# Default: the repository is copied (without .git and build products) to a
# temporary directory, the extension is built there with
# IMAPLIB_C_SANITIZE=1, and pytest runs from that copy, so the working
# tree and its normal build are never touched.  --in-place builds the
# sanitized extension in the working tree instead and rebuilds the normal
# one afterwards (whatever the outcome).
#
# Environment: PYTHON (default python3), CC (default gcc; the libasan
# preloaded is the one that compiler links against), KEEP=1 keeps the copy.
# The run uses LD_PRELOAD=$(CC -print-file-name=libasan.so)
# PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0
# UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1.
# Non-Python child processes are started without LD_PRELOAD
# (tools/asan_pytest_plugin.py).  Exit status: pytest's.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
CC=${CC:-gcc}
export CC
mode=copy
if [ "${1:-}" = "--in-place" ]; then
    mode=inplace
    shift
fi

LIBASAN=$("$CC" -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ]; then
    echo "asan-pytest: $CC has no libasan.so ($LIBASAN)" >&2
    exit 2
fi

build() { # $1 = dir, $2 = 1 for the sanitized build
    (cd "$1" && IMAPLIB_C_SANITIZE=$2 "$PY" setup.py -q build_ext --inplace --force \
        --build-temp "build/temp-asan$2" > "$1/.asan-build.log" 2>&1) || {
        cat "$1/.asan-build.log" >&2
        return 1
    }
    rm -f "$1/.asan-build.log"
}

if [ "$mode" = copy ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/imaplib_c-asan.XXXXXX")
    if [ "${KEEP:-0}" != 1 ]; then
        trap 'rm -rf "$WORK"' EXIT
    fi
    tar -C "$REPO" --exclude=./.git --exclude=./build --exclude='*.so' \
        --exclude='__pycache__' --exclude=./.pytest_cache --exclude=./csrc/core/tests/build \
        --exclude=./csrc/core/fuzz/build -cf - . | tar -C "$WORK" -xf -
else
    WORK=$REPO
    trap 'echo "asan-pytest: rebuilding the normal extension" >&2; build "$REPO" 0 || true' EXIT
fi

echo "asan-pytest: building the sanitized extension in $WORK" >&2
build "$WORK" 1

run() {
    env LD_PRELOAD="$LIBASAN" PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$@"
}

# Make sure the module under test is the sanitized one from $WORK.
so=$(cd "$WORK" && run "$PY" -c 'import sys; sys.path.insert(0, "."); import imaplib_c._imaplib_c as m; print(m.__file__)')
case "$so" in
    "$WORK"/*) ;;
    *) echo "asan-pytest: imported $so, not the sanitized build in $WORK" >&2; exit 2 ;;
esac
if ! grep -q __asan_init "$so"; then
    echo "asan-pytest: $so is not instrumented" >&2
    exit 2
fi
echo "asan-pytest: module $so (instrumented), LD_PRELOAD=$LIBASAN" >&2

set +e
# tools/asan_pytest_plugin.py drops LD_PRELOAD for non-Python children
# (dovecot's login processes cannot map ASan's shadow memory).
(cd "$WORK" && PYTHONPATH="$REPO/tools${PYTHONPATH:+:$PYTHONPATH}" \
    run "$PY" -m pytest -p no:cacheprovider -p asan_pytest_plugin "$@" "${targets[@]}")
rc=$?
set -e
echo "asan-pytest: pytest exit status $rc" >&2
exit $rc
