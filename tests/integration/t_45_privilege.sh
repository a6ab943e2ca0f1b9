# t_45_privilege.sh - what a local user can do to other people's mail (issue 9, part 3): the queue
# commands of an unprivileged caller (sendmail -q, -qR, -qS, -qI, runq, -qTIME) act only on the
# messages that caller submitted and never lock another's; the detached run after a submission takes
# that message only; a local TLS failure (no TLS context; resource limits too small) defers and never
# sends in clear; the runner raises its soft limits or refuses to run; mailq_users. The unprivileged
# caller is uid/gid 65534 made by setpriv, against a set-group-id copy of the binary (t_40's
# unpriv_setup, inside private mounts); nothing depends on the host's users.

# priv_mounts FN - in_private_mounts for this file's functions.
priv_mounts() {
	unshare --mount --propagation private bash -c '
		. "$HERE/world.sh"; . "$HERE/postern.sh"; . "$HERE/t_40_submit.sh"; . "$HERE/t_45_privilege.sh"
		shopt -s lastpipe; set -x; "$@"' _ "$@" ||
		fail "$(cat "$T/reason" 2>/dev/null || echo "$1 failed")"
}

# priv_id_of SUBJECT - the queue id of the queued message with this Subject.
priv_id_of() {
	local id
	for id in $(ls "$SPOOL/new" "$SPOOL/deferred" 2>/dev/null | grep -E '^[0-9A-F]{19}$' | sort -u); do
		spool_data "$id" | grep -q "^Subject: $1"$'\r'"\$" && { echo "$id"; return 0; }
	done
	fail "no queued message with Subject: $1"
}

# priv_untouched ID WHAT - message ID is queued, never attempted (ATTEMPTS 0), and not locked.
priv_untouched() {
	local env
	env=$(spool_env "$1") || fail "$2: message $1 is gone from the queue"
	grep -qx 'ATTEMPTS 0' <<<"$env" || fail "$2: message $1 was attempted: $(grep ATTEMPTS <<<"$env" | head -n 1)"
	[ -e "$SPOOL/deferred/$1" ] && fail "$2: message $1 was deferred by someone"
	flock -n "$SPOOL/data/$1" true || fail "$2: message $1 is locked"
	return 0
}

# priv_deferred_reason ID - the R-DIAG of ID's first recipient (must be non-empty).
priv_deferred_reason() {
	local d
	d=$(spool_env "$1" | sed -n 's/^R-DIAG //p' | head -n 1)
	[ -n "$d" ] || fail "message $1 has no deferral reason: $(spool_env "$1" | tr '\n' ' ' | head -c 300)"
	echo "$d"
}

# ------------------------------------------------------------------ a local TLS failure never downgrades

# The TLS context cannot be made (tls_ca names no file): a server offering STARTTLS gets nothing, in
# clear or otherwise, and the message is deferred saying why; one that offers no STARTTLS gets its
# message in clear, as `tls may` says.
test_priv_tls_context_unavailable_defers() {
	postern_env
	sed -i "s|^tls_ca .*|tls_ca $T/no-such-ca.pem|" "$CONF"
	# (badcert.example: one MX, so the reason recorded is that host's)
	smtpd_start mx1 127.0.0.16:25 --tls && smtpd_start imp 127.0.0.13:25 || fail "start"
	msg a@postern.example u@badcert.example "starttls offered" | submit -t -i
	msg a@postern.example v@implicit.example "no starttls" | submit -t -i
	local id
	id=$(priv_id_of "starttls offered")
	queue_run
	expect_eq "messages to the STARTTLS server" 0 "$(mail_count mx1)"
	expect_eq "messages to the plaintext-only server" 1 "$(mail_count imp)"
	expect_eq "tls at the plaintext-only server" no "$(env_get imp 1 tls)"
	[ -e "$SPOOL/deferred/$id" ] || fail "the message to the STARTTLS server is not deferred"
	priv_deferred_reason "$id" | grep -q "TLS is unavailable" || fail "reason: $(priv_deferred_reason "$id")"
}

# `ulimit -v 8650; sendmail -qI ID` (the issue's reproduction): the hard limit is too small for a
# runner, which refuses with 75 and one line, touching nothing; before, OpenSSL failed locally in the
# handshake and the message went out in clear.
test_priv_rlimit_hard_too_small_refused() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg a@postern.example u@mx-pref.example "small limits" | submit -t -i
	local id rc
	id=$(priv_id_of "small limits")
	(ulimit -v 8650; "$T/bin/sendmail" -C "$CONF" -qI"$id" </dev/null >"$T/pm.out" 2>"$T/pm.err")
	rc=$?
	expect_eq "exit status under ulimit -v 8650" 75 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	grep -q "address space (ulimit -v).*not running" "$T/pm.err" || fail "stderr: $(cat "$T/pm.err")"
	expect_eq "delivered" 0 "$(mail_count mx1)"
	priv_untouched "$id" "after the refused run"
	# a hard limit at the runner's minimum is enough for a TLS delivery
	(ulimit -v 262144; "$T/bin/sendmail" -C "$CONF" -qI"$id" </dev/null >"$T/pm.out" 2>"$T/pm.err") ||
		fail "under ulimit -v 262144: exit $?: $(cat "$T/pm.err")"
	expect_eq "delivered at the minimum" 1 "$(mail_count mx1)"
	expect_eq "tls" yes "$(env_get mx1 1 tls)"
}

# Soft limits the caller lowered (the hard ones allow more) are raised by the runner: the message goes
# out over TLS, once.
test_priv_rlimit_soft_raised() {
	postern_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg a@postern.example u@mx-pref.example "soft limits" | submit -t -i
	(ulimit -S -v 8650; ulimit -S -t 1; ulimit -S -s 256; "$T/bin/sendmail" -C "$CONF" -q </dev/null \
		>"$T/pm.out" 2>"$T/pm.err") || fail "under low soft limits: exit $?: $(cat "$T/pm.err")"
	expect_eq "delivered" 1 "$(mail_count mx1)"
	expect_eq "tls" yes "$(env_get mx1 1 tls)"
	expect_queue_empty
}

# ------------------------------------------------------------------ the detached run after a submission

# The run a submission starts (-qI ID) takes that message and no other: one queued with -odq before
# it, due now, is left untouched.
test_priv_detached_run_takes_its_message_only() {
	postern_env
	sed -i 's/^deliver queue$/deliver background/' "$CONF"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg a@postern.example held@mx-pref.example "held" | submit -odq -t -i
	local held
	held=$(priv_id_of held)
	msg a@postern.example now@mx-pref.example "now" | submit -t -i
	wait_mail mx1 1 || fail "the new message was not delivered by its detached run"
	sleep 1
	expect_eq "recipients at mx1" now@mx-pref.example "$(all_rcpts mx1)"
	priv_untouched "$held" "after the detached run"
}

# -------------------------------------------------------------------------- the unprivileged caller

# root_and_nobody_msgs - root queues "root's" (to a@), nobody queues "nobody's" (to b@); both due now.
root_and_nobody_msgs() {
	msg a@postern.example a@mx-pref.example "root's" | submit -t -i
	printf 'To: b@mx-pref.example\nSubject: nobody'"'"'s\n\nbody\n' | nobody_pm -t -i ||
		fail "nobody's submission exited $?: $(cat "$T/pm.err")"
}

# Every queue command of nobody's acts on nobody's message only: root's is never attempted, locked,
# reordered or sent; root then delivers it, once.
test_priv_unprivileged_q_own_messages_only() { postern_env; priv_mounts unpriv_q_own_inner; }
unpriv_q_own_inner() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	unpriv_setup
	ln -s "$T/sbin/sendmail" "$T/sbin/runq"
	root_and_nobody_msgs
	local root_id nobody_id
	root_id=$(priv_id_of "root's")
	nobody_id=$(priv_id_of "nobody's")
	nobody_pm -qI"$root_id" </dev/null || fail "-qI (root's id) as nobody exited $?: $(cat "$T/pm.err")"
	priv_untouched "$root_id" "nobody's -qI with root's id"
	expect_eq "delivered after nobody's -qI (root's id)" 0 "$(mail_count mx1)"
	nobody_pm -q </dev/null || fail "-q as nobody exited $?: $(cat "$T/pm.err")"
	expect_eq "recipients after nobody's -q" b@mx-pref.example "$(all_rcpts mx1)"
	priv_untouched "$root_id" "nobody's -q"
	local a
	for a in -q -qRmx-pref.example -qSpostern.example -qI"$root_id"; do
		nobody_pm "$a" </dev/null || fail "$a as nobody exited $?: $(cat "$T/pm.err")"
		priv_untouched "$root_id" "nobody's $a"
	done
	as_nobody "$T/sbin/runq" </dev/null >"$T/pm.out" 2>"$T/pm.err" || fail "runq as nobody exited $?: $(cat "$T/pm.err")"
	priv_untouched "$root_id" "nobody's runq"
	expect_eq "delivered while only nobody ran the queue" 1 "$(mail_count mx1)"
	[ -z "$(find "$SPOOL" -user 65534)" ] || fail "files owned by nobody in the spool: $(find "$SPOOL" -user 65534 | head -n 3)"
	queue_run
	expect_eq "recipients after root's -q" "a@mx-pref.example b@mx-pref.example" "$(all_rcpts mx1)"
	expect_queue_empty
}

# nobody's runner, stopped with SIGSTOP while the queue's server stalls, holds no lock on root's
# message (before: its worker held it for the whole greeting timeout, and every root run skipped it).
test_priv_unprivileged_runner_locks_nothing_of_others() { postern_env "timeout_greeting 30"; priv_mounts unpriv_stop_inner; }
unpriv_stop_inner() {
	smtpd_start mx1 127.0.0.11:25 --stall || fail "start"
	unpriv_setup
	msg a@postern.example a@mx-pref.example "root's" | submit -t -i
	local root_id pid
	root_id=$(priv_id_of "root's")
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$T/sbin/sendmail" -q </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 2
	kill -STOP "$pid" 2>/dev/null
	local held=0
	flock -n "$SPOOL/data/$root_id" true || held=1
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$held" -eq 0 ] || fail "root's message is locked by nobody's stopped runner"
	priv_untouched "$root_id" "nobody's stopped runner"
}

# A periodic runner is root's or postern's: nobody's -q1s is refused (77, one line) and runs nothing.
test_priv_unprivileged_periodic_refused() { postern_env; priv_mounts unpriv_periodic_inner; }
unpriv_periodic_inner() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	unpriv_setup
	root_and_nobody_msgs
	local rc
	timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups -- "$T/sbin/sendmail" -q1s </dev/null \
		>"$T/pm.out" 2>"$T/pm.err"
	rc=$?
	expect_eq "exit status of -q1s as nobody" 77 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	grep -q "periodic queue runner" "$T/pm.err" || fail "stderr: $(cat "$T/pm.err")"
	expect_eq "delivered" 0 "$(mail_count mx1)"
}

# mailq_users: anyone (the default) lists every envelope; group lets root and the postern group list;
# root only root. A refusal is 77 with one line and lists nothing.
test_priv_mailq_users() { postern_env; priv_mounts unpriv_mailq_inner; }
unpriv_mailq_inner() {
	unpriv_setup
	msg a@postern.example a@mx-pref.example "root's" "Bcc: hidden@mx-pref.example" | submit -t -i
	local gid rc
	gid=$(getent group postern | cut -d: -f3)
	nobody_pm -bp </dev/null || fail "-bp as nobody (mailq_users anyone) exited $?"
	grep -q hidden@mx-pref.example "$T/pm.out" || fail "the default does not list every envelope: $(cat "$T/pm.out")"
	for level in group root; do
		sed -i '/^mailq_users /d' /etc/postern/postern.conf
		echo "mailq_users $level" >>/etc/postern/postern.conf
		nobody_pm -bp </dev/null
		rc=$?
		expect_eq "-bp as nobody, mailq_users $level" 77 "$rc"
		expect_eq "stdout of the refused -bp" "" "$(cat "$T/pm.out")"
		expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
		grep -q "permission denied" "$T/pm.err" || fail "stderr: $(cat "$T/pm.err")"
		setpriv --reuid=65534 --regid=65534 --groups="$gid" -- "$T/sbin/sendmail" -bp </dev/null >"$T/pm.out" 2>"$T/pm.err"
		rc=$?
		if [ "$level" = group ]; then
			expect_eq "-bp by a member of the postern group, mailq_users group" 0 "$rc"
			grep -q hidden@mx-pref.example "$T/pm.out" || fail "a group member does not see the queue"
		else
			expect_eq "-bp by a member of the postern group, mailq_users root" 77 "$rc"
		fi
		"$T/sbin/sendmail" -bp </dev/null >"$T/pm.out" 2>"$T/pm.err" || fail "-bp as root, mailq_users $level: exit $?"
		grep -q a@mx-pref.example "$T/pm.out" || fail "root does not see the queue"
	done
}

# The spool's housekeeping (stale tmp/ files, orphaned data files, which it locks to tell) is for root's
# and postern's runs: nobody's -q leaves a day-old tmp/ file alone; root's removes it.
test_priv_unprivileged_runner_no_housekeeping() { postern_env; priv_mounts unpriv_sweep_inner; }
unpriv_sweep_inner() {
	unpriv_setup
	printf 'To: b@mx-pref.example\nSubject: mine\n\nbody\n' | nobody_pm -odq -t -i || fail "submission: $(cat "$T/pm.err")"
	printf 'partial' >"$SPOOL/tmp/0123456789ABCDEF012.data"
	chown root:postern "$SPOOL/tmp/0123456789ABCDEF012.data"
	touch -d '2 days ago' "$SPOOL/tmp/0123456789ABCDEF012.data"
	nobody_pm -q </dev/null || fail "-q as nobody exited $?: $(cat "$T/pm.err")"
	[ -e "$SPOOL/tmp/0123456789ABCDEF012.data" ] || fail "nobody's -q swept the spool"
	queue_run
	[ -e "$SPOOL/tmp/0123456789ABCDEF012.data" ] && fail "root's -q did not sweep the stale tmp/ file"
	return 0
}
