#!/bin/sh
# run-unit.sh DIR - run every Criterion test binary in DIR; print "unit: N passed, N failed" (and
# ", N skipped" when a test skipped itself, e.g. a root-only part run by a normal user: a skip is
# neither a pass nor a failure). Exit 1 when any test failed or crashed.
dir=${1:-build/tests}
pass=0 fail=0 skip=0
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" --jobs 2 --verbose 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E 'Synthesis|FAIL|Failed|Crash|Warning|error|^\[SKIP\]' | sed "s|^|$(basename "$t"): |"
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	s=$(printf '%s\n' "$out" | grep -c '^\[SKIP\]')
	if [ -z "$p" ]; then p=0 f=1 c=0; echo "$(basename "$t"): no Criterion summary (exit $rc)"; fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$c" -eq 0 ] && f=1
	pass=$((pass + p)); fail=$((fail + f + c)); skip=$((skip + s))
done
if [ "$skip" -gt 0 ]; then
	echo "unit: $pass passed, $fail failed, $skip skipped"
else
	echo "unit: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
