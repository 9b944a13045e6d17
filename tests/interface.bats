#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# One interface per tool (issue 10): usage() is the man page's SYNOPSIS;
# --help, the man page, and the bash, zsh and fish completions name the
# same options; every tool has the same short shape (no function in cmd/
# over 80 lines).  Walks every tool in cmd/, so a new tool is covered.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	TOOLS=()
	for t in "$ROOT"/cmd/*.c; do
		t=${t##*/}
		TOOLS+=("${t%.c}")
	done
}

# squeeze: whitespace runs to one space, none at the ends
squeeze() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }

# man_text TOOL: the rendered man page, without overstrikes
man_text() { mandoc -Tascii "$ROOT/man/$1.1" | sed 's/.\x08//g'; }

synopsis() { man_text "$1" | awk '/^SYNOPSIS/{p=1;next} /^[A-Z]/{p=0} p' | squeeze; }

# expand: option words, one a line; a group -lqv becomes -l -q -v
expand() {
	local w
	while read -r w; do
		if [[ $w == -[A-Za-z0-9][A-Za-z0-9]* ]]; then
			for ((i = 1; i < ${#w}; i++)); do printf -- "-%s\n" "${w:i:1}"; done
		else
			printf "%s\n" "$w"
		fi
	done | sort -u
}

# help_opts TOOL: the options in --help's option column (the text after
# two spaces is the description)
help_opts() {
	"$1" --help | grep -E '^  (-[A-Za-z0-9]|    --)' |
		perl -pe 's/^(\s+\S.*?)\s{2,}.*/$1/' |
		grep -oE -- '(^|[ ,])--?[A-Za-z0-9][-A-Za-z0-9]*' | tr -d ' ,' | expand
}

man_opts() {
	{
		synopsis "$1" | grep -oE -- '\[--?[A-Za-z0-9][-A-Za-z0-9]*|\| --?[A-Za-z0-9][-A-Za-z0-9]*' |
			sed 's/^[[|] *//'
		man_text "$1" | grep -E '^     -' |
			grep -oE -- '(^|[ ,])--?[A-Za-z0-9][-A-Za-z0-9]*' | tr -d ' ,'
	} | expand
}

bash_opts() {
	awk '/\$cur == -\*/{p=1} p && /compgen -W/{q=1} q{print} q && /'"'"' --/{exit}' \
		"$ROOT/completions/bash/$1" | sed "s/.*compgen -W '//; s/' --.*//" |
		tr -s ' \t' '\n\n' | grep -E '^-' | sort -u
}

zsh_opts() {
	grep -oE -- "[{,'*(]--?[A-Za-z0-9][-A-Za-z0-9]*" "$ROOT/completions/zsh/_$1" |
		sed "s/^[{,'*(]//" | sort -u
}

fish_opts() {
	{
		grep -oE -- ' -s [A-Za-z0-9]' "$ROOT/completions/fish/$1.fish" | sed 's/ -s /-/'
		grep -oE -- ' -l [a-z][-a-z0-9]*' "$ROOT/completions/fish/$1.fish" | sed 's/ -l /--/'
	} | sort -u
}

@test "interface: usage() is the man page's SYNOPSIS, for every tool" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	local t u
	for t in "${TOOLS[@]}"; do
		run --separate-stderr "$t" --no-such-option
		assert_status 2
		u=$(sed 1d <<<"$stderr" | squeeze)
		assert_equal "usage: $(synopsis "$t")" "$u" || fail "$t"
		# --help begins with the same usage
		assert_equal "$u" "$("$t" --help | awk '/^$/{exit} 1' | squeeze)" ||
			fail "$t --help"
	done
}

@test "interface: --help, the man page and the bash, zsh and fish completions name the same options" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	local t h
	for t in "${TOOLS[@]}"; do
		h=$(help_opts "$t")
		[ -n "$h" ] || fail "$t: no options found in --help"
		assert_equal "$h" "$(man_opts "$t")" || fail "$t: man page"
		assert_equal "$h" "$(bash_opts "$t")" || fail "$t: bash completion"
		assert_equal "$h" "$(zsh_opts "$t")" || fail "$t: zsh completion"
		assert_equal "$h" "$(fish_opts "$t")" || fail "$t: fish completion"
	done
}

@test "interface: a tool that takes -v for itself leaves the common --verbose its long name" {
	run --separate-stderr oai-speak --help
	assert_status 0
	[[ $output == *$'\n  -v, --voice voice '* ]] || fail "$output"
	[[ $output == *$'\n      --verbose '* ]] || fail "$output"
	[[ $output != *'-v, --verbose'* ]] || fail "$output"
	run --separate-stderr oai-models --help
	[[ $output == *$'\n  -v, --verbose '* ]] || fail "$output"
}

@test "interface: options are named by their long name in messages, by every tool" {
	local t
	for t in oai-chat oai-embed oai-moderate oai-speak oai-transcribe; do
		run --separate-stderr "$t" -m '' x </dev/null
		assert_status 2
		assert_stderr "$t: --model: empty model name"
	done
}

# funclen FILE...: "FILE:NAME LINES" for each function (style(9) layout:
# the name at the start of a line, braces alone in column 1)
funclen() {
	awk 'FNR == 1 { inf = 0 }
		/^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name) }
		/^\{$/ { start = FNR; inf = 1 }
		/^\}$/ && inf { print FILENAME ":" name, FNR - start - 1; inf = 0 }' "$@"
}

@test "interface: no function in cmd/ is longer than 80 lines" {
	local long
	[ "$(funclen "$ROOT"/cmd/*.c | wc -l)" -gt 50 ] || fail "found too few functions"
	long=$(funclen "$ROOT"/cmd/*.c | awk '$2 > 80')
	assert_equal '' "$long"
}
