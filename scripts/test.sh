#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
#
#   scripts/test.sh               # unit, integration, benchmark smoke, fuzz (with clang)
#   scripts/test.sh --sanitize    # the same, built with ASan and UBSan in ./build-sanitize
#   scripts/test.sh --no-fuzz     # skip the libFuzzer build and run
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
fuzz=1
for arg in "$@"; do
  case $arg in
    --sanitize) sanitize=1 ;;
    --no-fuzz) fuzz=0 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

build=$root/build
args="-DGIFTGATE_WERROR=ON"
if [ $sanitize -eq 1 ]; then
  build=$root/build-sanitize
  args="$args -DGIFTGATE_SANITIZE=ON"
fi

# The libFuzzer targets (the PDU decoder, delivery receipts, keywords, CSV
# imports) need clang; without it the fuzz runs are skipped.
fuzz_dir=
if [ $fuzz -eq 1 ] && command -v clang++ >/dev/null; then
  GIFTGATE_BUILD_DIR=$root/build-fuzz \
  GIFTGATE_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DGIFTGATE_FUZZ=ON -DGIFTGATE_BUILD_TESTS=OFF" \
  GIFTGATE_BUILD_TARGETS="giftgate-fuzz-decode giftgate-fuzz-receipt giftgate-fuzz-keywords giftgate-fuzz-csv" \
    "$root/scripts/bootstrap.sh"
  fuzz_dir=$root/build-fuzz/tests
else
  echo "test.sh: clang++ not found or --no-fuzz: the fuzz runs are skipped" >&2
fi

GIFTGATE_BUILD_DIR=$build GIFTGATE_CMAKE_ARGS="$args -DGIFTGATE_FUZZ_DIR=$fuzz_dir" \
  "$root/scripts/bootstrap.sh"

cd "$build"
# Every label: unit, process, integration, e2e, browser, shipped, bench, drills and
# fuzz (when built).
exec ctest --output-on-failure -j2 --timeout 300
