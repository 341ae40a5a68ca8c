#!/usr/bin/env bash
# Build and test imaplib_c on today's CPython releases in a Debian sid chroot.
#
#   tools/sid-chroot.sh build          make the chroot once (cached; must run as root)
#   tools/sid-chroot.sh test [PY...]   copy the checkout to /src in the chroot, build the
#                                      extension in place with each PY, run pytest with each
#   tools/sid-chroot.sh packaging [PY...]  tools/packaging-check.sh with each PY: the sdist
#                                      and a wheel in fresh venvs, smoke-tested
#   tools/sid-chroot.sh shell          an interactive shell in the chroot (cwd /src)
#
# PY defaults to python3.13 python3.14 python3.15, plus python3.14d (the debug
# build, ABI tag cpython-314d) when the chroot has it.  Extra pytest arguments go
# in SID_PYTEST_ARGS (e.g. SID_PYTEST_ARGS="tests/test_conformance.py -x").
#
# Environment:
#   SID_DIR       the chroot (default /work/sid-chroot; must be outside the checkout)
#   SID_MIRROR    Debian mirror (default http://deb.debian.org/debian)
#   SID_WERROR=1  build with -Werror (IMAPLIB_C_WERROR=1); off by default so that a
#                 new C-API deprecation warning does not hide the test results
#   SID_TIMEOUT   per-test timeout in seconds (pytest-timeout; default 180, 0 = none):
#                 a test that blocks forever on a socket must not stall the
#                 other interpreters (on 2026-11-29 the suite minus its hangs
#                 took ~100 s per interpreter; three ids hung on each)
#                 (a timed-out test whose cleanup blocks again, e.g. logout() in a
#                 `finally`, is not interrupted twice: hence also)
#   SID_RUN_TIMEOUT  limit for one interpreter's whole pytest run (default 3600 s)
#   IMAPLIB_C_REALSERVER_TIMEOUT, IMAPLIB_C_REALSERVER_STEP_TIMEOUT  passed into
#                 the chroot: the bounds of the tests in tests/realserver, per test
#                 phase and per workload step (tests/realserver/timebound.py)
#   SID_EXPERIMENTAL=0  do not fall back to Debian experimental for a package that
#                 sid does not have (default: fall back, as PKG/experimental, so
#                 that only those packages and what they need come from there)
#
# Logs: $SID_DIR/logs/{build-PY.log,pytest-PY.log}.  The exit status is non-zero
# if any interpreter is missing, fails to build or has a failing test.
#
# Isolation: the script re-executes itself in private mount and PID namespaces
# (unshare), mounts /proc, a tmpfs on /dev/shm (multiprocessing semaphores) and
# a private devpts in the chroot, and on exit ends the processes still running
# in the chroot (e.g. a Dovecot that a test left) and unmounts.  The network is
# the host's; the tests only use 127.0.0.1.  Package services are never started
# in the chroot (policy-rc.d), so installing Dovecot does not open port 143.
#
# Which packages exist (checked in sid, and re-checked by every `build`):
# * 2026-11-29 every name asked for was in sid: python3.13 3.13.18, python3.14
#   3.14.10 (the default python3), python3.15 3.15.2, python3.14-dbg, the three
#   libpython3.X-testsuite, dovecot-core/-imapd 2.4.5, gcc 16.2, pytest 9.1.1,
#   setuptools 84.2; nothing came from experimental.
# * debootstrap itself installs only the toolchain (--include below).  Its
#   resolver does not handle every dependency of the Python/Dovecot packages and
#   it aborts on a name the mirror does not have, so the rest is installed with
#   apt inside the chroot, after `apt-cache policy` says which names have a
#   candidate; a missing one is reported (and written to /etc/sid-chroot.missing).
# * python3.X-dbg: Debian's debug interpreter package; it provides python3.Xd
#   (and python3.X-dbg), and its headers live in /usr/include/python3.Xd, so
#   `python3.Xd setup.py build_ext` builds a separate cpython-3Xd .so.
# * python3.X-venv: ensurepip, for tests/test_fresh_venv.py (`python3.X -m venv`).
# * libpython3.X-testsuite: Debian strips Lib/test from libpython3.X-stdlib;
#   tests/test_conformance.py needs test.test_imaplib from it.
# * python3-pytest / python3-setuptools are pure Python and live in
#   /usr/lib/python3/dist-packages, which every Debian python3.X has on
#   sys.path, so one copy serves every interpreter.  If an interpreter still
#   cannot import pytest or setuptools, they are pip-installed from PyPI for it
#   alone into /opt/pydeps/3.X (PYTHONPATH at test time).
# * IMAPClient, imap_tools and ruff (tests/realserver/test_tools.py,
#   tests/test_lint.py) come from PyPI into /opt/pydeps/common with
#   `pip install --target`, which leaves Debian's dist-packages alone (Debian's
#   python3-imapclient / python3-imap-tools if PyPI cannot be reached).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SELF="$REPO/tools/sid-chroot.sh"
SID_DIR=${SID_DIR:-/work/sid-chroot}
MIRROR=${SID_MIRROR:-http://deb.debian.org/debian}
SUITE=sid
MARKER=etc/sid-chroot.complete
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Installed by debootstrap (all certainly in sid; it aborts on an unknown name).
DEBOOTSTRAP_INCLUDE=gcc,libc6-dev,make,openssl,ca-certificates
# Installed with apt in the chroot, each only if sid (or experimental) has it.
WANTED=(python3.13 python3.13-dev python3.13-venv libpython3.13-testsuite
        python3.14 python3.14-dev python3.14-venv python3.14-dbg libpython3.14-testsuite
        python3.15 python3.15-dev python3.15-venv libpython3.15-testsuite
        python3-setuptools python3-pytest python3-pytest-timeout python3-pip
        dovecot-imapd dovecot-core)
# Not worth an experimental fallback; missing is fine.
OPTIONAL=(python3.14-dbg python3.15 python3.15-dev python3.15-venv libpython3.15-testsuite
          python3-pytest-timeout)
PYPI_COMMON=(imapclient imap-tools ruff)
PIP_CERT=(--cert /etc/ssl/host-ca-certificates.crt)

die() { echo "sid-chroot: $*" >&2; exit 2; }
note() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mount)"
case "$SID_DIR" in /*) ;; *) die "SID_DIR must be an absolute path" ;; esac
SID_DIR=$(realpath -m "$SID_DIR")
case "$SID_DIR/" in "$REPO/"*) die "SID_DIR ($SID_DIR) must be outside the checkout ($REPO)" ;; esac
[ "$SID_DIR" != / ] || die "SID_DIR must not be /"

# Private mount and PID namespaces: nothing mounted here is seen by (or
# propagates to) the host and the mounts go away with the last process even on
# SIGKILL; the processes this run leaves behind (a Dovecot, a hung test) are the
# only ones kill_chroot_procs sees, and the kernel ends them with the namespace.
# (A concurrent shell in the same chroot, e.g. `shell`, is not touched.)
NS_OPTS=(--mount --pid --fork --mount-proc --propagation private)
if [ -z "${_SID_CHROOT_NS:-}" ] && command -v unshare >/dev/null 2>&1 \
        && unshare "${NS_OPTS[@]}" true 2>/dev/null; then
    export _SID_CHROOT_NS=1
    exec unshare "${NS_OPTS[@]}" -- bash "$SELF" "$@"
fi

# One run at a time per chroot: `test` replaces /src, and the mounts are per run.
mkdir -p "$(dirname "$SID_DIR")"
exec 9>"$SID_DIR.lock"
flock -n 9 || die "another sid-chroot.sh run holds $SID_DIR.lock"

MOUNTED=()
in_chroot() {  # in_chroot CMD... : run CMD in the chroot with a clean environment
    chroot "$SID_DIR" /usr/bin/env -i HOME=/root PATH="$CHROOT_PATH" LANG=C.UTF-8 \
        LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive "$@"
}
mount_one() {  # mount_one TARGET MOUNT-ARGS...
    local tgt="$SID_DIR/$1"; shift
    mkdir -p "$tgt"
    mountpoint -q "$tgt" && return 0
    mount "$@" "$tgt"
    MOUNTED+=("$tgt")
}
mount_all() {
    mount_one proc -t proc proc
    mount_one dev/shm -t tmpfs -o mode=1777,nosuid,nodev shm
    mount_one dev/pts -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts
    [ -e "$SID_DIR/dev/ptmx" ] || ln -s pts/ptmx "$SID_DIR/dev/ptmx"
}
kill_chroot_procs() {  # end what is still running with its root in the chroot
    local p root pids=() sig
    for sig in TERM KILL; do
        pids=()
        for p in /proc/[0-9]*; do
            root=$(readlink "$p/root" 2>/dev/null) || continue
            [ "$root" = "$SID_DIR" ] && pids+=("${p#/proc/}")
        done
        [ ${#pids[@]} -gt 0 ] || return 0
        [ "$sig" = TERM ] && note "ending processes left in the chroot: ${pids[*]}"
        kill -"$sig" "${pids[@]}" 2>/dev/null || true
        sleep 1
    done
}
cleanup() {
    local i
    kill_chroot_procs
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" || true
    done
    MOUNTED=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_candidate() {  # has_candidate PKG: the chroot's apt can install PKG
    # (not `| grep -q`: under pipefail its early exit SIGPIPEs apt-cache)
    local out
    out=$(in_chroot apt-cache policy "$1" 2>/dev/null) || return 1
    [[ $out == *"Candidate: "[!\(]* ]]
}

cmd_build() {
    if [ -e "$SID_DIR/$MARKER" ]; then
        note "chroot $SID_DIR exists (rm -rf it to rebuild)"
        return 0
    fi
    command -v debootstrap >/dev/null 2>&1 || {
        note "installing debootstrap"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    if [ -e "$SID_DIR" ]; then  # an interrupted build: start over
        grep -q " $SID_DIR[ /]" /proc/mounts && die "$SID_DIR has mounts; unmount them first"
        note "removing incomplete chroot $SID_DIR"
        rm -rf --one-file-system "$SID_DIR"
    fi
    local t0=$SECONDS
    note "debootstrap $SUITE into $SID_DIR"
    debootstrap --variant=minbase --include="$DEBOOTSTRAP_INCLUDE" "$SUITE" "$SID_DIR" "$MIRROR"

    cp /etc/resolv.conf "$SID_DIR/etc/resolv.conf" 2>/dev/null || true
    grep -qs '^127\.0\.0\.1[[:space:]].*localhost' "$SID_DIR/etc/hosts" \
        || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >>"$SID_DIR/etc/hosts"
    # The mirror reachable here may serve a frozen copy of sid whose InRelease
    # is past its Valid-Until date (seen: "expired (invalid since 23d ...)");
    # the signature is still checked.
    echo 'Acquire::Check-Valid-Until "false";' >"$SID_DIR/etc/apt/apt.conf.d/99sid-chroot"
    # Never start a service from a package's postinst (Dovecot would listen on 143).
    printf '#!/bin/sh\nexit 101\n' >"$SID_DIR/usr/sbin/policy-rc.d"
    chmod 755 "$SID_DIR/usr/sbin/policy-rc.d"
    mount_all

    in_chroot apt-get update -qq
    local pkg have=() missing=() from_exp=() exp=0
    for pkg in "${WANTED[@]}"; do
        if has_candidate "$pkg"; then have+=("$pkg"); else missing+=("$pkg"); fi
    done
    # A python3.X that sid does not have yet may be in experimental.
    if [ ${#missing[@]} -gt 0 ] && [ "${SID_EXPERIMENTAL:-1}" = 1 ]; then
        echo "deb $MIRROR experimental main" >"$SID_DIR/etc/apt/sources.list.d/experimental.list"
        in_chroot apt-get update -qq
        exp=1
        local still=()
        for pkg in "${missing[@]}"; do
            if has_candidate "$pkg"; then from_exp+=("$pkg"); else still+=("$pkg"); fi
        done
        missing=("${still[@]+"${still[@]}"}")
    fi
    note "installing from $SUITE: ${have[*]}"
    in_chroot apt-get install -y -q --no-install-recommends "${have[@]}"
    if [ ${#from_exp[@]} -gt 0 ]; then
        note "installing from experimental: ${from_exp[*]}"
        # pkg/experimental takes only these (and what they need) from experimental.
        in_chroot apt-get install -y -q --no-install-recommends "${from_exp[@]/%//experimental}"
    elif [ $exp = 1 ]; then
        rm -f "$SID_DIR/etc/apt/sources.list.d/experimental.list"
    fi
    printf '%s\n' "${missing[@]+"${missing[@]}"}" >"$SID_DIR/etc/sid-chroot.missing"
    [ ${#from_exp[@]} -eq 0 ] || printf '%s\n' "${from_exp[@]}" >"$SID_DIR/etc/sid-chroot.experimental"
    for pkg in "${missing[@]+"${missing[@]}"}"; do
        if printf '%s\n' "${OPTIONAL[@]}" | grep -qx "$pkg"; then
            note "not available (optional): $pkg"
        else
            note "WARNING: not available: $pkg"
        fi
    done

    # Test-only packages from PyPI (see the header), as CI installs them.  pip
    # uses the host's CA bundle: PyPI may be reached through a TLS-inspecting
    # proxy whose CA only the host trusts.  Debian's python3-imapclient and
    # python3-imap-tools are the fallback (Debian's ruff has no Python module,
    # and tests/test_lint.py runs `python -m ruff`).
    cp /etc/ssl/certs/ca-certificates.crt "$SID_DIR/etc/ssl/host-ca-certificates.crt" 2>/dev/null || true
    mkdir -p "$SID_DIR/opt/pydeps/common"
    if ! in_chroot python3 -m pip install -q --disable-pip-version-check --no-cache-dir --root-user-action=ignore \
            "${PIP_CERT[@]}" --target /opt/pydeps/common "${PYPI_COMMON[@]}"; then
        note "WARNING: pip install ${PYPI_COMMON[*]} failed; trying Debian's packages"
        in_chroot apt-get install -y -q --no-install-recommends python3-imapclient python3-imap-tools \
            || note "WARNING: no IMAPClient/imap_tools: tests/realserver/test_tools.py will skip"
    fi
    local py ver
    for py in $(default_pythons); do
        [ -x "$SID_DIR/usr/bin/$py" ] || continue
        in_chroot "$py" -c 'import pytest, setuptools' 2>/dev/null && continue
        ver=$(in_chroot "$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        note "$py cannot import pytest/setuptools from Debian; pip-installing them for $ver"
        in_chroot python3 -m pip install -q --disable-pip-version-check --no-cache-dir --root-user-action=ignore "${PIP_CERT[@]}" \
            --python-version "$ver" --only-binary=:all: --target "/opt/pydeps/$ver" pytest setuptools
    done
    in_chroot apt-get clean
    date -u +%FT%TZ >"$SID_DIR/$MARKER"
    note "chroot built in $((SECONDS - t0)) s"
    cleanup
}

default_pythons() {
    local py
    for py in python3.13 python3.14 python3.15 python3.14d; do
        if [ "$py" = python3.14d ]; then
            [ -x "$SID_DIR/usr/bin/$py" ] && echo "$py"
        else
            echo "$py"
        fi
    done
}

copy_checkout() {  # tracked and untracked-but-not-ignored files, not build artefacts
    rm -rf --one-file-system "$SID_DIR/src"
    mkdir -p "$SID_DIR/src"
    if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -c safe.directory="$REPO" -C "$REPO" ls-files -z -co --exclude-standard \
            | (cd "$REPO" && while IFS= read -r -d '' f; do
                   [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
               done) \
            | tar -C "$REPO" --null -T - -cf - | tar -C "$SID_DIR/src" -xf -
    else
        tar -C "$REPO" --exclude=build --exclude=dist --exclude='*.egg-info' --exclude='*.so' \
            --exclude='*.o' --exclude=__pycache__ --exclude=.pytest_cache -cf - . \
            | tar -C "$SID_DIR/src" -xf -
    fi
}

cmd_test() {
    [ -e "$SID_DIR/$MARKER" ] || die "no chroot at $SID_DIR; run: $0 build"
    local pys=("$@")
    [ ${#pys[@]} -gt 0 ] || mapfile -t pys < <(default_pythons)
    mount_all
    copy_checkout
    mkdir -p "$SID_DIR/logs"
    note "checkout copied to $SID_DIR/src ($(find "$SID_DIR/src" -type f | wc -l) files)"
    local py ver pypath rc status=0 t0 summary=() timeout_opt
    local werror=0; [ "${SID_WERROR:-0}" = 1 ] && werror=1
    for py in "${pys[@]}"; do
        t0=$SECONDS
        if ! in_chroot sh -c "command -v $py" >/dev/null 2>&1; then
            summary+=("$py: NOT INSTALLED in the chroot"); status=1; continue
        fi
        ver=$(in_chroot "$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        pypath=/opt/pydeps/common
        [ -d "$SID_DIR/opt/pydeps/$ver" ] && pypath="/opt/pydeps/$ver:$pypath"
        note "$py ($(in_chroot "$py" -VV | head -1)): build"
        if ! in_chroot sh -c "cd /src && PYTHONPATH=$pypath IMAPLIB_C_WERROR=$werror \
                $py setup.py build_ext --inplace" >"$SID_DIR/logs/build-$py.log" 2>&1; then
            summary+=("$py: BUILD FAILED (see $SID_DIR/logs/build-$py.log)"); status=1
            grep -E 'error|Error' "$SID_DIR/logs/build-$py.log" | head -30 >&2
            continue
        fi
        local nwarn
        nwarn=$(grep -c 'warning:' "$SID_DIR/logs/build-$py.log" || true)
        [ "$nwarn" = 0 ] || note "$py: $nwarn compiler warnings (see $SID_DIR/logs/build-$py.log)"
        note "$py: pytest"
        rc=0
        timeout_opt=
        if [ "${SID_TIMEOUT:-180}" != 0 ] && in_chroot "$py" -c 'import pytest_timeout' 2>/dev/null; then
            timeout_opt="--timeout=${SID_TIMEOUT:-180}"
        fi
        # PIP_CERT: tests/test_fresh_venv.py pip-installs from PyPI (see build).
        in_chroot sh -c "cd /src && PYTHONPATH=$pypath IMAPLIB_C_REQUIRE_DOVECOT=1 \
                IMAPLIB_C_REALSERVER_TIMEOUT=$(printf %q "${IMAPLIB_C_REALSERVER_TIMEOUT:-}") \
                IMAPLIB_C_REALSERVER_STEP_TIMEOUT=$(printf %q "${IMAPLIB_C_REALSERVER_STEP_TIMEOUT:-}") \
                PIP_CERT=/etc/ssl/host-ca-certificates.crt PIP_ROOT_USER_ACTION=ignore \
                exec timeout -k 30 ${SID_RUN_TIMEOUT:-3600} \
                $py -m pytest -q -p no:cacheprovider $timeout_opt ${SID_PYTEST_ARGS:-tests}" \
            2>&1 | tee "$SID_DIR/logs/pytest-$py.log" || rc=$?
        [ "$rc" = 0 ] || status=1
        kill_chroot_procs
        summary+=("$py: pytest exit $rc in $((SECONDS - t0)) s: $(tail -n 1 "$SID_DIR/logs/pytest-$py.log")")
    done
    echo
    printf '%s\n' "${summary[@]}"
    return $status
}

cmd_packaging() {  # the sdist and a wheel per interpreter, in fresh venvs (tools/packaging-check.sh)
    [ -e "$SID_DIR/$MARKER" ] || die "no chroot at $SID_DIR; run: $0 build"
    local pys=("$@")
    [ ${#pys[@]} -gt 0 ] || mapfile -t pys < <(default_pythons)
    mount_all
    copy_checkout
    local rc=0
    in_chroot sh -c "cd /src && PIP_CERT=/etc/ssl/host-ca-certificates.crt PIP_ROOT_USER_ACTION=ignore \
            exec timeout -k 30 ${SID_RUN_TIMEOUT:-3600} bash tools/packaging-check.sh ${pys[*]}" || rc=$?
    kill_chroot_procs
    return $rc
}

cmd_shell() {
    [ -e "$SID_DIR/$MARKER" ] || die "no chroot at $SID_DIR; run: $0 build"
    mount_all
    [ -d "$SID_DIR/src" ] || copy_checkout
    chroot "$SID_DIR" /usr/bin/env -i HOME=/root PATH="$CHROOT_PATH" LANG=C.UTF-8 \
        TERM="${TERM:-dumb}" PYTHONPATH=/opt/pydeps/common /bin/bash -c 'cd /src && exec bash -i'
}

case "${1:-}" in
    build) shift; cmd_build "$@" ;;
    test) shift; cmd_test "$@" ;;
    packaging) shift; cmd_packaging "$@" ;;
    shell) shift; cmd_shell "$@" ;;
    *) sed -n '2,12p' "$SELF" >&2; exit 2 ;;
esac
