#!/bin/sh
# check.sh BUILD - the whole suite: unit tests, then the integration world. Ends with the
# "N passed, N failed" line CI reads (", N skipped" added when parts were skipped, e.g. the
# root-only integration world run by a normal user: skipped is not failed).
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sh tests/run-unit.sh "$build/tests" | tee -a "$log"
sh tests/integration/run.sh "$build" | tee -a "$log"
pass=0 fail=0 skip=0
for n in $(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tr ' ' ':'); do
	pass=$((pass + ${n%%:*})); fail=$((fail + ${n##*:}))
done
for n in $(sed -n 's/^[a-z]*: [0-9]* passed, [0-9]* failed, \([0-9]*\) skipped$/\1/p' "$log"); do
	skip=$((skip + n))
done
[ "$pass" -gt 0 ] || fail=$((fail + 1))
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
