#!/usr/bin/env bash
# A long run of the PDU decoder's libFuzzer target (tests/fuzz/fuzz_decode.cpp),
# built with clang, ASan and UBSan in build-fuzz. Prints libFuzzer's last
# status line, the executions and the crashes (inputs that crashed are kept
# as build-fuzz/crash-*).
#
#   scripts/fuzz.sh          # 600 seconds
#   scripts/fuzz.sh 60       # another length, in seconds
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
# libFuzzer comes with clang's runtime; both from Debian when missing.
if ! command -v clang++ >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >&2 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >&2; }
fi
GIFTGATE_BUILD_DIR=$root/build-fuzz \
GIFTGATE_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DGIFTGATE_FUZZ=ON -DGIFTGATE_BUILD_TESTS=OFF" \
  "$root/scripts/bootstrap.sh" >&2
fuzzer=$root/build-fuzz/tests/giftgate-fuzz-decode
corpus=$root/build-fuzz/fuzz-corpus-long
mkdir -p "$corpus"
log=$root/build-fuzz/fuzz-long.log
stamp=$root/build-fuzz/fuzz-long.started
touch "$stamp"
status=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$root/build-fuzz/" "$corpus" "$root/tests/fuzz/corpus" > "$log" 2>&1 ||
  status=$?
crashes=$(find "$root/build-fuzz" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$stamp" | wc -l)
grep -E '^#[0-9]+' "$log" | tail -n 1
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: seconds=$seconds executions=${execs:-?} crashes=$crashes exit=$status"
[ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]
