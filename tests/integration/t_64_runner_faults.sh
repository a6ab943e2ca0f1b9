# t_64_runner_faults.sh - the queue runner against peers that stall or drop (faultsmtpd.py): nobody
# waits for one bad connection, a message nobody tried is not charged an attempt, and a killed runner
# does not send again what it already got a 250 for. Uses the dl_* helpers of t_60_delivery.sh.

# rf_state ID - "new" (never attempted) or "deferred" (an attempt recorded), from the spool.
rf_state() {
	if [ -e "$SPOOL/deferred/$1" ]; then echo deferred; elif [ -e "$SPOOL/new/$1" ]; then echo new; else echo gone; fi
}

# rf_delivered_at_least NAME N - faultsmtpd NAME has accepted N messages or more (for wait_for).
rf_delivered_at_least() { [ "$(ids_count "$1")" -ge "$2" ]; }

# rf_reasons - the reasons mailq shows for deferred messages, one a line ("" where one is empty).
rf_reasons() {
	"$T/bin/mailq" -C "$CONF" 2>/dev/null | sed -n 's/^ *(\(.*\))$/\1/p'
}

# rf_zombies PID - how many exited, unreaped processes PID and its descendants have.
rf_zombies() {
	ps -eo pid=,ppid=,stat= | awk -v top="$1" '
		{ par[$1] = $2; st[$1] = $3 }
		END {
			n = 0
			for (p in par) {
				if (st[p] !~ /^Z/) continue
				for (a = par[p]; a != "" && a > 1; a = par[a]) if (a == top) { n++; break }
			}
			print n
		}'
}

test_runner_stalled_dot_others_go() {	# one final dot never answered: the rest go at once
	postern_env "timeout_data_done 10" "max_connections 4"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --stall-dot 20 || fail "start"
	dl_submit_n 300 mx-pref.example
	local t0=$SECONDS
	"$T/bin/sendmail" -C "$CONF" -q -v </dev/null >"$T/run.out" 2>&1 &
	local pid=$!
	echo "$pid" >>"$T/pids"
	# 299 of 300 are delivered while the stalled connection waits for its reply
	wait_for 6 rf_delivered_at_least mx1 299 ||
		fail "only $(ids_count mx1) of the other 299 delivered within 6 s while one dot was unanswered"
	echo "# 299 delivered after $((SECONDS - t0)) s; the stalled transaction times out at 10 s"
	expect_eq "delivered twice" 0 "$(ids_dups mx1)"
	# the workers that finished were reaped while the pass still waits for the stalled one
	sleep 0.5
	expect_eq "zombie workers while the pass waits" 0 "$(rf_zombies "$pid")"
	wait "$pid"
	expect_eq "runner exit" 0 "$?"
	# the stalled message tried again on a new connection once its dot timed out (it was not
	# stored: a server that never answered the dot did not take it)
	[ $((SECONDS - t0)) -ge 10 ] || fail "the pass ended before the stalled transaction timed out"
	expect_eq "delivered in all" 300 "$(ids_count mx1)"
	expect_eq "delivered twice" 0 "$(ids_dups mx1)"
	dl_expect_spool_empty
}

test_runner_drops_retried_not_charged() {	# 10% of DATA dropped: retried on new connections
	postern_env "max_connections 4"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --drop-data 0.1 --seed 3 || fail "start"
	dl_submit_n 300 mx-pref.example
	local pass left
	for pass in 1 2 3; do
		"$T/bin/sendmail" -C "$CONF" -q </dev/null >>"$T/run.out" 2>&1
		left=$(($(dl_spool_count new) + $(dl_spool_count deferred)))
		echo "# pass $pass: $(ids_count mx1) delivered, $left left ($(dl_spool_count new) never attempted)," \
			"$(wc -l <"$T/mail/mx1/connections") connections"
		if [ "$pass" -eq 1 ]; then
			# a drop is retried on a new connection (a message at most DLV_TRIES=3 times): with
			# p = 0.1 about 300 * 0.001 are left after the first pass, and none untried
			[ "$left" -le 5 ] || fail "$left of 300 left after the first pass"
			expect_eq "left untried after a pass that worked" 0 "$(dl_spool_count new)"
			# the reasons of what is left are never empty
			rf_reasons | while IFS= read -r why; do
				case $why in *[a-z]*) ;; *) fail "an empty deferral reason" ;; esac
			done
		fi
		[ "$left" -eq 0 ] && break
	done
	expect_eq "left after $pass passes" 0 "$left"
	expect_eq "delivered" 300 "$(ids_count mx1)"
	expect_eq "delivered twice" 0 "$(ids_dups mx1)"
	dl_expect_spool_empty
}

test_runner_always_drops_bounded() {	# a server that drops every DATA: few connections, all deferred
	postern_env "max_connections 1"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --drop-data 1 || fail "start"
	dl_submit_n 20 mx-pref.example
	queue_run
	local conns
	conns=$(wc -l <"$T/mail/mx1/connections")
	echo "# $conns connections for 20 messages"
	# the host gets DLV_NOPROGRESS (3) connections, then the destination is given up: the message in
	# them is deferred with the reason, and nothing could be delivered there, so every other is too
	[ "$conns" -le 3 ] || fail "$conns connections to a server that drops every DATA (want at most 3)"
	expect_eq "delivered" 0 "$(ids_count mx1)"
	expect_eq "left: never attempted, attempted" "0 20" "$(dl_spool_count new) $(dl_spool_count deferred)"
	rf_reasons | grep -q . || fail "no reasons"
	rf_reasons | while IFS= read -r why; do
		case $why in *[a-z]*) ;; *) fail "an empty deferral reason" ;; esac
	done
}

test_runner_drop_after_progress_bounded() {	# a server that breaks after a while: bounded, all answered
	postern_env "max_connections 1"
	dl_nodkim
	# the first DATA works, then every one drops. Worker 1: connection 1 delivers n1 and loses n2;
	# 2 and 3 lose n2 again (its third: deferred); 4 loses n3 (tried: deferred), the third
	# connection in a row with no message answered, so mx1 is given up (mx2, 127.0.0.12, refuses)
	# and what it had not started goes back. Worker 2 gets nothing through on 3 connections: a
	# verdict on the destination, so every message left is deferred with the reason.
	faultsmtpd_start mx1 127.0.0.11:25 --drop-data 1 --drop-after 1 || fail "start"
	dl_submit_n 10 mx-pref.example
	queue_run
	expect_eq "delivered" 1 "$(ids_count mx1)"
	expect_eq "connections" 7 "$(wc -l <"$T/mail/mx1/connections")"
	expect_eq "left: never attempted, attempted" "0 9" "$(dl_spool_count new) $(dl_spool_count deferred)"
	rf_reasons | while IFS= read -r why; do
		case $why in *[a-z]*) ;; *) fail "an empty deferral reason" ;; esac
	done
}

test_runner_sigkill_drain_no_resend() {	# SIGKILLs during a drain: what got its 250 is not sent again
	postern_env "max_connections 4"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --fast || fail "start"
	dl_submit_n 400 mx-pref.example
	local k pid kills=12 dups
	for k in $(seq 1 $kills); do
		"$T/bin/sendmail" -C "$CONF" -q </dev/null >>"$T/killed.out" 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((20 + RANDOM % 80)))"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
	done
	wait_for 30 dl_all_unlocked || fail "messages still locked 30 s after the last kill"
	queue_run
	dl_expect_spool_empty
	expect_eq "distinct messages delivered (none lost)" 400 "$(cut -f1 "$T/mail/mx1/ids" | sort -u | wc -l)"
	dups=$(ids_dups mx1)
	echo "# $kills kills: $dups extra deliveries"
	# only a transaction whose final reply was in flight at the kill may go twice (a reply that had
	# been read is recorded at once): up to one per connection, four, at each kill. How many are in
	# flight depends on how soon a worker is scheduled after the 250 arrives: one kill in ten on a
	# quiet machine, five in ten on a 2-core VM with slow wake-ups (5-10 after 12 kills). A runner
	# that resent what it had recorded would send dozens again at each kill; allow one per kill.
	[ "$dups" -le "$kills" ] || fail "$dups extra deliveries after $kills kills (want at most $kills)"
}

test_runner_sigkill_while_signing() {	# SIGKILLs while runs sign batches (f65b28a): none lost, each copy signed
	postern_env "max_connections 4"
	faultsmtpd_start mx1 127.0.0.11:25 || fail "start"
	dl_submit_n 150 mx-pref.example
	local k pid kills=10 f n=0
	for k in $(seq 1 $kills); do
		"$T/bin/sendmail" -C "$CONF" -q </dev/null >>"$T/killed.out" 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((10 + RANDOM % 90)))"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
	done
	wait_for 30 dl_all_unlocked || fail "messages still locked 30 s after the last kill"
	queue_run
	dl_expect_spool_empty
	expect_eq "distinct messages delivered (none lost)" 150 "$(cut -f1 "$T/mail/mx1/ids" | sort -u | wc -l)"
	echo "# $kills kills while signing: $(ids_dups mx1) extra deliveries"
	# only a reply in flight at a kill may be resent: at most one per connection (4) per kill
	[ "$(ids_dups mx1)" -le $((kills * 4)) ] || fail "$(ids_dups mx1) extra deliveries after $kills kills"
	# every copy that arrived carries both signatures, and they verify (a kill between the signed
	# envelope's rename and the batch's sync leaves deferred/ID, which is what the next run reads)
	for f in "$T/mail/mx1"/*.eml; do
		expect_eq "DKIM-Signature fields in $f" 2 "$(dkim_sig_count "$f")"
		n=$((n + 1))
	done
	expect_eq "copies stored" "$(ids_count mx1)" "$n"
	for f in $(ls "$T/mail/mx1"/*.eml | shuf -n 3 --random-source=/dev/zero); do
		expect_dkim "$f"
	done
}

test_runner_periodic_not_held_by_straggler() {	# -q2s: a stalled pass does not hold up new mail
	postern_env "pidfile $T/postern.pid" "timeout_data_done 40"
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 --stall-dot 1 || fail "start"
	dl_seq_msg 1 s1@mx-pref.example | submit -i -- s1@mx-pref.example
	dl_runner_start 2s
	wait_for 10 grep -q "stall" "$T/log/mx1.log" || fail "the first dot was not stalled: $(tail -n 3 "$T/log/mx1.log")"
	dl_seq_msg 2 s2@mx-pref.example | submit -i -- s2@mx-pref.example
	# the pass that holds the stalled connection reads the spool again every interval
	wait_for 8 rf_delivered_at_least mx1 1 || fail "new mail waited for the stalled transaction"
	kill -TERM "$RPID"
	wait "$RPID"
	expect_eq "delivered" 1 "$(ids_count mx1)"
}

test_runner_queue_run_v_status_lines() {	# postern queue-run -v: the transcript and the status= lines
	postern_env
	dl_nodkim
	faultsmtpd_start mx1 127.0.0.11:25 || fail "start"
	dl_submit_n 2 mx-pref.example
	ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" -C "$CONF" queue-run -v </dev/null >"$T/qr.out" 2>&1
	expect_eq "exit" 0 "$?"
	expect_eq "status=sent lines" 2 "$(grep -c 'status=sent' "$T/qr.out")"
	# each transcript line carries its connection's tag
	grep -q '^\[mx-pref.example#1\] >>> MAIL FROM:<seq@postern.example>' "$T/qr.out" ||
		fail "no tagged transcript: $(head -n 3 "$T/qr.out")"
	expect_eq "untagged transcript lines" 0 "$(grep -c '^[<>][<>][<>] ' "$T/qr.out")"
}
