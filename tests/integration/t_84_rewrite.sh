# t_84_rewrite.sh - sender rewriting at submission (issue 13): cron's and PHP's exact invocations leave
# with an envelope sender and a From in the configured domain, DKIM-signed and verifiable; a form's
# From: visitor@gmail.com is rewritten (its author kept in Reply-To) or refused with 65 per from_policy.

# rw_private FUNC - FUNC in private mounts (t_40's unpriv_setup: a set-group-id sendmail in $T/sbin and
# the configuration at /etc/postern/postern.conf), with this file's functions too.
rw_private() {
	unshare --mount --propagation private bash -c '
		. "$HERE/world.sh"; . "$HERE/postern.sh"; . "$HERE/t_40_submit.sh"; . "$HERE/t_84_rewrite.sh"
		shopt -s lastpipe; set -x; "$@"' _ "$@" ||
		fail "$(cat "$T/reason" 2>/dev/null || echo "$1 failed")"
}

# as_www FILE ARGS... - the set-group-id sendmail run as www-data (as PHP's mail() runs it), stdin from
# FILE, without -C (the installed configuration); output in $T/pm.out and $T/pm.err, its status.
as_www() {
	local in=$1
	shift
	setpriv --reuid=www-data --regid=www-data --clear-groups -- "$T/sbin/sendmail" "$@" <"$in" \
		>"$T/pm.out" 2>"$T/pm.err"
}

# rw_fail REASON - fail from inside rw_private (the reason is read by the outer shell).
rw_fail() { echo "$1" >"$T/reason"; exit 1; }

# cron: `sendmail -FCronDaemon -i -B8BITMIME -oem root`, as cron runs it, with cron's header section.
test_rewrite_cron() {
	postern_env "rewrite_sender root cron@postern.example" "rewrite_from root cron@postern.example"
	echo "root: admin@mx-pref.example" >"$T/aliases"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	printf '%s\n' "From: root (Cron Daemon)" "To: root" "Subject: Cron <root@mail> /usr/local/bin/backup" \
		"MIME-Version: 1.0" "Content-Type: text/plain; charset=UTF-8" "Content-Transfer-Encoding: 8bit" \
		"X-Cron-Env: <SHELL=/bin/sh>" "" "backup: 3 files, caf$(printf '\303\251')" |
		submit -FCronDaemon -i -B8BITMIME -oem root
	queue_run
	expect_eq "delivered" 1 "$(mail_count mx1)"
	local m
	m=$(mail_file mx1)
	expect_eq "envelope sender" "cron@postern.example" "$(env_get mx1 1 mail_from)"
	expect_eq "recipient" "admin@mx-pref.example" "$(env_get mx1 1 rcpt_to)"
	expect_eq "From" "Cron Daemon <cron@postern.example>" "$(header "$m" From)"
	expect_eq "Reply-To" "root@postern.example (Cron Daemon)" "$(header "$m" Reply-To)"
	expect_eq "one From" 1 "$(sed -e 's/\r$//' -e '/^$/q' "$m" | grep -ci '^from:')"
	verify_dkimpy "$m" || fail "the rewritten message does not verify"
}

# PHP: `sendmail -t -i` as www-data; From: www-data@hostname is rewritten by the user-name rule; a
# form's From: visitor@gmail.com by from_policy rewrite-unaligned, the visitor kept in Reply-To.
test_rewrite_php() {
	postern_env "rewrite_sender www-data web@postern.example" "rewrite_from www-data web@postern.example" \
		"from_policy rewrite-unaligned"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	printf '%s\n' "To: u@mx-pref.example" "Subject: order 17" "From: www-data@mail.postern.example" "" \
		"Your order." >"$T/php1.eml"
	printf '%s\n' "To: u@mx-pref.example" "Subject: contact form" "From: Visitor <visitor@gmail.com>" "" \
		"Hello." >"$T/php2.eml"
	rw_private php_inner
	queue_run
	expect_eq "delivered" 2 "$(mail_count mx1)"
	local i m subj
	for i in 1 2; do
		m=$(mail_file mx1 "$i")
		subj=$(header "$m" Subject)
		expect_eq "envelope sender ($subj)" "web@postern.example" "$(env_get mx1 "$i" mail_from)"
		verify_dkimpy "$m" || fail "$subj: does not verify"
		case $subj in
		"order 17")
			expect_eq "From" "web@postern.example" "$(header "$m" From)"
			expect_eq "Reply-To" "www-data@mail.postern.example" "$(header "$m" Reply-To)" ;;
		"contact form")
			expect_eq "From" "Visitor <web@postern.example>" "$(header "$m" From)"
			expect_eq "Reply-To" "Visitor <visitor@gmail.com>" "$(header "$m" Reply-To)" ;;
		*) fail "unexpected message $subj" ;;
		esac
	done
}
php_inner() {
	unpriv_setup
	as_www "$T/php1.eml" -t -i || rw_fail "php1: sendmail exited $?: $(cat "$T/pm.err")"
	as_www "$T/php2.eml" -t -i || rw_fail "php2: sendmail exited $?: $(cat "$T/pm.err")"
	grep -q "^UID 33$" "$SPOOL"/data/* || rw_fail "not submitted as www-data"
}

# from_policy refuse-unaligned: the form's message is refused with 65 and one line, nothing queued;
# a From in the signed domain still goes.
test_rewrite_refuse_unaligned() {
	postern_env "from_policy refuse-unaligned"
	printf '%s\n' "To: u@mx-pref.example" "Subject: contact form" "From: visitor@gmail.com" "" "Hello." \
		>"$T/php2.eml"
	printf '%s\n' "To: u@mx-pref.example" "Subject: ok" "From: shop@postern.example" "" "Hello." >"$T/ok.eml"
	rw_private refuse_inner
}
refuse_inner() {
	unpriv_setup
	as_www "$T/php2.eml" -t -i
	local rc=$?
	[ "$rc" -eq 65 ] || rw_fail "want 65, got $rc: $(cat "$T/pm.err")"
	[ "$(wc -l <"$T/pm.err")" -eq 1 ] || rw_fail "want one line: $(cat "$T/pm.err")"
	grep -q "From domain gmail.com is not one postern signs for" "$T/pm.err" || rw_fail "stderr: $(cat "$T/pm.err")"
	[ -z "$(ls "$SPOOL/new")" ] || rw_fail "the refused message was queued"
	as_www "$T/ok.eml" -t -i || rw_fail "an aligned From was refused: $(cat "$T/pm.err")"
	[ "$(ls "$SPOOL/new" | wc -l)" -eq 1 ] || rw_fail "the aligned message was not queued"
}
