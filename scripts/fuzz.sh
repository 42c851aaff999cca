#!/usr/bin/env bash
# A long run of one libFuzzer target, built with clang, ASan and UBSan in
# build-fuzz: decode (the PDU framer and decoder, tests/fuzz/fuzz_decode.cpp),
# receipt (delivery receipt text), keywords (what members text) or csv (the
# CSV reader and the importer). Prints libFuzzer's last status line, the
# executions and the crashes (inputs that crashed are kept as
# build-fuzz/TARGET-crash-*).
#
#   scripts/fuzz.sh              # decode, 600 seconds
#   scripts/fuzz.sh 60           # another length, in seconds
#   scripts/fuzz.sh 60 receipt   # another target
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
target=${2:-decode}
case $target in
  decode|receipt|keywords|csv) ;;
  *) echo "fuzz.sh: no fuzz target $target (decode, receipt, keywords, csv)" >&2; exit 2 ;;
esac
# libFuzzer comes with clang's runtime; both from Debian when missing.
if ! command -v clang++ >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >&2 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >&2; }
fi
GIFTGATE_BUILD_DIR=$root/build-fuzz \
GIFTGATE_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++ -DGIFTGATE_FUZZ=ON -DGIFTGATE_BUILD_TESTS=OFF" \
GIFTGATE_BUILD_TARGETS=giftgate-fuzz-$target "$root/scripts/bootstrap.sh" >&2
fuzzer=$root/build-fuzz/tests/giftgate-fuzz-$target
corpus=$root/build-fuzz/fuzz-corpus-long/$target
mkdir -p "$corpus"
log=$root/build-fuzz/fuzz-long-$target.log
stamp=$root/build-fuzz/fuzz-long-$target.started
touch "$stamp"
status=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$root/build-fuzz/$target-" "$corpus" "$root/tests/fuzz/corpus/$target" > "$log" 2>&1 ||
  status=$?
crashes=$(find "$root/build-fuzz" -maxdepth 1 \( -name "$target-crash-*" -o -name "$target-leak-*" -o -name "$target-timeout-*" -o -name "$target-oom-*" \) -newer "$stamp" | wc -l)
grep -E '^#[0-9]+' "$log" | tail -n 1
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: target=$target seconds=$seconds executions=${execs:-?} crashes=$crashes exit=$status"
[ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]
