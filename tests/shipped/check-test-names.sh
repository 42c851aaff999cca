#!/bin/sh
# Test names must not contain ';': doctest_discover_tests hands them to
# ctest as a CMake list, which cuts them there, and the cut name selects no
# test at all, so the case "passes" without running.
# Usage: check-test-names.sh TESTS-DIR
set -eu
found=$(grep -rn --include='*.cpp' 'TEST_CASE("[^"]*;' "$1" || true)
if [ -n "$found" ]; then
  echo "check-test-names: these names contain ';' and would never run:"
  echo "$found"
  exit 1
fi
echo "check-test-names: ok"
