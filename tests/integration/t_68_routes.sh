# t_68_routes.sh - routes beyond one host (issue 13): a 4xx to RCPT from one MX retried at the next
# MX of the destination within the same attempt, recipient by recipient. Helpers are prefixed rt_
# (every t_*.sh is sourced into each test). mx-pref.example has MX 10 mx1 (127.0.0.11) and MX 20 mx2
# (127.0.0.12).

# rt_rcpts_once WANT - every recipient stored by any server of the test, sorted, equals WANT (so each
# was delivered exactly once, wherever).
rt_rcpts_once() {
	expect_eq "recipients stored (all servers, each once)" "$1" \
		"$(cat "$T"/mail/*/*.env 2>/dev/null | sed -n 's/^rcpt_to: //p' | sort | tr '\n' ' ' | sed 's/ $//')"
}

test_routes_rcpt_4xx_next_mx() {	# a 451 to RCPT at the first MX: those recipients, only they, at the second
	postern_env
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-451 'soft*' || fail "start mx1"
	smtpd_start mx2 127.0.0.12:25 || fail "start mx2"
	printf 'From: a@postern.example\nSubject: split\nX-Seq: 1\n\nsplit\n' |
		submit -i -f a@postern.example -- hard1@mx-pref.example soft1@mx-pref.example \
			soft2@mx-pref.example hard2@mx-pref.example
	printf 'From: a@postern.example\nSubject: all soft\nX-Seq: 2\n\nsoft\n' |
		submit -i -f a@postern.example -- soft3@mx-pref.example
	queue_run
	dl_expect_spool_empty
	expect_eq "mx1 stored" 1 "$(mail_count mx1)"
	expect_eq "mx1 recipients" "hard1@mx-pref.example hard2@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "mx2 stored" 2 "$(mail_count mx2)"
	expect_eq "mx2 recipients" "soft1@mx-pref.example soft2@mx-pref.example soft3@mx-pref.example" \
		"$(all_rcpts mx2)"
	rt_rcpts_once "hard1@mx-pref.example hard2@mx-pref.example soft1@mx-pref.example soft2@mx-pref.example soft3@mx-pref.example"
	expect_eq "X-Seq 1 stored (mx1 and mx2 share it)" 2 "$(dl_seq_counts | awk '$2 == 1 { print $1 }')"
	expect_eq "X-Seq 2 stored" 1 "$(dl_seq_counts | awk '$2 == 2 { print $1 }')"
}

test_routes_rcpt_4xx_next_mx_down() {	# the second MX down: the 451 stands, the accepted are never resent
	postern_env
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-451 'soft*' || fail "start mx1"
	printf 'From: a@postern.example\nSubject: split\nX-Seq: 1\n\nsplit\n' |
		submit -i -f a@postern.example -- hard1@mx-pref.example soft1@mx-pref.example
	queue_run
	expect_eq "mx1 recipients" "hard1@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "deferred" 1 "$(dl_spool_count deferred)"
	local env
	env=$(find "$SPOOL/deferred" -type f)
	grep -q '^R-DIAG .*451 4.2.0 mailbox busy here' "$env" || fail "R-DIAG: $(grep R-DIAG "$env")"
	grep -qx "ATTEMPTS 1" "$env" || fail "ATTEMPTS: $(grep ^ATTEMPTS "$env")"
	# mx2 comes up: the deferred recipient goes there (mx1 still says 451), hard1 is not sent again
	smtpd_start mx2 127.0.0.12:25 || fail "start mx2"
	queue_run
	dl_expect_spool_empty
	expect_eq "mx2 recipients" "soft1@mx-pref.example" "$(all_rcpts mx2)"
	rt_rcpts_once "hard1@mx-pref.example soft1@mx-pref.example"
}

# rt_queue_run_v - `postern queue-run -v` (its status= lines in $T/qr.out); must exit 0.
rt_queue_run_v() {
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" queue-run -v </dev/null >"$T/qr.out" 2>&1
	expect_eq "postern queue-run exit status" 0 "$?"
}

RT_REPUTATION="5.7.1 Our system has detected that this message is likely unsolicited mail: the sending IP has a poor reputation"

test_routes_fallback_reputation() {	# 550 naming reputation: sent once via fallback_relay, accepted ones not
	postern_env "fallback_relay 127.0.0.30"
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'rep*' --rcpt-550-text "$RT_REPUTATION" || fail "start mx1"
	smtpd_start mx2 127.0.0.12:25 || fail "start mx2"
	smtpd_start relay 127.0.0.30:25 || fail "start relay"
	printf 'From: a@postern.example\nSubject: rep\nX-Seq: 1\n\nrep\n' |
		submit -i -f a@postern.example -- ok1@mx-pref.example rep1@mx-pref.example
	rt_queue_run_v
	dl_expect_spool_empty
	expect_eq "mx1 recipients" "ok1@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "relay stored" 1 "$(mail_count relay)"
	expect_eq "relay recipients" "rep1@mx-pref.example" "$(all_rcpts relay)"
	expect_eq "mx2 stored (a reputation refusal goes straight to the relay)" 0 "$(mail_count mx2)"
	grep -q 'to=<rep1@mx-pref.example>, relay=127.0.0.30\[127.0.0.30\]:25,.*status=sent (direct delivery refused for reputation: sent via relay' "$T/qr.out" ||
		fail "log line: $(grep 'rep1' "$T/qr.out")"
	rt_rcpts_once "ok1@mx-pref.example rep1@mx-pref.example"
}

test_routes_fallback_not_user_unknown() {	# 550 user unknown bounces: the relay receives nothing
	postern_env "fallback_relay 127.0.0.30"
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'unk*' || fail "start mx1"
	smtpd_start relay 127.0.0.30:25 || fail "start relay"
	smtpd_start bounces 127.0.0.15:25 || fail "start bounces"
	printf 'From: a@postern.example\nSubject: unk\nX-Seq: 1\n\nunk\n' |
		submit -i -f a@postern.example -- ok1@mx-pref.example unk1@mx-pref.example
	rt_queue_run_v
	grep -q 'to=<unk1@mx-pref.example>, relay=mx1.mx-pref.example.*status=bounced' "$T/qr.out" ||
		fail "unk1 not bounced by mx1: $(grep 'unk1' "$T/qr.out")"
	queue_run	# (the bounce, if it is still queued)
	expect_eq "mx1 recipients" "ok1@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "relay stored" 0 "$(mail_count relay)"
	wait_for 10 mail_count_is bounces 1 || fail "no bounce at the sender's MX"
	expect_eq "bounce to" "a@postern.example" "$(all_rcpts bounces)"
}

test_routes_fallback_unreachable() {	# no MX host answers: the relay, and the log says why
	postern_env "fallback_relay 127.0.0.30"
	dl_nodkim
	smtpd_start relay 127.0.0.30:25 || fail "start relay"
	printf 'From: a@postern.example\nSubject: down\nX-Seq: 1\n\ndown\n' |
		submit -i -f a@postern.example -- down1@mx-pref.example
	rt_queue_run_v
	dl_expect_spool_empty
	expect_eq "relay recipients" "down1@mx-pref.example" "$(all_rcpts relay)"
	grep -q 'to=<down1@mx-pref.example>, relay=127.0.0.30.*status=sent (direct delivery failed (connect to mx2.mx-pref.example' "$T/qr.out" ||
		fail "log line: $(grep 'down1' "$T/qr.out")"
}

test_routes_smarthost_auth_per_host() {	# smarthost_auth HOST FILE: each smarthost its own credentials
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	printf 'second s3cond\n' >"$T/second.auth"
	printf 'second s3cond\n' >"$T/second.users"
	chown root:postern "$T/smarthost.auth" "$T/second.auth"
	chmod 0640 "$T/smarthost.auth" "$T/second.auth"
	postern_env "smarthost smarthost.example:587 smarthost.example:2587" "smarthost_auth $T/smarthost.auth" \
		"smarthost_auth smarthost.example:2587 $T/second.auth"
	# the first (:587, user postern) is down: the second authenticates as its own user
	smtpd_start second 127.0.0.20:2587 --tls-as smarthost --auth-file "$T/second.users" || fail "start second"
	msg "a@postern.example" "far@mx-pref.example" "second" | submit -t -i
	queue_run
	expect_eq "at the second smarthost" far@mx-pref.example "$(all_rcpts second)"
	expect_eq "its auth user" second "$(env_get second 1 auth_user)"
	expect_eq "tls" yes "$(env_get second 1 tls)"
	expect_queue_empty
	# the first comes up: it gets the next message, with the credentials of the line without a host
	smarthost_start || fail "start smarthost"
	msg "a@postern.example" "far2@mx-pref.example" "first" | submit -t -i
	queue_run
	expect_eq "at the first smarthost" far2@mx-pref.example "$(all_rcpts smarthost587)"
	expect_eq "its auth user" postern "$(env_get smarthost587 1 auth_user)"
	expect_eq "the second got no more" 1 "$(mail_count second)"
	expect_queue_empty
	expect_eq "postern config smarthost_auth" "$T/smarthost.auth
smarthost.example:2587 $T/second.auth" "$("$BIN" -C "$CONF" config smarthost_auth)"
}

test_routes_fallback_relay_down() {	# a reputation refusal with the relay down: deferred, then via the relay
	postern_env "fallback_relay 127.0.0.30"
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'rep*' --rcpt-550-text "$RT_REPUTATION" || fail "start mx1"
	printf 'From: a@postern.example\nSubject: rep\nX-Seq: 1\n\nrep\n' |
		submit -i -f a@postern.example -- ok1@mx-pref.example rep1@mx-pref.example
	queue_run
	expect_eq "mx1 recipients" "ok1@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "deferred, not bounced" 1 "$(dl_spool_count deferred)"
	local env
	env=$(find "$SPOOL/deferred" -type f)
	grep -qx "R-STATUS 4.7.1" "$env" || fail "R-STATUS: $(grep R-STATUS "$env")"
	grep -q '^R-DIAG .*poor reputation' "$env" || fail "R-DIAG: $(grep R-DIAG "$env")"
	grep -q '^R-DIAG .*via relay' "$env" && fail "R-DIAG names a relay that was not used: $(grep R-DIAG "$env")"
	smtpd_start relay 127.0.0.30:25 || fail "start relay"
	queue_run
	dl_expect_spool_empty
	expect_eq "relay recipients" "rep1@mx-pref.example" "$(all_rcpts relay)"
	rt_rcpts_once "ok1@mx-pref.example rep1@mx-pref.example"
}

# Sender-dependent relays (sender_route): implicit.example:2525 (127.0.0.13, the world's server
# certificate names it) is the relay of the senders routed there; smarthost.example:587 the smarthost.

# rt_shauth - $T/smarthost.auth, the smarthost's credentials (postern/s3cret, as smarthost_start's users).
rt_shauth() {
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	chown root:postern "$T/smarthost.auth"
	chmod 0640 "$T/smarthost.auth"
}

# rt_mail_from NAME - every mail_from server NAME stored, sorted, space-separated.
rt_mail_from() { cat "$T/mail/$1"/*.env 2>/dev/null | sed -n 's/^mail_from: //p' | sort | tr '\n' ' ' | sed 's/ $//'; }

test_routes_sender_route() {	# a sender's relay for its mail, whatever the recipient domain; others the smarthost
	rt_shauth
	postern_env "smarthost smarthost.example:587" "smarthost_auth $T/smarthost.auth" \
		"sender_route shop.postern.example implicit.example:2525"
	# the relay has no credentials line of its own: smarthost_auth's line without a host is its too
	smarthost_start && smtpd_start relay 127.0.0.13:2525 --tls --auth-file "$T/smarthost.users" &&
		smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "sales@shop.postern.example" "far1@mx-pref.example" "shop" |
		submit -i -f sales@shop.postern.example -- far1@mx-pref.example d@implicit.example
	msg "a@postern.example" "far2@mx-pref.example" "other" | submit -i -f a@postern.example -- far2@mx-pref.example
	queue_run
	dl_expect_spool_empty
	expect_eq "relay stored (one destination for both recipient domains)" 1 "$(mail_count relay)"
	expect_eq "relay recipients" "d@implicit.example far1@mx-pref.example" "$(all_rcpts relay)"
	expect_eq "relay senders" "sales@shop.postern.example" "$(rt_mail_from relay)"
	expect_eq "relay auth user" postern "$(env_get relay 1 auth_user)"
	expect_eq "relay tls" yes "$(env_get relay 1 tls)"
	expect_eq "smarthost recipients" "far2@mx-pref.example" "$(all_rcpts smarthost587)"
	expect_eq "smarthost senders" "a@postern.example" "$(rt_mail_from smarthost587)"
	expect_eq "via the MX" 0 "$(mail_count mx1)"
	rt_rcpts_once "d@implicit.example far1@mx-pref.example far2@mx-pref.example"
	expect_eq "postern config sender_route" "shop.postern.example implicit.example:2525" \
		"$("$BIN" -C "$CONF" config sender_route)"
	pm -bv -f sales@shop.postern.example far@mx-pref.example || fail "-bv"
	grep -q "^far@mx-pref.example... deliverable: mailer esmtp, host implicit.example, user far@mx-pref.example$" \
		"$T/pm.out" || fail "-bv with the routed sender: $(cat "$T/pm.out")"
	pm -bv -f a@postern.example far@mx-pref.example || fail "-bv"
	grep -q "^far@mx-pref.example... deliverable: mailer esmtp, host smarthost.example, user far@mx-pref.example$" \
		"$T/pm.out" || fail "-bv with another sender: $(cat "$T/pm.out")"
}

test_routes_sender_route_route_direct_wins() {	# route DOMAIN direct beats the sender's relay
	postern_env "sender_route postern.example implicit.example:2525" "route mx-pref.example direct"
	smtpd_start relay 127.0.0.13:2525 --tls && smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "r@mx-pref.example" "direct wins" |
		submit -i -f a@postern.example -- r@mx-pref.example x@implicit.example
	queue_run
	dl_expect_spool_empty
	expect_eq "mx1 recipients (route direct)" "r@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "relay recipients (the sender's relay)" "x@implicit.example" "$(all_rcpts relay)"
	expect_eq "no AUTH without credentials" "" "$(env_get relay 1 auth_user)"
	rt_rcpts_once "r@mx-pref.example x@implicit.example"
	pm -bv -f a@postern.example r@mx-pref.example || fail "-bv"
	grep -q "^r@mx-pref.example... deliverable: mailer esmtp, host mx-pref.example, user r@mx-pref.example$" \
		"$T/pm.out" || fail "-bv: $(cat "$T/pm.out")"
}

test_routes_sender_route_down() {	# the sender's relay down: deferred naming it, never the smarthost; then once
	rt_shauth
	postern_env "smarthost smarthost.example:587" "smarthost_auth $T/smarthost.auth" \
		"sender_route a@postern.example implicit.example:2525"
	smarthost_start && smtpd_start mx1 127.0.0.11:25 || fail "start"
	msg "a@postern.example" "far@mx-pref.example" "relay down" | submit -i -f A@postern.example -- far@mx-pref.example
	queue_run
	expect_eq "at the smarthost" 0 "$(mail_count smarthost587)"
	expect_eq "via the MX" 0 "$(mail_count mx1)"
	expect_eq "deferred" 1 "$(dl_spool_count deferred)"
	local env
	env=$(find "$SPOOL/deferred" -type f)
	grep -q '^R-DIAG .*connect to implicit.example\[127.0.0.13\]:2525' "$env" ||
		fail "R-DIAG does not name the relay: $(grep R-DIAG "$env")"
	grep -qx "ATTEMPTS 1" "$env" || fail "ATTEMPTS: $(grep ^ATTEMPTS "$env")"
	smtpd_start relay 127.0.0.13:2525 --tls --auth-file "$T/smarthost.users" || fail "start relay"
	queue_run
	dl_expect_spool_empty
	expect_eq "relay recipients" "far@mx-pref.example" "$(all_rcpts relay)"
	expect_eq "at the smarthost after" 0 "$(mail_count smarthost587)"
	rt_rcpts_once "far@mx-pref.example"
}

test_routes_sender_route_auth_per_host() {	# smarthost_auth HOST FILE: the sender's relay its own credentials
	rt_shauth
	printf 'second s3cond\n' >"$T/second.auth"
	printf 'second s3cond\n' >"$T/second.users"
	chown root:postern "$T/second.auth"
	chmod 0640 "$T/second.auth"
	postern_env "smarthost smarthost.example:587" "smarthost_auth $T/smarthost.auth" \
		"sender_route news@postern.example smarthost.example:2587" \
		"smarthost_auth smarthost.example:2587 $T/second.auth"
	smarthost_start && smtpd_start second 127.0.0.20:2587 --tls-as smarthost --auth-file "$T/second.users" ||
		fail "start"
	msg "news@postern.example" "n@mx-pref.example" "news" | submit -i -f news@postern.example -- n@mx-pref.example
	msg "a@postern.example" "o@mx-pref.example" "other" | submit -i -f a@postern.example -- o@mx-pref.example
	queue_run
	dl_expect_spool_empty
	expect_eq "at the sender's relay" n@mx-pref.example "$(all_rcpts second)"
	expect_eq "its auth user" second "$(env_get second 1 auth_user)"
	expect_eq "at the smarthost" o@mx-pref.example "$(all_rcpts smarthost587)"
	expect_eq "the smarthost's auth user" postern "$(env_get smarthost587 1 auth_user)"
	rt_rcpts_once "n@mx-pref.example o@mx-pref.example"
}

test_routes_sender_route_implicit_tls() {	# a sender's relay on 465: TLS from the first byte, as a smarthost's
	rt_shauth
	postern_env "smarthost smarthost.example:587" "smarthost_auth $T/smarthost.auth" \
		"sender_route postern.example smarthost.example:465"
	smarthost_start || fail "start"
	msg "a@postern.example" "far@mx-pref.example" "465" | submit -i -f a@postern.example -- far@mx-pref.example
	queue_run
	dl_expect_spool_empty
	expect_eq "at the relay on 465" far@mx-pref.example "$(all_rcpts smarthost465)"
	expect_eq "its tls mode" implicit "$(env_get smarthost465 1 tls_mode)"
	expect_eq "its auth user" postern "$(env_get smarthost465 1 auth_user)"
	expect_eq "at the smarthost on 587" 0 "$(mail_count smarthost587)"
}

# rt_states - "RCPT STATE" per recipient of each message in the spool (spool_env: the envelope the
# runner would read), sorted; the in-place word done--- reads as sent, delayed as pending.
rt_states() {
	local f
	for f in "$SPOOL"/data/*; do
		[ -e "$f" ] && spool_env "${f##*/}"
	done | awk '/^RCPT / { r = $2 } /^R-STATE / { s = $2; sub(/^done---$/, "sent", s); sub(/^delayed$/, "pending", s); print r, s }' |
		sort | tr '\n' ' ' | sed 's/ $//'
}

# SIGKILL (the runner's whole process group) while the recipients carried from mx1's 451 are in a
# transaction at mx2, stalled after the final dot (its reply would have come 60 s later; the slow mx2
# is stopped before it stores anything). The 250s mx1 gave were recorded when read: the next run
# (mx1 still 451 for soft*, a good mx2) sends hard1 and hard2 nowhere again, and the carried ones
# arrive exactly once. (A kill after mx2's 250 and before the runner read it would send the carried
# ones twice: the one transaction in flight, the window DESIGN.md's "exactly once as far as SMTP
# allows" accepts, as delivery_sigkill_* do; this test keeps the kill before that reply.)
test_routes_rcpt_4xx_next_mx_sigkill() {
	postern_env
	dl_nodkim
	smtpd_start mx1 127.0.0.11:25 --rcpt-451 'soft*' || fail "start mx1"
	dl_slow_start slow2 127.0.0.12:25 60
	local slowpid pid states
	slowpid=$(tail -n 1 "$T/pids")
	printf 'From: a@postern.example\nSubject: split\nX-Seq: 1\n\nsplit\n' |
		submit -i -f a@postern.example -- hard1@mx-pref.example soft1@mx-pref.example \
			soft2@mx-pref.example hard2@mx-pref.example
	# its own process group (setsid does not fork: a background job of this shell is no group leader)
	setsid "$T/bin/sendmail" -C "$CONF" -q </dev/null >"$T/killed.out" 2>&1 &
	pid=$!
	wait_for 20 test -s "$T/mail/slow2/.data-started" || fail "the carried recipients never reached DATA at mx2"
	expect_eq "mx1 recipients before the kill" "hard1@mx-pref.example hard2@mx-pref.example" "$(all_rcpts mx1)"
	kill -KILL -- "-$pid"
	wait "$pid" 2>/dev/null
	kill "$slowpid" && wait "$slowpid" 2>/dev/null
	expect_eq "stored by the stalled mx2" 0 "$(mail_count slow2)"
	wait_for 15 dl_all_unlocked || fail "the message still locked 15 s after the kill"
	states=$(rt_states)
	echo "# after the kill: $states"
	expect_eq "recorded at the kill" "hard1@mx-pref.example sent hard2@mx-pref.example sent soft1@mx-pref.example pending soft2@mx-pref.example pending" "$states"
	smtpd_start mx2 127.0.0.12:25 || fail "start mx2"
	queue_run
	dl_expect_spool_empty
	expect_eq "mx1 stored (hard1, hard2 never again)" 1 "$(mail_count mx1)"
	expect_eq "mx2 recipients" "soft1@mx-pref.example soft2@mx-pref.example" "$(all_rcpts mx2)"
	rt_rcpts_once "hard1@mx-pref.example hard2@mx-pref.example soft1@mx-pref.example soft2@mx-pref.example"
}
