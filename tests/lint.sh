#!/bin/sh
# lint.sh [FILE...] - the banned libc functions (STYLE.md 6) and exit codes written as bare numbers
# (STYLE.md 7: sysexits.h names only), and char buffers in .c files sized by a bare number. Exit 1
# naming each use. Without arguments it checks the tree,
# after proving on tests/lint/bad.c and good.c that each rule still catches what it should and
# nothing else, and the include rules (tests/includes.py: no include from a lower room to a higher
# one, no include circle between modules; self-tested on tests/lint/includes/).
bad='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|sscanf|atoi|atol|strncpy|strncat|tmpnam|mktemp)\s*\('

# A sysexits value (64..78) where an exit code goes: err_set's code, `return N;`, exit/_exit(N),
# `code = N`, `code == N`, `code : N` and a test's `(e.code, N`; `case N:`, `? N :`, a status
# variable's (rc, ret, status, st, ex, exitcode, WEXITSTATUS(..)) `= N`, `== N`, `!= N`, and a test's
# `cr_expect_eq(rc, N`. Sizes, columns and counts in that range ("char q[64]", "cap : 64",
# "#define FOLD_AT 78", "rc = 64 * 1024") are none of these. Comment lines are skipped.
ex='(6[4-9]|7[0-8])'
st='(rc|ret|status|st|ex|exitcode|WEXITSTATUS\([^)]*\))'
exitnum="err_set\([^,]*, *$ex\b|\breturn +$ex *;|\b_?exit *\( *$ex *\)|\bcode *(==|!=|=|:|,) *$ex\b"
exitnum="$exitnum|\bcase +$ex *:|\? *$ex *:|\b$st *(==|!=|=) *$ex *[;),|&?]"
exitnum="$exitnum|\bcr_(expect|assert)_(eq|neq)\( *$st *, *$ex\b"

# A char buffer (local, static, member or parameter) sized by a bare number: "char why[400];",
# "unsigned char digest[32]". Sizes are named (STYLE: every buffer size named); an expression of
# names ("[LIM_DOMAIN + 8]") is fine. Pointer arrays ("char *av[12]") are not buffers.
dim='\[[0-9][0-9a-fA-FxXuUlL]*\]'
bufsize="^\s*(static\s+)?(const\s+)?((un)?signed\s+)?(char|uint8_t)\s[^;=(*]*$dim"
bufsize="$bufsize|[(,]\s*(const\s+)?((un)?signed\s+)?(char|uint8_t)\s+\w+$dim"

# Bare buffer sizes let through, as "file<TAB>declaration", one a line: none left (the last
# thirteen were named after the issue-10 branches merged). Keep it empty.
sizes_pending=''

# Files changed on sibling branches of issue 10 when this rule came in: convert them to EX_ names
# after the merge, then empty this list.
pending=''

# banned FILE... - print each banned call; 0 when there is one.
banned() {
	grep -nE "$bad" "$@" 2>/dev/null
}

# exitnums FILE... - print each bare exit code; 0 when there is one.
exitnums() {
	grep -nE "$exitnum" "$@" 2>/dev/null | grep -vE '^([^:]*:)?[0-9]+:\s*(\*|/\*|//)'
}

# bufsizes FILE... - print each buffer sized by a bare number, bar sizes_pending; 0 when there is one.
bufsizes() {
	grep -nHE "$bufsize" "$@" 2>/dev/null | grep -vE '^[^:]*:[0-9]+:\s*(\*|/\*|//)' |
	    awk -v list="$sizes_pending" 'BEGIN { n = split(list, l, "\n"); for (i = 1; i <= n; i++) {
		t = index(l[i], "\t"); pf[i] = substr(l[i], 1, t - 1); pd[i] = substr(l[i], t + 1) } }
	    { f = $0; sub(/:.*/, "", f); for (i = 1; i <= n; i++) if (f == pf[i] && index($0, pd[i])) next
	      print; hit = 1 } END { exit !hit }'
}

# selftest - each rule fires on every line of bad.c and on no line of good.c.
selftest() {
	n=$(grep -cvE '^\s*(/\*| \*|$)' tests/lint/bad.c)
	hits=$( (banned tests/lint/bad.c; exitnums tests/lint/bad.c; bufsizes tests/lint/bad.c) | wc -l)
	if [ "$hits" -ne "$n" ]; then
		echo "lint: self-test: $hits of the $n lines of tests/lint/bad.c caught" >&2
		return 1
	fi
	if banned tests/lint/good.c || exitnums tests/lint/good.c || bufsizes tests/lint/good.c; then
		echo "lint: self-test: a line of tests/lint/good.c was caught" >&2
		return 1
	fi
}

tests=
if [ $# -eq 0 ]; then
	selftest || exit 1
	set -- lib/*.c lib/*.h conf/*.c conf/*.h queue/*/*.c queue/*/*.h sendmail/*.c sendmail/*.h
	tests=$(echo tests/unit/*.c tests/fuzz/*.c)	# exit codes only: tests may call what code may not
fi
rc=0
if banned "$@"; then
	echo "lint: banned function used (see STYLE.md)" >&2
	rc=1
fi
# product .c files only: headers' struct members and tests are not in the rule yet
cfiles=
for f in "$@"; do
	case "$f" in *.c) cfiles="$cfiles $f" ;; esac
done
# shellcheck disable=SC2086
if [ -n "$cfiles" ] && bufsizes $cfiles; then
	echo "lint: buffer sized by a bare number: name its size (limits.h, or a #define saying what it bounds)" >&2
	rc=1
fi
files=
for f in "$@" $tests; do
	case " $(echo $pending) " in *" $f "*) ;; *) files="$files $f" ;; esac
done
# shellcheck disable=SC2086
if [ -n "$files" ] && exitnums $files; then
	echo "lint: exit code written as a number: use its sysexits.h name (EX_TEMPFAIL, ...)" >&2
	rc=1
fi
# the tree only (tests is set then): includes between rooms and modules
if [ -n "$tests" ] && ! python3 tests/includes.py --selftest; then
	echo "lint: an include goes up a room or round a circle (see tests/includes.py)" >&2
	rc=1
fi
[ "$rc" -eq 0 ] && echo "lint: ok"
exit "$rc"
