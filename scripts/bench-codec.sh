#!/usr/bin/env bash
# Codec speed: PDUs encoded and decoded again per second, over the mix of
# submit_sm (UCS-2, 140 octets), submit_sm_resp, deliver_sm receipts with
# TLVs, deliver_sm_resp and enquire_link. One core, optimised build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh" >&2
"$root/build/tests/giftgate-bench-codec" --iterations "${1:-200000}"
