#!/bin/sh
# check.sh BUILD - the whole suite: unit tests, then the integration world. Ends with the
# "N passed, N failed" line CI reads.
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sh tests/run-unit.sh "$build/tests" | tee -a "$log"
sh tests/integration/run.sh "$build/postern" | tee -a "$log"
pass=0 fail=0
for n in $(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tr ' ' ':'); do
	pass=$((pass + ${n%%:*})); fail=$((fail + ${n##*:}))
done
[ "$pass" -gt 0 ] || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
