#!/bin/sh
# man/giftctl.1 against giftctl's parser, so that neither can change alone:
# - every command giftctl knows has an entry under COMMANDS, and every entry
#   there names a command it knows;
# - the options on a command's entry are exactly the options the command
#   takes (a global option may be named there too);
# - every global option has an entry under OPTIONS, and every option with an
#   entry there is one giftctl takes.
# giftctl's side is what it parses with (giftctl --command-tree, a hidden
# flag that dumps its CLI11 tree); the page's side is the page as groff
# renders it, each .TP tag marked and on a line of its own.
# Usage: check-giftctl-man.sh GIFTCTL MANPAGE
set -eu
if ! command -v groff >/dev/null; then
  echo "check-giftctl-man: groff not installed" >&2
  exit 77
fi
tree=$(mktemp)
page=$(mktemp)
trap 'rm -f "$tree" "$page"' EXIT
"$1" --command-tree > "$tree"
[ -s "$tree" ] || { echo "check-giftctl-man: $1 --command-tree printed nothing"; exit 1; }
# The line after each .TP is its tag: mark it, and give it a line of its own.
sed -e 's/^\.TP$/.TP 1n/' -e '/^\.TP/{n;s/^/@TAG@\\c\n/}' "$2" |
  groff -man -Tascii -P-cbou -rLL=400n > "$page"

awk -F'\t' -v page="$2" '
  FNR == NR {  # giftctl --command-tree: "global<TAB><TAB>opts", "command<TAB>path<TAB>opts"
    n = split($3, opts, " ")
    if ($1 == "global") for (i = 1; i <= n; i++) global[opts[i]] = 1
    if ($1 == "command") {
      command[$2] = 1
      for (i = 1; i <= n; i++) { own[$2 SUBSEP opts[i]] = 1; known[opts[i]] = 1 }
    }
    next
  }
  /^[A-Z][A-Z ]*$/ { section = $0; next }
  !/@TAG@/ { next }
  {
    sub(/^ *@TAG@/, "")
    tag = $0
    if (section == "COMMANDS") {
      # The command is the tag'"'"'s leading lower-case words; then come its
      # arguments (in capitals) and options.
      n = split(tag, words, " ")
      path = ""
      for (i = 1; i <= n && words[i] ~ /^[a-z][a-z0-9-]*$/; i++)
        path = path (path == "" ? "" : " ") words[i]
      if (!(path in command)) {
        printf "%s: COMMANDS has \"%s\", which giftctl does not know\n", page, tag
        bad = 1
        next
      }
      documented[path] = 1
      rest = tag
      while (match(rest, /--[a-z][a-z-]*/)) {
        opt = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        if (!((path SUBSEP opt) in own) && !(opt in global)) {
          printf "%s: COMMANDS gives %s the option %s, which giftctl %s does not take\n",
                 page, path, opt, path
          bad = 1
        }
        on_entry[path SUBSEP opt] = 1
      }
    } else if (section == "OPTIONS") {
      split(tag, words, " ")
      opt = words[1]
      if (!(opt in global) && !(opt in known)) {
        printf "%s: OPTIONS has %s, which no giftctl command takes\n", page, opt
        bad = 1
      }
      in_options[opt] = 1
    }
  }
  END {
    for (path in command)
      if (!(path in documented)) {
        printf "%s: giftctl %s has no entry under COMMANDS\n", page, path
        bad = 1
      }
    for (key in own)
      if (!(key in on_entry)) {
        split(key, parts, SUBSEP)
        printf "%s: giftctl %s takes %s, which its entry under COMMANDS does not name\n",
               page, parts[1], parts[2]
        bad = 1
      }
    for (opt in global)
      if (!(opt in in_options)) {
        printf "%s: the global option %s has no entry under OPTIONS\n", page, opt
        bad = 1
      }
    if (length(command) == 0 || length(documented) == 0) {
      print "check-giftctl-man: no commands read; is the page or the tree empty?"
      bad = 1
    }
    if (!bad) printf "check-giftctl-man: %d commands, their options and %d global options agree\n",
                      length(command), length(global)
    exit bad
  }
' "$tree" "$page"
