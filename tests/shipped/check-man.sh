#!/bin/sh
# Renders every page under man/ with man -l and fails on any warning groff
# or man prints (a bad macro, an unbreakable line, a broken font request).
# Usage: check-man.sh MANDIR
set -eu
if ! command -v man >/dev/null; then
  echo "check-man: man (man-db) not installed" >&2
  exit 77
fi
status=0
count=0
for page in "$1"/*.[1-8]; do
  count=$((count + 1))
  out=$(MANWIDTH=80 man -l --warnings "$page" 2>&1 >/dev/null) || { echo "$page: man failed"; status=1; }
  if [ -n "$out" ]; then
    echo "$page:"
    echo "$out"
    status=1
  fi
done
[ "$count" -gt 0 ] || { echo "check-man: no pages in $1"; exit 1; }
[ $status -eq 0 ] && echo "check-man: $count pages render without warnings"
exit $status
