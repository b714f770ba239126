#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Checks that `verity-root --help` and `verity-root VERB --help` agree with the man page
# source: every verb has a "## VERB" section, every option printed by --help appears
# there in bold (*--opt*), and every option the man page gives a verb is in its --help.
#   help-vs-man.sh VERITY-ROOT-BINARY MAN-SOURCE(verity-root.1.scd)
# Prints one line per problem; exit status 0 when they agree.
set -u
bin=$1 man=$2
problems=0
problem() { echo "help-vs-man: $*"; problems=$((problems + 1)); }

# Option names (--long, -x) at the start of the indented lines of a --help text.
help_options() {
    sed -nE 's/^ +(-[a-zA-Z0-9](, )?)?(--[a-z0-9][a-z0-9-]*)?.*/\1 \3/p' | tr ', ' '\n\n' | grep -E '^-' | sort -u
}
# Bold option terms (*--opt*, *-x*) of one "## VERB" section, or of "# OPTIONS".
man_options() { # section-header-regex
    awk -v h="$1" '$0 ~ "^#" { on = ($0 ~ h) } on' "$man" |
        grep -oE '^\*-[a-zA-Z0-9-]+\*|^\*-[a-zA-Z0-9]\*, \*--[a-z0-9-]+\*' | tr -d '*' | tr ', ' '\n\n' | grep -E '^-' | sort -u
}

main_help=$("$bin" --help) || { problem "$bin --help failed"; exit 1; }
verbs=$(printf '%s\n' "$main_help" | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
[ -n "$verbs" ] || problem "no verbs found in $bin --help"

for o in $(printf '%s\n' "$main_help" | awk '/^Verbs:/ { v = 1 } v && /^$/ { v = 0; next } !v' | help_options); do
    man_options '^# OPTIONS' | grep -qxF -- "$o" || problem "$o (verity-root --help) is not in # OPTIONS of $man"
done
for v in $verbs; do
    grep -qxF "## $v" "$man" || { problem "verb $v (verity-root --help) has no '## $v' section in $man"; continue; }
    grep -qF "*verity-root* *$v*" "$man" || problem "verb $v is not in the SYNOPSIS of $man"
    vhelp=$("$bin" "$v" --help) || { problem "$bin $v --help failed"; continue; }
    hopts=$(printf '%s\n' "$vhelp" | help_options)
    mopts=$(man_options "^## $v\$")
    for o in $hopts; do
        printf '%s\n' "$mopts" | grep -qxF -- "$o" || problem "$o (verity-root $v --help) is not documented in '## $v' of $man"
    done
    for o in $mopts; do
        printf '%s\n' "$hopts" | grep -qxF -- "$o" || problem "$o is documented in '## $v' of $man but not in verity-root $v --help"
    done
done
for s in $(grep -E '^## ' "$man" | sed -n '/^## /s/^## //p'); do
    printf '%s\n' $verbs | grep -qxF "$s" || problem "'## $s' in $man is not a verb of verity-root --help"
done
[ "$problems" -eq 0 ] && echo "help-vs-man: $(echo $verbs | wc -w) verb(s), options agree with $man"
[ "$problems" -eq 0 ]
