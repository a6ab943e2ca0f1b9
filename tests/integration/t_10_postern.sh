# t_10_postern.sh - the built postern against the world: submission styles, header completion,
# DKIM, routing (MX preference, fallback, implicit MX, null MX, NXDOMAIN), retries, bounces, TLS,
# smarthost. Written against the documented command line and config keys; each test has its own
# spool and servers, and delivers with explicit `sendmail -q` runs (deliver queue).

test_postern_mailq_empty() {
	postern_env
	expect_queue_empty
}

test_postern_php_style() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls && smtpd_start mx2 127.0.0.12:25 --tls || fail "start"
	msg "Web <web@postern.example>" "alice@mx-pref.example" "php style" \
		"Bcc: hidden@mx-pref.example" | submit -t -i
	expect_queued alice@mx-pref.example
	expect_eq "delivered before -q" 0 "$(mail_count mx1)"
	queue_run
	expect_eq "rcpts at mx1" "alice@mx-pref.example hidden@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "copies at mx2" 0 "$(mail_count mx2)"
	local f n
	for n in $(seq 1 "$(mail_count mx1)"); do
		f=$(mail_file mx1 "$n")
		expect_completed "$f"
		expect_dkim "$f"
		grep -q 'hidden@' "$f" && fail "the Bcc address shows in the delivered message"
		expect_eq "tls" yes "$(env_get mx1 "$n" tls)"
		expect_eq "helo" mail.postern.example "$(env_get mx1 "$n" helo)"
	done
	expect_eq "From kept" "Web <web@postern.example>" "$(header "$(mail_file mx1)" From)"
	expect_queue_empty
}

test_postern_cron_style() {
	postern_env
	smtpd_start mxp 127.0.0.15:25 --tls || fail "start"
	printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@mail> run-parts /etc/cron.daily\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\ncaf\303\251 \342\234\223\n' |
		submit -FCronDaemon -i -B8BITMIME -oem root
	queue_run
	expect_eq "rcpt (bare name through domain)" root@postern.example "$(all_rcpts mxp)"
	local f
	f=$(mail_file mxp)
	expect_completed "$f"
	expect_dkim "$f"
	env_get mxp 1 mail_options | grep -q 'BODY=8BITMIME' || fail "no BODY=8BITMIME: $(env_get mxp 1 mail_options)"
	grep -q $'caf\303\251 \342\234\223\r$' "$f" || fail "8-bit body changed"
	expect_queue_empty
}

test_postern_mailx_style() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	printf 'Subject: mailx\nTo: user@mx-pref.example\n\nline one\n.\nline three\n' |
		submit -oem -oi -- user@mx-pref.example
	queue_run
	expect_eq "rcpt" user@mx-pref.example "$(all_rcpts mx1)"
	local f
	f=$(mail_file mx1)
	expect_completed "$f"
	expect_dkim "$f"
	header "$f" From | grep -q 'root@postern.example' || fail "From not completed as root@postern.example: $(header "$f" From)"
	# -oi: the lone dot is data; the body arrives intact with CRLF line ends
	expect_eq "body" "$(printf 'line one\r\n.\r\nline three\r\n')" "$(sed '1,/^\r$/d' "$f")"
	expect_eq "envelope sender" root@postern.example "$(env_get mx1 1 mail_from)"
}

test_postern_mx_preference() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 && smtpd_start mx2 127.0.0.12:25 || fail "start"
	msg "a@postern.example" "pref@mx-pref.example" "mx preference" | submit -t -i
	queue_run
	expect_eq "mx1 (MX 10)" 1 "$(mail_count mx1)"
	expect_eq "mx2 (MX 20)" 0 "$(mail_count mx2)"
}

# fallback_test BEHAVIOUR... - MX 10 (127.0.0.14) misbehaves, MX 20 (127.0.0.11) takes the mail.
fallback_test() {
	[ $# -gt 0 ] && { smtpd_start bad 127.0.0.14:25 "$@" || fail "start bad"; }
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "fb@fallback.example" "fallback" | submit -t -i
	queue_run
	expect_eq "at MX 20" 1 "$(mail_count mx1)"
	expect_eq "rcpt" fb@fallback.example "$(all_rcpts mx1)"
	expect_queue_empty
}

test_postern_fallback_refused() { postern_env; fallback_test; }
test_postern_fallback_greet_421() { postern_env; fallback_test --greet-421; }
test_postern_fallback_stall() {
	postern_env "timeout_connect 5" "timeout_greeting 5"
	fallback_test --stall
}

test_postern_implicit_mx() {
	postern_env
	smtpd_start imp 127.0.0.13:25 || fail "start"
	msg "a@postern.example" "x@implicit.example" "implicit mx" | submit -t -i
	queue_run
	expect_eq "rcpt" x@implicit.example "$(all_rcpts imp)"
}

# bounce_test RCPT - the message to RCPT must bounce: a DSN with the null sender to the sender's
# MX (127.0.0.15), naming RCPT; nothing reaches 127.0.0.13 (nullmx.example's A).
bounce_test() {
	smtpd_start mxp 127.0.0.15:25 && smtpd_start imp 127.0.0.13:25 || fail "start"
	msg "Sender <sender@postern.example>" "$1" "bounce me" | submit -f sender@postern.example -t -i
	queue_run 3
	expect_eq "delivered to the A record" 0 "$(mail_count imp)"
	expect_eq "bounces" 1 "$(mail_count mxp)"
	expect_eq "bounce envelope sender" "<>" "$(env_get mxp 1 mail_from)"
	expect_eq "bounce recipient" sender@postern.example "$(all_rcpts mxp)"
	local f
	f=$(mail_file mxp)
	header "$f" Content-Type | grep -qi 'multipart/report.*report-type=.\?delivery-status' ||
		fail "not an RFC 3464 report: $(header "$f" Content-Type)"
	grep -qi "^Final-Recipient: rfc822; *$1" "$f" || fail "no Final-Recipient for $1"
	grep -qi '^Action: failed' "$f" || fail "no Action: failed"
	expect_completed "$f"
	expect_dkim "$f"
	expect_queue_empty
}

test_postern_null_mx_bounce() { postern_env; bounce_test x@nullmx.example; }
test_postern_nxdomain_bounce() { postern_env; bounce_test x@nxdomain.example; }

test_postern_5xx_partial_bounce() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'nobody@*' && smtpd_start mxp 127.0.0.15:25 || fail "start"
	msg "sender@postern.example" "somebody@mx-pref.example, nobody@mx-pref.example" "partial" |
		submit -f sender@postern.example -t -i
	queue_run 3
	expect_eq "delivered" somebody@mx-pref.example "$(all_rcpts mx1)"
	expect_eq "bounces" 1 "$(mail_count mxp)"
	grep -qi '^Final-Recipient: rfc822; *nobody@mx-pref.example' "$(mail_file mxp)" || fail "bounce does not name nobody@"
	grep -i '^Final-Recipient' "$(mail_file mxp)" | grep -qi 'somebody@' &&
		fail "bounce names the delivered recipient"
	expect_queue_empty
}

test_postern_4xx_then_delivered() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --rcpt-4xx 1 || fail "start"
	msg "a@postern.example" "later@mx-pref.example" "retry" | submit -t -i
	queue_run
	expect_eq "after the 4xx" 0 "$(mail_count mx1)"
	expect_queued later@mx-pref.example
	queue_run
	expect_eq "after the retry" 1 "$(mail_count mx1)"
	expect_queue_empty
}

test_postern_drop_mid_data_one_copy() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --drop-mid-data || fail "start"
	msg "a@postern.example" "once@mx-pref.example" "drop" | submit -t -i
	queue_run	# the drop, then the same pass tries again on a new connection
	expect_eq "copies after the first pass" 1 "$(mail_count mx1)"
	expect_queue_empty
	queue_run 2
	expect_eq "copies" 1 "$(mail_count mx1)"
}

# smarthost_test starttls|tls PORT - everything goes to the smarthost, authenticated, over TLS.
smarthost_test() {
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	chown root:postern "$T/smarthost.auth"
	chmod 0640 "$T/smarthost.auth"
	postern_env "smarthost smarthost.example:$2" "smarthost_auth $T/smarthost.auth" "smarthost_tls $1"
	smarthost_start && smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "far@mx-pref.example" "smarthost $2" | submit -t -i
	queue_run
	expect_eq "via the MX" 0 "$(mail_count mx1)"
	expect_eq "at the smarthost" far@mx-pref.example "$(all_rcpts "smarthost$2")"
	expect_eq "auth user" postern "$(env_get "smarthost$2" 1 auth_user)"
	expect_eq "tls" yes "$(env_get "smarthost$2" 1 tls)"
	expect_completed "$(mail_file "smarthost$2")"
	expect_dkim "$(mail_file "smarthost$2")"
	expect_queue_empty
}

test_postern_smarthost_587() { smarthost_test starttls 587; }
test_postern_smarthost_465() { smarthost_test tls 465; }

test_postern_smarthost_failover() {	# several smarthosts: the next when one is down or greets 4xx
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	chown root:postern "$T/smarthost.auth"
	chmod 0640 "$T/smarthost.auth"
	# nothing listens on :2587; :465 speaks TLS at once (auto: by its port), :587 STARTTLS
	postern_env "smarthost smarthost.example:2587 smarthost.example:465" "smarthost_auth $T/smarthost.auth"
	smarthost_start && smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "far@mx-pref.example" "failover down" | submit -t -i
	queue_run
	expect_eq "at the second smarthost" far@mx-pref.example "$(all_rcpts smarthost465)"
	expect_eq "auth user" postern "$(env_get smarthost465 1 auth_user)"
	expect_queue_empty
	# the first greets 421: the next one in the same attempt
	smtpd_start busy 127.0.0.20:2525 --greet-421 || fail "start busy"
	sed -i 's/^smarthost .*/smarthost smarthost.example:2525 smarthost.example:587/' "$CONF"
	msg "a@postern.example" "far2@mx-pref.example" "failover 421" | submit -t -i
	queue_run
	expect_eq "at the busy one" 0 "$(mail_count busy)"
	expect_eq "at the third" far2@mx-pref.example "$(all_rcpts smarthost587)"
	expect_eq "via the MX" 0 "$(mail_count mx1)"
	expect_queue_empty
	expect_eq "postern config smarthost" "smarthost.example:2525 smarthost.example:587" \
		"$("$BIN" -C "$CONF" config smarthost)"
}

test_postern_routes() {	# route DOMAIN direct|smarthost|HOST: per recipient domain, beside the smarthost
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	chown root:postern "$T/smarthost.auth"
	chmod 0640 "$T/smarthost.auth"
	postern_env "smarthost smarthost.example:587" "smarthost_auth $T/smarthost.auth" \
		"route implicit.example direct" "route third.example implicit.example"
	smarthost_start && smtpd_start imp 127.0.0.13:25 && smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "far@mx-pref.example" "routes" |
		submit -i -- far@mx-pref.example d@implicit.example r@third.example
	queue_run
	expect_eq "at the smarthost" far@mx-pref.example "$(all_rcpts smarthost587)"
	expect_eq "direct and routed to implicit.example's host" "d@implicit.example r@third.example" \
		"$(cat "$T"/mail/imp/*.env | sed -n 's/^rcpt_to: //p' | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "no AUTH outside the smarthost" "" "$(env_get imp 1 auth_user)"
	expect_eq "via mx-pref's own MX" 0 "$(mail_count mx1)"
	expect_queue_empty
	pm -bv r@third.example d@implicit.example || fail "-bv"
	grep -q "^r@third.example... deliverable: mailer esmtp, host implicit.example, user r@third.example$" \
		"$T/pm.out" || fail "-bv: $(cat "$T/pm.out")"
}

test_postern_tls_verify_ok() {
	postern_env "tls verify"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "a@postern.example" "v@mx-pref.example" "verify" | submit -t -i
	queue_run
	expect_eq "delivered" 1 "$(mail_count mx1)"
	expect_eq "tls" yes "$(env_get mx1 1 tls)"
}

# tls_verify_defer_test CERT - with `tls verify`, a server showing CERT gets nothing; the message
# stays queued.
tls_verify_defer_test() {
	postern_env "tls verify"
	smtpd_start badcert 127.0.0.16:25 --tls-as "$1" || fail "start"
	msg "a@postern.example" "v@badcert.example" "verify $1" | submit -t -i
	queue_run
	expect_eq "delivered" 0 "$(mail_count badcert)"
	expect_queued v@badcert.example
}

test_postern_tls_verify_wrong_name_defers() { tls_verify_defer_test server-wrongname; }
test_postern_tls_verify_untrusted_defers() { tls_verify_defer_test server-untrusted; }
test_postern_tls_verify_expired_defers() { tls_verify_defer_test server-expired; }

test_postern_tls_client_cert() {
	cp "$WORK/pki/client.key" "$T/client.key"
	chown root:postern "$T/client.key"
	chmod 0640 "$T/client.key"
	postern_env "tls_cert $WORK/pki/client.chain.pem" "tls_key $T/client.key"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "a@postern.example" "c@mx-pref.example" "client cert" | submit -t -i
	queue_run
	expect_eq "peer cert" yes "$(env_get mx1 1 peer_cert)"
	expect_eq "subject" commonName=mail.postern.example "$(env_get mx1 1 peer_cert_subject)"
}
