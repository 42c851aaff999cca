#!/bin/sh
# Checks conf/giftgate-backup.service and .timer with systemd-analyze verify
# (any complaint fails), then runs the service's commands as systemd would
# hand them to the shell, with the built giftctl, on a scratch database:
# three runs with KEEP=2 must leave two copies, each one that giftctl check
# passes.
# Usage: check-backup-timer.sh CONF-DIR GIFTCTL
set -eu
conf=$1
giftctl=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "check-backup-timer: systemd-analyze not installed" >&2
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for unit in giftgate-backup.service giftgate-backup.timer; do
  sed -e "s|/usr/local/bin/giftctl|$giftctl|g" -e '/^Documentation=/d' -e '/^User=/d' \
      -e '/^Group=/d' "$conf/$unit" > "$dir/$unit"
done
out=$(systemd-analyze verify "$dir/giftgate-backup.timer" "$dir/giftgate-backup.service" 2>&1) ||
  { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi

# The service's commands: its Exec lines joined where they continue, with
# systemd's escapes ($$, %%) undone and its environment set.
mkdir "$dir/backups"
cat > "$dir/giftgate.yaml" <<YAML
storage:
  path: $dir/campaign.db
YAML
printf 'msisdn,city,points\n13800138000,beijing,100\n' > "$dir/members.csv"
"$giftctl" --config "$dir/giftgate.yaml" import members "$dir/members.csv" >/dev/null
sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$dir/giftgate-backup.service" |
  sed -n -e 's/^ExecStart=\/bin\/sh -ec //p' -e 's/^ExecStartPost=\/bin\/sh -ec //p' |
  sed -e "s/^'//" -e "s/'\$//" -e 's/\$\$/$/g' -e 's/%%/%/g' \
      -e "s|/etc/giftgate/giftgate.yaml|$dir/giftgate.yaml|g" > "$dir/commands"
[ "$(wc -l < "$dir/commands")" -eq 2 ] || { echo "check-backup-timer: expected ExecStart and ExecStartPost"; cat "$dir/commands"; exit 1; }
for run in 1 2 3; do
  while IFS= read -r command; do
    KEEP=2 BACKUPS=$dir/backups sh -ec "$command" >/dev/null ||
      { echo "check-backup-timer: run $run failed: $command"; exit 1; }
  done < "$dir/commands"
  sleep 1  # the copies are named by the second
done
copies=$(ls "$dir/backups" | wc -l)
[ "$copies" -eq 2 ] || { echo "check-backup-timer: $copies copies kept, not 2"; ls -l "$dir/backups"; exit 1; }
for f in "$dir"/backups/*.db; do
  "$giftctl" --config "$dir/giftgate.yaml" check --db "$f" >/dev/null ||
    { echo "check-backup-timer: $f fails giftctl check"; exit 1; }
done
echo "check-backup-timer: units verified; three runs kept the newest 2 copies, each checked"
