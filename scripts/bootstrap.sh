#!/usr/bin/env bash
# Installs what giftgate's build, tests and demo use, then configures and
# builds it. Safe to run again: it installs only what is missing and rebuilds
# only what changed.
#
#   scripts/bootstrap.sh            # build in ./build
#   GIFTGATE_BUILD_DIR=/tmp/b scripts/bootstrap.sh
#   GIFTGATE_CMAKE_ARGS="-DGIFTGATE_SANITIZE=ON" scripts/bootstrap.sh
#   GIFTGATE_BUILD_TARGETS="giftgated giftctl" scripts/bootstrap.sh   # only these
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${GIFTGATE_BUILD_DIR:-$root/build}

say() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

# Debian packages: the build's libraries and tools, and what the tests
# check the shipped files with (systemd's systemd-analyze, for verify and
# for security --offline, which needs systemd 250 or later: bookworm has
# 252; man-db's man), and the sqlite3 program (scripts/bench-push.sh
# generates its members and reads the results with it), and curl (the HTTP
# API's client in the tests and the demo), and chromium with a small CJK
# font (fonts-wqy-microhei): the console's browser tests and the demo's
# screenshots drive Debian's chromium headless, never a browser downloaded
# at test time, and its Chinese pages need a font that has the characters
# (without one they render as boxes and the screenshots show nothing
# readable). Node.js may come from elsewhere (NodeSource); Debian's is
# installed only when there is none.
packages=(cmake make g++ pkg-config openssl ca-certificates tzdata
          libsmpp34-dev libboost-dev libfmt-dev libyaml-cpp-dev doctest-dev
          libsqlite3-dev libssl-dev libhowardhinnant-date-dev libcli11-dev nlohmann-json3-dev libutf8proc-dev systemd man-db libnet-smpp-perl
          sqlite3 curl chromium fonts-wqy-microhei)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages: the SMSC simulator, pinned by its package-lock.json.
sim=$root/scripts/smsc-sim
if [ ! -d "$sim/node_modules/smpp" ] ||
   [ "$sim/package-lock.json" -nt "$sim/node_modules/.package-lock.json" ]; then
  say "installing the simulator's npm packages"
  (cd "$sim" && npm ci --no-audit --no-fund --loglevel=error)
fi

# npm packages: the browser tests' driver (playwright-core, which drives
# the chromium installed above), pinned by its package-lock.json the same
# way, so every machine runs the same driver. playwright-core downloads no
# browser of its own; the variable says so to any install script as well.
browser=$root/tests/browser
if [ ! -d "$browser/node_modules/playwright-core" ] ||
   [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  say "installing the browser tests' npm packages"
  (cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

say "building in $build"
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${GIFTGATE_CMAKE_ARGS:-} >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j2 ${GIFTGATE_BUILD_TARGETS:+--target $GIFTGATE_BUILD_TARGETS}
