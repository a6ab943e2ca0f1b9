# t_80_queue_admin.sh - postern queue (issue 13, queue administration): hold keeps a message from
# every runner (and from expiry) until release; delete of a message a runner holds is reported busy
# and changes nothing; requeue makes a deferred message due at once with its attempts kept; mailq
# --json; show; and anyone but root and the postern user is refused with 77.

# qa ARGS... - `postern -C $CONF queue ARGS`; stdout/stderr in $T/qa.out/.err; its exit status.
qa() {
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" queue "$@" >"$T/qa.out" 2>"$T/qa.err"
	local rc=$?
	echo "postern queue $* -> $rc: $(head -c 300 "$T/qa.err")" >&2
	return $rc
}

# qa_only_id - the id of the one queued message.
qa_only_id() {
	local ids
	ids=$(ls "$SPOOL/new" "$SPOOL/deferred" 2>/dev/null | grep -E '^[0-9A-F]{19}$' | sort -u)
	[ "$(wc -w <<<"$ids")" -eq 1 ] || fail "want one queued message, have: $ids"
	echo "$ids"
}

# QA_SCHEMA - a Python check of mailq --json's lines against postern-queue(8)'s fields and types.
QA_SCHEMA='
import json, sys
top = {"queue_name": str, "queue_id": str, "arrival_time": int, "message_size": int,
       "forced_expire": bool, "sender": str, "recipients": list, "held": bool, "forced": bool}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert set(o) == set(top), sorted(o)
    for k, t in top.items():
        assert type(o[k]) is t, (k, o[k])
    assert o["queue_name"] in ("incoming", "active", "deferred", "hold"), o["queue_name"]
    for r in o["recipients"]:
        assert set(r) <= {"address", "delay_reason"} and isinstance(r["address"], str), r
'

# qa_connected ADDR:PORT - a TCP connection to ADDR:PORT is established.
qa_connected() { [ -n "$(ss -Htn state established dst "$1")" ]; }

# hold: neither sendmail -q, -qI ID nor an expired queue_lifetime takes the message; mailq marks it
# '!', mailq --json says held; release, and the next run delivers it once.
test_qadmin_hold_release() {
	postern_env "queue_lifetime 1s"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg a@postern.example a@mx-pref.example "held" | submit -t -i
	local id
	id=$(qa_only_id)
	qa hold "$id" || fail "hold exited $?: $(cat "$T/qa.err")"
	expect_eq "hold's output" "$id: held" "$(cat "$T/qa.out")"
	spool_env "$id" | grep -qx 'HELD 1' || fail "the envelope does not say HELD"
	qa hold "$id" || fail "a second hold exited $?"
	expect_eq "a second hold" "$id: already held" "$(cat "$T/qa.out")"
	sleep 2	# past queue_lifetime
	pm -q </dev/null || fail "sendmail -q exited $?"
	pm -qI"$id" </dev/null || fail "sendmail -qI exited $?"
	expect_eq "delivered while held" 0 "$(mail_count mx1)"
	mailq_text | grep -q "^$id! " || fail "mailq does not mark the held message '!': $(cat "$T/pm.out")"
	spool_env "$id" | grep -qx 'ATTEMPTS 0' || fail "a held message was attempted"
	"$T/bin/mailq" -C "$CONF" --json >"$T/json" || fail "mailq --json exited $?"
	expect_eq "mailq --json: held" "true hold $id a@mx-pref.example" \
		"$(jq -r '"\(.held) \(.queue_name) \(.queue_id) \(.recipients[0].address)"' "$T/json")"
	"$PY" -c "$QA_SCHEMA" "$T/json" || fail "mailq --json does not follow the schema: $(cat "$T/json")"
	qa list --json || fail "queue list --json exited $?"
	cmp -s "$T/json" "$T/qa.out" || fail "queue list --json differs from mailq --json"
	sed -i '/^queue_lifetime /d' "$CONF"
	qa release "$id" || fail "release exited $?: $(cat "$T/qa.err")"
	expect_eq "release's output" "$id: released" "$(cat "$T/qa.out")"
	spool_env "$id" | grep -q '^HELD' && fail "released, but the envelope still says HELD"
	queue_run
	expect_eq "delivered after release" 1 "$(mail_count mx1)"
	expect_queue_empty
}

# A message a runner holds (its server never greets) is busy: delete and hold report it (75) and
# change nothing; once the runner is gone, delete removes it.
test_qadmin_busy_delete() {
	postern_env "timeout_greeting 30"
	smtpd_start mx1 127.0.0.11:25 --stall || fail "start"
	msg a@postern.example a@mx-pref.example "busy" | submit -t -i
	local id pid rc before
	id=$(qa_only_id)
	"$T/bin/sendmail" -C "$CONF" -q </dev/null >"$T/runner.out" 2>&1 &
	pid=$!
	# connected to the server, so holding the message's lock (taken before delivery). Not probed with
	# flock: a probe's instant of lock would make the runner itself skip the message as busy.
	wait_for 10 qa_connected 127.0.0.11:25 || fail "the runner never connected: $(tail -c 300 "$T/runner.out")"
	flock -n "$SPOOL/data/$id" true && fail "the runner does not hold $id"
	before=$(spool_listing)
	qa delete "$id"
	rc=$?
	expect_eq "delete of a busy message" 75 "$rc"
	grep -q "$id: busy" "$T/qa.err" || fail "stderr: $(cat "$T/qa.err")"
	qa hold "$id"
	expect_eq "hold of a busy message" 75 "$?"
	expect_eq "spool after the refused changes" "$before" "$(spool_listing)"
	kill "$pid"
	wait "$pid" 2>/dev/null
	qa delete "$id" || fail "delete after the runner exited $?: $(cat "$T/qa.err")"
	expect_eq "delete's output" "$id: deleted" "$(cat "$T/qa.out")"
	[ -e "$SPOOL/data/$id" ] && fail "data/$id is still there"
	expect_queue_empty
	qa delete "$id"
	expect_eq "delete of a message not in the queue" 66 "$?"
}

# requeue: a message deferred for an hour is not due; requeue makes it due now, attempts kept.
test_qadmin_requeue() {
	postern_env
	sed -i 's/^retry_min 0$/retry_min 1h/' "$CONF"
	msg a@postern.example a@mx-pref.example "requeue" | submit -t -i
	local id
	id=$(qa_only_id)
	queue_run	# nobody listens: deferred for an hour
	spool_env "$id" | grep -qx 'ATTEMPTS 1' || fail "not deferred: $(spool_env "$id" | head -c 300)"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" queue-run </dev/null || fail "queue-run exited $?"
	expect_eq "delivered before it is due" 0 "$(mail_count mx1)"
	qa requeue "$id" || fail "requeue exited $?: $(cat "$T/qa.err")"
	spool_env "$id" | grep -qx 'NEXT-TRY 0' || fail "requeue did not make it due"
	spool_env "$id" | grep -qx 'ATTEMPTS 1' || fail "requeue lost the attempts"
	qa show "$id" || fail "show exited $?"
	grep -q "^attempts: 1$" "$T/qa.out" || fail "show: $(cat "$T/qa.out")"
	grep -q "^Subject: requeue$" "$T/qa.out" || fail "show has no header section: $(cat "$T/qa.out")"
	grep -q "Hello from" "$T/qa.out" && fail "show without -b printed the body"
	qa show -b "$id" || fail "show -b exited $?"
	grep -q "Hello from the requeue test" "$T/qa.out" || fail "show -b has no body: $(cat "$T/qa.out")"
	"$T/bin/postern" -C "$CONF" queue-run </dev/null || fail "queue-run exited $?"
	expect_eq "delivered after requeue" 1 "$(mail_count mx1)"
	expect_queue_empty
}

# show's history: each pass's host, address, TLS and reply, kept in the envelope, oldest first; an
# envelope without history (as submitted) reads and shows "history: none".
test_qadmin_show_history() {
	postern_env
	msg a@postern.example a@mx-pref.example "history" | submit -t -i
	local id
	id=$(qa_only_id)
	qa show "$id" || fail "show of a new message exited $?"
	grep -qx "history: none" "$T/qa.out" || fail "show of a new message: $(cat "$T/qa.out")"
	queue_run	# nobody listens
	smtpd_start mx1 127.0.0.11:25 --rcpt-4xx 5 || fail "start"
	queue_run	# mx1 answers RCPT with a 4xx
	spool_env "$id" | grep -c '^HISTORY ' | grep -qx 2 || fail "want 2 HISTORY lines: $(spool_env "$id")"
	qa show "$id" || fail "show exited $?"
	grep -q "^history: 2 " "$T/qa.out" || fail "show: $(cat "$T/qa.out")"
	grep -A1 -E "^  [0-9-]{10}T[0-9:]{8}Z host=mx[12].mx-pref.example address=127.0.0.1[12]:25 tls=none status=4" \
		"$T/qa.out" | grep -q "reply: connect to" || fail "no refused connection in: $(cat "$T/qa.out")"
	grep -A1 -E "^  .* host=mx1.mx-pref.example address=127.0.0.11:25 tls=none status=4" "$T/qa.out" |
		grep -q "reply: .* said: 4[0-9][0-9] " || fail "no 4xx from mx1 in: $(cat "$T/qa.out")"
}

# delete --sender and --recipient take what matches, and only that.
test_qadmin_delete_selected() {
	postern_env
	msg a@postern.example a@mx-pref.example "one" | submit -t -i
	msg b@postern.example c@mx-pref.example "two" | submit -t -i -f b@postern.example
	msg a@postern.example d@mx-pref.example "three" | submit -t -i
	qa delete --recipient D@mx-pref.example || fail "delete --recipient exited $?: $(cat "$T/qa.err")"
	expect_eq "deleted by recipient" 1 "$(grep -c ': deleted$' "$T/qa.out")"
	qa delete --sender b@postern.example || fail "delete --sender exited $?"
	expect_eq "deleted by sender" 1 "$(grep -c ': deleted$' "$T/qa.out")"
	expect_queued a@mx-pref.example
	qa delete --all || fail "delete --all exited $?"
	expect_queue_empty
}

# Anyone but root and the postern user: 77, one line, the message untouched.
test_qadmin_unprivileged_refused() {
	postern_env
	msg a@postern.example a@mx-pref.example "mine" | submit -t -i
	local id rc before sub
	id=$(qa_only_id)
	before=$(spool_listing)
	chmod 0755 "$T"
	ln -sf "$BIN" "$T/bin/postern"
	for sub in "delete $id" "hold $id" "release $id" "requeue $id" "show $id" "list --json"; do
		# shellcheck disable=SC2086
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$T/bin/postern" -C "$CONF" queue $sub \
			</dev/null >"$T/qa.out" 2>"$T/qa.err"
		rc=$?
		expect_eq "postern queue $sub as nobody" 77 "$rc"
		expect_eq "stderr lines" 1 "$(wc -l <"$T/qa.err")"
		grep -q "permission denied: only root and the postern user" "$T/qa.err" || fail "stderr: $(cat "$T/qa.err")"
		expect_eq "stdout" "" "$(cat "$T/qa.out")"
	done
	expect_eq "spool after the refusals" "$before" "$(spool_listing)"
}

# show: a header section over 64 KiB (show reads 64 KiB at a time) is shown whole, without the body,
# wherever the CRLF of a line falls against that boundary: eleven messages of 11-byte (CRLF) lines,
# each shifted one byte further by its first line, put a line end across it in one of them (the lines
# are continuation lines of one field: a message has at most 2000 fields).
test_qadmin_show_long_header() {
	postern_env
	local k id pad
	for k in $(seq 0 10); do
		pad=$(printf '%*s' "$k" '' | tr ' ' x)
		{
			printf 'From: a@postern.example\nTo: a@mx-pref.example\nSubject: long %s\nX-Shift: %s\n' "$k" "$pad"
			printf 'X-N: folded\n'
			seq 1 6500 | awk '{ printf "\t%08d\n", $1 }'
			printf 'X-Last: end\n\nthe body %s\n' "$k"
		} | submit -t -i
	done
	for id in $(ls "$SPOOL/new" | grep -E '^[0-9A-F]{19}$'); do
		qa show "$id" || fail "show $id exited $?"
		grep -q '^X-Last: end$' "$T/qa.out" || fail "show $id stopped before the end of the header section"
		grep -q 'the body' "$T/qa.out" && fail "show $id printed the body"
		expect_eq "header lines shown for $id" 6500 "$(grep -cE '^\\t[0-9]{8}$' "$T/qa.out")"
	done
}
