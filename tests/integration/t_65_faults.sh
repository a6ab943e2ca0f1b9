# t_65_faults.sh - the SMTP client against misbehaving servers (faultsmtpd.py): a reply of the wrong
# class at any step is a protocol error, deferred with the reply in the reason and never recorded as
# sent; a drop or a timeout is deferred with a reason naming the step; the per-message and
# per-session wall-clock limits end a server that drips its replies. Every test asserts per
# message: delivered once, or deferred with a non-empty reason naming the step. Helpers: fl_.
#
# The destination is implicit.example (no MX, A 127.0.0.13): one host, so the reason recorded is
# that host's, not a later host's "connection refused".

FL_RCPT=rcpt@implicit.example

# fl_submit N - queue N messages to $FL_RCPT (X-Seq 1..N, a Message-ID each); FL_IDS gets their ids.
fl_submit() {
	local i
	for i in $(seq 1 "$1"); do
		printf 'From: a@postern.example\nTo: %s\nSubject: fault %s\nMessage-ID: <fault%s@postern.example>\nX-Seq: %s\n\nbody %s\n' \
			"$FL_RCPT" "$i" "$i" "$i" "$i" | submit -i -f a@postern.example -- "$FL_RCPT"
	done
	FL_IDS=$(ls "$SPOOL/new")
	expect_eq "messages queued" "$1" "$(echo "$FL_IDS" | grep -c .)"
}

# fl_run - one queue run, -v (its output in $T/run.out); the exit status is not the point here.
fl_run() { "$T/bin/sendmail" -C "$CONF" -q -v </dev/null >"$T/run.out" 2>&1 || true; }

# fl_deferred ID STATUS REGEX - message ID is deferred (deferred/ID, not in new/), its recipient
# pending with R-STATUS STATUS and an R-DIAG matching the extended REGEX.
fl_deferred() {
	local env=$SPOOL/deferred/$1 diag
	[ -f "$env" ] || fail "message $1 was not deferred: no deferred/$1 (new/: $(ls "$SPOOL/new" | tr '\n' ' '); run: $(tail -n 3 "$T/run.out" | tr '\n' ' ')"
	[ -e "$SPOOL/new/$1" ] && fail "new/$1 still there next to deferred/$1"
	[ -f "$SPOOL/data/$1" ] || fail "data/$1 is gone: the message was removed"
	grep -qx "R-STATE pending" "$env" || fail "recipient of $1 not pending: $(grep R-STATE "$env")"
	expect_eq "R-STATUS of $1" "$2" "$(sed -n 's/^R-STATUS //p' "$env")"
	diag=$(sed -n 's/^R-DIAG //p' "$env")
	[ -n "$diag" ] || fail "empty R-DIAG for $1"
	printf '%s\n' "$diag" | grep -Eq -- "$3" || fail "R-DIAG of $1 is '$diag', want /$3/"
}

# fl_stored NAME - messages the server NAME accepted (its ids file).
fl_stored() { ids_count "$1"; }

# fl_wrong_class REPLY REGEX - one message against a server giving REPLY (faultsmtpd --reply): never
# stored, deferred with 4.5.0 and a reason matching REGEX; the run does not call it sent.
fl_wrong_class() {
	postern_env
	faultsmtpd_start f 127.0.0.13:25 --reply "$1" || fail "start"
	fl_submit 1
	fl_run
	expect_eq "stored" 0 "$(fl_stored f)"
	grep -q 'status=sent' "$T/run.out" && fail "reported sent: $(grep 'status=sent' "$T/run.out")"
	grep -q 'dsn=4\.5\.0, status=deferred (protocol error with ' "$T/run.out" ||
		fail "no protocol error logged: $(grep 'status=' "$T/run.out")"
	fl_deferred "$FL_IDS" 4.5.0 "$2"
}

P="protocol error with implicit.example\\[127\\.0\\.0\\.13\\]:25 while"
L="lost connection with implicit.example\\[127\\.0\\.0\\.13\\]:25 while"

test_faults_data_250() {	# 250 to DATA: no byte of the body was sent; was status=sent, removed
	fl_wrong_class data=250 "^$P reading the reply to DATA \\(unexpected reply 250 fault reply"
}

test_faults_dot_354() {		# 354 after the final dot; was status=sent, removed
	fl_wrong_class dot=354 "^$P reading the reply to end of data \\(unexpected reply 354 fault reply"
}

test_faults_greeting_354() {	# a 3xx greeting was status 3.0.0: never recorded, resent every run
	fl_wrong_class greeting=354 "^$P reading the greeting \\(unexpected reply 354 fault reply"
}

test_faults_ehlo_334() {	# 334 to EHLO: the same
	fl_wrong_class ehlo=334 "^$P reading the reply to EHLO \\(unexpected reply 334 fault reply"
}

test_faults_mail_354() {	# a 3xx to MAIL is logged as such
	fl_wrong_class 'mail=354 go on' "^$P reading the reply to MAIL FROM \\(unexpected reply 354 go on; a 2xx, 4xx or 5xx was due\\)"
}

test_faults_rcpt_334() {	# a 3xx to RCPT is logged as such
	fl_wrong_class 'rcpt=334 what' "^$P reading the reply to RCPT TO \\(unexpected reply 334 what; a 2xx, 4xx or 5xx was due\\)"
}

test_faults_rcpt_552_deferred() {	# RFC 5321 4.5.3.1.10: 552 to RCPT is RFC 821's "too many recipients"
	postern_env	# was bounced as 5.5.3 at once; now deferred 4.5.3 (dlv_fate), no bounce
	faultsmtpd_start f 127.0.0.13:25 --reply 'rcpt=552 5.5.3 too many recipients' || fail "start"
	fl_submit 1
	fl_run
	expect_eq "stored" 0 "$(fl_stored f)"
	grep -q 'status=bounced' "$T/run.out" && fail "bounced: $(grep 'status=bounced' "$T/run.out")"
	fl_deferred "$FL_IDS" 4.5.3 "552 5\\.5\\.3 too many recipients \\(in reply to RCPT TO\\)"
}

test_faults_drop_data() {	# every DATA dropped: each message deferred, its reason naming the step
	postern_env
	faultsmtpd_start f 127.0.0.13:25 --drop-data 1 || fail "start"
	fl_submit 3
	fl_run
	expect_eq "stored" 0 "$(fl_stored f)"
	local id
	# was "lost connection with implicit.example[127.0.0.13]:25: " for every message
	for id in $FL_IDS; do
		fl_deferred "$id" 4.4.2 "^$L (sending|reading the reply to) end of data \\((server closed the connection|connection reset by peer)\\)$"
	done
}

test_faults_stall_dot() {	# the first final dot never answered: delivered once, on a new connection
	postern_env "timeout_data_done 2"
	faultsmtpd_start f 127.0.0.13:25 --stall-dot 1 || fail "start"
	fl_submit 1
	fl_run
	expect_eq "stored" 1 "$(fl_stored f)"
	expect_eq "duplicates" 0 "$(ids_dups f)"
	dl_expect_spool_empty
}

test_faults_slow_dot() {	# every final dot answered too late: the reason names the timeout
	# replies 1.1 s late each, timeout_data_done 1 s: each connection (at most DLV_TRIES) gets to
	# the dot in about 6.6 s and times out there
	postern_env "timeout_data_done 1" "timeout_data_init 5" "timeout_command 5" "timeout_greeting 5"
	faultsmtpd_start f 127.0.0.13:25 --drip 1.1 || fail "start"
	fl_submit 1
	fl_run
	fl_deferred "$FL_IDS" 4.4.2 "^$L reading the reply to end of data \\(timeout after 1 s\\)$"
}

test_faults_drip_message_limit() {	# replies 0.4 s late each: the message's limit (1 s) ends it
	postern_env "timeout_command 5" "timeout_message 1"
	faultsmtpd_start f 127.0.0.13:25 --drip 0.4 || fail "start"
	fl_submit 1
	local t0=$SECONDS
	fl_run
	# each connection (at most DLV_TRIES = 3) ends 1 s into the message (without the limit, the
	# message would go through in 2.4 s)
	[ $((SECONDS - t0)) -le 8 ] || fail "the run took $((SECONDS - t0)) s"
	expect_eq "stored" 0 "$(fl_stored f)"
	fl_deferred "$FL_IDS" 4.4.2 "^$L reading the reply to (MAIL FROM|RCPT TO|DATA) \\(message time limit of 1 s reached\\)$"
}

test_faults_drip_session_limit() {	# the session's limit (2 s) ends it whatever the message's
	postern_env "timeout_command 5" "timeout_session 2"
	faultsmtpd_start f 127.0.0.13:25 --drip 0.4 || fail "start"
	fl_submit 1
	fl_run
	expect_eq "stored" 0 "$(fl_stored f)"
	fl_deferred "$FL_IDS" 4.4.2 "^$L (sending|reading the reply to) [A-Za-z ]+ \\(session time limit of 2 s reached\\)$"
}

test_faults_drip_within_limits() {	# the same server, limits that leave room: delivered once each
	postern_env "timeout_command 5" "timeout_message 10" "timeout_session 30"
	faultsmtpd_start f 127.0.0.13:25 --drip 0.2 || fail "start"
	fl_submit 2
	fl_run
	expect_eq "stored" 2 "$(fl_stored f)"
	expect_eq "duplicates" 0 "$(ids_dups f)"
	dl_expect_spool_empty
}
