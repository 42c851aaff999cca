# Sourced by scripts/bench.sh and scripts/drills.sh: the programs and the
# campaign both run giftgated on, against giftgate-loadgen. Needs $root.

# Builds the programs (unless $bin names a build directory that has them)
# and sets $bin, $loadgen, $giftgated and $giftctl.
loadgen_programs() {
  if [ -z "${bin:-}" ]; then
    GIFTGATE_BUILD_TARGETS="giftgated giftctl giftgate-loadgen" "$root/scripts/bootstrap.sh" >&2
    bin=$root/build
  fi
  loadgen=$bin/tests/giftgate-loadgen
  giftgated=$bin/daemon/gateway/giftgated
  giftctl=$bin/daemon/giftctl/giftctl
}

# giftgated's configuration: $1 the generator's port, $2 the database; more
# lines from stdin go after the smsc settings (indent them by two spaces to
# add to smsc, or start a new section).
loadgen_config() {
  local today extra
  today=$(date +%Y-%m-%d)
  extra=$(cat)
  cat <<END
smsc:
  port: $1
  rate: 0
$extra
storage:
  path: $2
templates:
  path: $root/templates/messages.yaml
ussd:
  menus: $root/templates/menus.yaml
metrics:
  port: 0
limits:
  # The generator's 20 merchant numbers verify at up to 50 a second each, far
  # past what one shop's number does; the members' limits stay as shipped.
  merchant_mo_per_minute: 0
  merchant_mo_per_day: 0
campaign:
  start: $(date -d "$today -1 day" +%Y-%m-%d)
  end: $(date -d "$today +60 days" +%Y-%m-%d)
  max_points_change: 10000000
END
}

# $2 members, each with points for any number of redemptions (10,000,000,
# the default campaign.max_balance: 10,000 tier C vouchers), 20 merchants
# and stock for every redemption, in the database $1/campaign.db.
loadgen_campaign() {
  local dir=$1 members=$2 kind city
  loadgen_config 2775 "$dir/campaign.db" < /dev/null > "$dir/setup.yaml"
  "$loadgen" csv --dir "$dir" --members "$members" --points 10000000
  for kind in members merchants; do
    "$giftctl" --config "$dir/setup.yaml" --operator loadgen --quiet \
      import "$kind" "$dir/$kind.csv" > /dev/null
  done
  for city in beijing shanghai shenzhen nanjing fuzhou; do
    "$giftctl" --config "$dir/setup.yaml" --operator loadgen --quiet \
      stock C "$city" 100000000 > /dev/null
  done
}
