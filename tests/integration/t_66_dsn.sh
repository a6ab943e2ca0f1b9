# t_66_dsn.sh - DSN requests reach the next hop (RFC 3461): what the caller asked for with -N, -R and
# -V, and a recipient's ORCPT, go out with MAIL and RCPT when the server offers DSN, and nothing of
# it when it does not. Every test asserts per message: delivered once, with exactly the parameters
# wanted. Helpers: dx_.
#
# The destination is implicit.example (no MX, A 127.0.0.13). faultsmtpd.py --dsn offers DSN and keeps
# the MAIL and RCPT parameters as sent; smtpd.py (aiosmtpd) does not offer DSN and would refuse any
# DSN parameter with 555, so a message it stores was sent without them.

# dx_env RCPT KEY - the value of KEY in the .env of the message faultsmtpd f stored for RCPT.
dx_env() {
	local env
	env=$(grep -lx "rcpt_to: $1" "$T/mail/f"/*.env 2>/dev/null | head -n 1)
	[ -n "$env" ] || fail "no message stored for $1 (stored: $(all_rcpts f))"
	sed -n "s/^$2: //p" "$env"
}

# dx_params OPTIONS - OPTIONS without SIZE= and BODY= (which depend on the message, not on DSN).
dx_params() { printf '%s\n' "$1" | tr ' ' '\n' | grep -Ev '^(SIZE=|BODY=|$)' | tr '\n' ' ' | sed 's/ $//'; }

test_dsn_passed_on() {	# -N/-R/-V to a server that offers DSN; a message without them gets none
	postern_env
	faultsmtpd_start f 127.0.0.13:25 --dsn || fail "start"
	msg a@postern.example one@implicit.example one | submit -N failure,delay -R hdrs -V myid \
		-f a@postern.example -- one@implicit.example
	msg a@postern.example two@implicit.example two | submit -N never -R full -V 'id/2' \
		-f a@postern.example -- two@implicit.example
	msg a@postern.example three@implicit.example three | submit -N success -f a@postern.example -- \
		three@implicit.example
	msg a@postern.example four@implicit.example four | submit -f a@postern.example -- four@implicit.example
	queue_run
	expect_eq "stored" 4 "$(ids_count f)"
	expect_eq "duplicates" 0 "$(ids_dups f)"
	expect_queue_empty
	expect_eq "MAIL of one" "RET=HDRS ENVID=myid" "$(dx_params "$(dx_env one@implicit.example mail_options)")"
	expect_eq "RCPT of one" "one@implicit.example NOTIFY=FAILURE,DELAY" "$(dx_env one@implicit.example rcpt_options)"
	expect_eq "MAIL of two" "RET=FULL ENVID=id/2" "$(dx_params "$(dx_env two@implicit.example mail_options)")"
	expect_eq "RCPT of two" "two@implicit.example NOTIFY=NEVER" "$(dx_env two@implicit.example rcpt_options)"
	expect_eq "MAIL of three" "" "$(dx_params "$(dx_env three@implicit.example mail_options)")"
	expect_eq "RCPT of three" "three@implicit.example NOTIFY=SUCCESS" "$(dx_env three@implicit.example rcpt_options)"
	# nothing asked for: nothing sent (the next hop's defaults are postern's own)
	expect_eq "MAIL of four" "" "$(dx_params "$(dx_env four@implicit.example mail_options)")"
	expect_eq "RCPT of four" "four@implicit.example" "$(dx_env four@implicit.example rcpt_options)"
}

test_dsn_not_offered() {	# the same requests to a server without DSN: none is sent (RFC 3461 4.1)
	postern_env
	smtpd_start mx 127.0.0.13:25 || fail "start"
	msg a@postern.example one@implicit.example one | submit -N success,failure,delay -R full -V myid \
		-f a@postern.example -- one@implicit.example
	queue_run
	wait_mail mx 1 || fail "not delivered: $(tail -n 3 "$T/log/mx.log" | tr '\n' ' ')"
	expect_eq "stored" 1 "$(mail_count mx)"
	expect_queue_empty
	expect_eq "MAIL parameters" "" "$(dx_params "$(env_get mx 1 mail_options)")"
	expect_eq "recipient" "one@implicit.example" "$(env_get mx 1 rcpt_to)"
}

test_dsn_orcpt() {	# a recipient's ORCPT from the envelope goes out xtext-encoded
	postern_env
	faultsmtpd_start f 127.0.0.13:25 --dsn || fail "start"
	msg a@postern.example one@implicit.example orcpt | submit -f a@postern.example -- one@implicit.example
	local id env
	id=$(ls "$SPOOL/new")
	# no front door sets ORCPT yet (-bs takes no RCPT parameters): give the queued envelope one, the
	# way a runner's deferral would (deferred/ID takes the place of the data file's envelope)
	env=$(spool_env "$id") || fail "no envelope for $id"
	printf '%s\n' "$env" | sed '/^RCPT one@implicit.example$/a R-ORCPT Jo+Doe=x@Implicit.example' \
		>"$SPOOL/deferred/$id"
	grep -q '^R-ORCPT ' "$SPOOL/deferred/$id" || fail "R-ORCPT not added"
	chgrp postern "$SPOOL/deferred/$id" && chmod 0660 "$SPOOL/deferred/$id"
	rm -f "$SPOOL/new/$id"
	queue_run
	expect_eq "stored" 1 "$(ids_count f)"
	expect_queue_empty
	expect_eq "RCPT" "one@implicit.example ORCPT=rfc822;Jo+2BDoe+3Dx@Implicit.example" \
		"$(dx_env one@implicit.example rcpt_options)"
}
