#!/usr/bin/env bash
# Build a free-threaded (PEP 703, --disable-gil) CPython from Debian's source
# package and install it under $FT_PREFIX, or reuse one already there.
#
#   tools/free-threaded-python.sh        # last line of stdout: the interpreter
#   PY=$(tools/free-threaded-python.sh | tail -n1)
#
# If $FT_PREFIX/bin/python3.Xt exists, runs without the GIL and imports ssl and
# zlib, the script only prints its path.  Otherwise it (as root) installs the
# build dependencies with apt-get, downloads the source package with
# `apt-get source` from a private apt configuration (a deb-src line for
# $FT_SUITE; the host's own apt sources are not touched), unpacks the upstream
# tarball of the package (the .orig.tar.*, i.e. unpatched CPython, so that the
# install layout is upstream's and not Debian's), then runs
#   configure --disable-gil --prefix=$FT_PREFIX; make -j; make install
# (make install runs ensurepip, so `python3.Xt -m pip` works).  If the mirror
# lacks the newest version's files, older versions listed in the index are tried.
# Everything but the interpreter path goes to stderr; logs in $FT_BUILD_DIR/logs.
#
# Time: about a second when already installed; a build takes ~5 minutes on 2
# cores (no --enable-optimizations; 4 min 20 s for 3.13.15 on 2026-11-29), plus
# ~35 MB of downloads.  Note: on 2026-11-29 the mirror here listed python3.14
# 3.14.9-1/3.14.10-1 in sid but answered 404 for their source files, so the
# default failed; FT_DEBIAN_PACKAGE=python3.13 (3.13.15-1) built fine.
#
# Environment:
#   FT_PREFIX           install prefix (default /work/ft-python)
#   FT_DEBIAN_PACKAGE   Debian source package (default python3.13 -> python3.13t; python3.14
#                       once the mirror serves its source)
#   FT_DEBIAN_VERSION   exact Debian version to use (default: newest available)
#   FT_BUILD_DIR        work folder for apt lists, source and build (default /work/ft-build)
#   FT_MIRROR, FT_SUITE Debian mirror and suite (default http://deb.debian.org/debian, sid)
#   FT_JOBS             make -j (default: nproc)
set -euo pipefail

PREFIX=${FT_PREFIX:-/work/ft-python}
PKG=${FT_DEBIAN_PACKAGE:-python3.13}
BUILD=${FT_BUILD_DIR:-/work/ft-build}
MIRROR=${FT_MIRROR:-http://deb.debian.org/debian}
SUITE=${FT_SUITE:-sid}
JOBS=${FT_JOBS:-$(nproc)}
PY=$PREFIX/bin/${PKG}t
LOGS=$BUILD/logs

log() { echo "free-threaded-python: $*" >&2; }
works() {
    [ -x "$PY" ] && "$PY" -c 'import sys, ssl, zlib; sys.exit(sys._is_gil_enabled())' 2>/dev/null
}
run() {  # run LOGNAME CMD...: output to $LOGS/LOGNAME.log, its tail on failure
    local f=$LOGS/$1.log; shift
    if ! "$@" >"$f" 2>&1; then log "failed: $* (see $f)"; tail -n 30 "$f" >&2; exit 1; fi
}

if works; then echo "$PY"; exit 0; fi
[[ $PKG =~ ^python3\.[0-9]+$ ]] || { log "FT_DEBIAN_PACKAGE must look like python3.X"; exit 2; }
mkdir -p "$LOGS" "$BUILD/apt/lists/partial" "$BUILD/apt/cache/archives/partial"
cd "$BUILD"

# 1. Build dependencies (on the host; those already installed are skipped).
DEPS=(build-essential pkg-config dpkg-dev xz-utils ca-certificates libssl-dev zlib1g-dev
      libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev uuid-dev
      libzstd-dev libgdbm-dev libgdbm-compat-dev libncurses-dev)
MISSING=()
for p in "${DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if [ ${#MISSING[@]} -gt 0 ]; then
    log "installing build dependencies: ${MISSING[*]}"
    run apt-update-host apt-get update
    DEBIAN_FRONTEND=noninteractive; export DEBIAN_FRONTEND
    run apt-install apt-get install -y --no-install-recommends "${MISSING[@]}"
fi

# 2. Debian's source package, from a private apt configuration.
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
    >apt/sources.list
APT=(-o Dir::Etc::SourceList="$BUILD/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
     -o Dir::State::Lists="$BUILD/apt/lists" -o Dir::Cache="$BUILD/apt/cache"
     -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
log "apt-get update ($SUITE sources)"
run apt-update apt-get "${APT[@]}" update
if [ -n "${FT_DEBIAN_VERSION:-}" ]; then
    VERSIONS=("$FT_DEBIAN_VERSION")
else
    mapfile -t VERSIONS < <(apt-cache "${APT[@]}" showsrc "$PKG" | awk '/^Version:/ {print $2}' | sort -Vru)
fi
[ ${#VERSIONS[@]} -gt 0 ] || { log "no source package $PKG in $SUITE"; exit 1; }
mkdir -p src && cd src
VER=
for v in "${VERSIONS[@]}"; do
    log "downloading source package $PKG $v"
    if apt-get "${APT[@]}" source --download-only "$PKG=$v" >"$LOGS/apt-source.log" 2>&1; then VER=$v; break; fi
    log "  not available: $(grep -m1 '^E:' "$LOGS/apt-source.log" || tail -n1 "$LOGS/apt-source.log")"
done
[ -n "$VER" ] || { log "could not download any version of $PKG (${VERSIONS[*]}) from $MIRROR"; exit 1; }
UPSTREAM=${VER#*:}; UPSTREAM=${UPSTREAM%-*}
ORIG=$(ls "${PKG}_${UPSTREAM}".orig.tar.* | grep -v '\.asc$' | head -n1)
SRC=$BUILD/src/$PKG-$UPSTREAM
rm -rf "$SRC" && mkdir "$SRC"
log "unpacking $ORIG"
tar -xf "$ORIG" -C "$SRC" --strip-components=1

# 3. Build and install, out of tree.
OBJ=$BUILD/obj-$PKG-$UPSTREAM
rm -rf "$OBJ" && mkdir "$OBJ" && cd "$OBJ"
start=$SECONDS
log "configure --disable-gil --prefix=$PREFIX"
run configure "$SRC/configure" --disable-gil --prefix="$PREFIX"
log "make -j$JOBS (logs: $LOGS/make.log)"
run make make -j"$JOBS"
log "make install"
run make-install make install
log "built and installed in $((SECONDS - start)) s"

works || { log "$PY does not work (GIL enabled, or ssl/zlib missing)"; exit 1; }
"$PY" -m pip --version >&2
"$PY" -c 'import sys; print(sys.version)' >&2
echo "$PY"
