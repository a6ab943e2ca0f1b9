# t_62_store_faults.sh - the store under faults (issue 9, 2): a deferral, a bounce or a removal that
# cannot be written must never make the next run send again to a recipient that got its 250. Faults:
# a spool on a tmpfs filled to the last block (in a private mount namespace), unlinkat() failing with
# EIO (faultfs.c, an LD_PRELOAD shim built here: postern has no test hook), a peer answering every
# RCPT with a long 450. Each test asserts per message and per recipient: delivered once, deferred with
# a non-empty reason, nothing lost. Helpers are prefixed sf_.
#
# Runs are `sendmail -q -v`: every message, due or not (a held one too), with the SMTP transcript on
# stderr, so "was this recipient sent again" is a count of its RCPT TO lines in $T/pm.err.

# sf_rcpts ADDR - RCPT TO lines for ADDR in the last run's transcript.
sf_rcpts() { grep -c ">>> RCPT TO:<$1>" "$T/pm.err"; }

# sf_run - one verbose queue run (must exit 0).
sf_run() { pm -q -v </dev/null || fail "sendmail -q -v exited $?: $(grep -v '^[<>]' "$T/pm.err" | head -n 3)"; }

# sf_runq - the same run started as postern's runq directly: the front door execs postern with a
# clean environment, so an LD_PRELOAD shim reaches the runner only this way.
sf_runq() {
	ln -sf "$BIN" "$T/bin/runq"
	"$T/bin/runq" -C "$CONF" -q -v </dev/null >"$T/pm.out" 2>"$T/pm.err" ||
		fail "runq -q -v exited $?: $(grep -v '^[<>]' "$T/pm.err" | head -n 3)"
}

# sf_id - the one queued message's id.
sf_id() {
	local ids
	ids=$(ls "$SPOOL/data")
	[ "$(echo "$ids" | wc -w)" -eq 1 ] || fail "want one message in data/, have: $ids"
	echo "$ids"
}

# sf_state ID ADDR - the R-STATE word of ADDR in ID's current envelope.
sf_state() { spool_env "$1" | sed -n "/^RCPT $2\$/,/^R-STATE /s/^R-STATE //p"; }

# sf_private FN - run FN in a child bash in its own mount namespace (its mounts vanish with it); a
# failure inside (fail writes $T/reason) fails the test.
sf_private() {
	unshare --mount --propagation private bash -c '
		. "$HERE/world.sh"; . "$HERE/postern.sh"; . "$HERE/t_62_store_faults.sh"; set -x; "$@"' _ "$@" ||
		fail "$(cat "$T/reason" 2>/dev/null || echo "$1 failed")"
}

# sf_tmpfs_spool - the spool on a 512 KiB tmpfs.
sf_tmpfs_spool() {
	mount -t tmpfs -o size=512k,mode=2770 tmpfs "$SPOOL" || fail "mount tmpfs"
	mkdir "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/deferred" "$SPOOL/data"
	chown -R root:postern "$SPOOL"
	chmod 2770 "$SPOOL" "$SPOOL"/*
}

# sf_fill / sf_unfill - take every free block of the spool's file system / give them back.
sf_fill() {
	dd if=/dev/zero of="$SPOOL/filler" bs=4k 2>/dev/null
	[ "$(df --output=avail "$SPOOL" | tail -n 1 | tr -d ' ')" -eq 0 ] || fail "the spool is not full"
}
sf_unfill() { rm -f "$SPOOL/filler"; }

# A message to ok@mx-pref.example (250) and later@implicit.example (451): the first run delivers ok@
# and cannot write the deferral (the disk is full). The states go in place: ok@ done---, later@
# delayed (the message is held). Later runs never send to ok@ again; once there is space the
# deferral is written with later@ alone and its reason.
test_store_full_disk_deferral() { postern_env; sf_private sf_full_disk_inner; }
sf_full_disk_inner() {
	local id
	sf_tmpfs_spool
	smtpd_start mx1 127.0.0.11:25 || fail "smtpd mx1"
	smtpd_start later 127.0.0.13:25 --rcpt-4xx 100 || fail "smtpd later"
	msg s@postern.example ok@mx-pref.example full | submit -odq -f s@postern.example ok@mx-pref.example later@implicit.example
	id=$(sf_id)
	sf_fill
	sf_run
	expect_eq "ok@ delivered" 1 "$(mail_count mx1)"
	expect_eq "later@ tried" 1 "$(sf_rcpts later@implicit.example)"
	grep -q "cannot record the deferral" "$T/pm.err" || fail "no log line for the failed deferral"
	[ ! -e "$SPOOL/deferred/$id" ] || fail "a deferral was written on a full disk?"
	sf_run	# still full: later@ again, never ok@
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "later@ tried again" 1 "$(sf_rcpts later@implicit.example)"
	expect_eq "ok@ deliveries" 1 "$(mail_count mx1)"
	grep -q "recorded in place instead" "$T/pm.err" || fail "not recorded in place"
	expect_eq "ok@ in place" done--- "$(sf_state "$id" ok@mx-pref.example)"
	expect_eq "later@ in place" delayed "$(sf_state "$id" later@implicit.example)"
	sf_unfill
	sf_run	# space again: the deferral is written, with later@ only
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "ok@ deliveries" 1 "$(mail_count mx1)"
	[ -f "$SPOOL/deferred/$id" ] || fail "no deferral once there is space"
	spool_env "$id" | grep -q '^RCPT ok@' && fail "ok@ still in the deferral"
	expect_eq "later@" pending "$(sf_state "$id" later@implicit.example)"
	spool_env "$id" | grep -q '^R-DIAG .*451' || fail "later@'s reason is missing: $(spool_env "$id" | grep R-DIAG)"
	return 0
}

# A bounce that cannot be queued (the spool is full, so the front door refuses it): bad@ (550) is
# recorded failed- ("report owed") in place, ok@ done---; no run sends to either again; once there is
# space the report is queued and the message goes.
test_store_bounce_not_queued() { postern_env; sf_private sf_bounce_inner; }
sf_bounce_inner() {
	local id
	sf_tmpfs_spool
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'bad@*' || fail "smtpd mx1"
	smtpd_start bounces 127.0.0.15:25 || fail "smtpd bounces"
	msg s@postern.example ok@mx-pref.example bounce | submit -odq -f s@postern.example ok@mx-pref.example bad@mx-pref.example
	id=$(sf_id)
	sf_fill
	sf_run
	expect_eq "ok@ delivered" 1 "$(mail_count mx1)"
	expect_eq "bad@ refused once" 1 "$(sf_rcpts bad@mx-pref.example)"
	grep -q "notification could not be queued" "$T/pm.err" || fail "the bounce was queued on a full disk?"
	grep -q "report to <s@postern.example>: the front door exited EX_TEMPFAIL" "$T/pm.err" ||
		fail "the log does not say why the report was not queued: $(grep -i report "$T/pm.err" | head -n 3)"
	sf_run	# still full: the report is tried again, no recipient is
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "bad@ sent again" 0 "$(sf_rcpts bad@mx-pref.example)"
	expect_eq "ok@ in place" done--- "$(sf_state "$id" ok@mx-pref.example)"
	expect_eq "bad@ in place" failed- "$(sf_state "$id" bad@mx-pref.example)"
	sf_unfill
	sf_run
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "bad@ sent again" 0 "$(sf_rcpts bad@mx-pref.example)"
	grep -q "non-delivery notification queued" "$T/pm.err" || fail "the report was not queued once there was space"
	[ ! -e "$SPOOL/data/$id" ] || fail "the message is still queued after its report"
	queue_run
	wait_mail bounces 1 || fail "the bounce did not arrive"
	expect_eq "bounces" 1 "$(mail_count bounces)"
	grep -q 'bad@mx-pref.example' "$(mail_file bounces 1)" || fail "the bounce does not name bad@"
	expect_eq "ok@ deliveries" 1 "$(mail_count mx1)"
}

# unlinkat() fails with EIO in new/ and deferred/: a delivered message cannot be removed. It is marked
# done--- in place at once, so the next runs do not send it again; once unlinkat works it goes.
test_store_unlink_eio() {
	local id so=$T/faultfs.so
	command -v cc >/dev/null || fail "no C compiler for the LD_PRELOAD shim"
	cc -shared -fPIC -o "$so" "$HERE/faultfs.c" -ldl || fail "cannot build faultfs.so"
	postern_env
	smtpd_start mx1 127.0.0.11:25 || fail "smtpd mx1"
	msg s@postern.example a@mx-pref.example eio | submit -odq -f s@postern.example a@mx-pref.example b@mx-pref.example
	id=$(sf_id)
	LD_PRELOAD=$so FAULTFS_UNLINK_EIO=$SPOOL/new:$SPOOL/deferred sf_runq
	expect_eq "delivered" 1 "$(mail_count mx1)"
	grep -q "Input/output error" "$T/pm.err" || fail "the injected EIO was not seen"
	LD_PRELOAD=$so FAULTFS_UNLINK_EIO=$SPOOL/new:$SPOOL/deferred sf_runq
	expect_eq "a@ sent again" 0 "$(sf_rcpts a@mx-pref.example)"
	expect_eq "delivered" 1 "$(mail_count mx1)"
	expect_eq "a@ in place" done--- "$(sf_state "$id" a@mx-pref.example)"
	expect_eq "b@ in place" done--- "$(sf_state "$id" b@mx-pref.example)"
	[ -e "$SPOOL/data/$id" ] || fail "the data went before its envelope"
	sf_run
	expect_eq "a@ sent again" 0 "$(sf_rcpts a@mx-pref.example)"
	expect_eq "delivered" 1 "$(mail_count mx1)"
	dl_expect_spool_empty
}

# 6,000 recipients at a domain answering every RCPT with a 450 of 800 bytes, and ok@ elsewhere: the
# deferral (over 4 MiB, the old ceiling) is written; ok@ is never sent again; every deferred
# recipient keeps its reason.
test_store_long_450s() {
	local id long i args=()
	postern_env
	dl_nodkim
	long=$(printf 'greylisted %.0s' $(seq 1 72))
	faultsmtpd_start slow 127.0.0.13:25 --reply "rcpt=450 4.2.0 $long" || fail "faultsmtpd"
	smtpd_start mx1 127.0.0.11:25 || fail "smtpd mx1"
	{ set +x; } 2>/dev/null
	for i in $(seq 1 6000); do args+=("r$i@implicit.example"); done
	set -x
	msg s@postern.example ok@mx-pref.example many | submit -odq -f s@postern.example ok@mx-pref.example "${args[@]}"
	id=$(sf_id)
	sf_run
	expect_eq "ok@ delivered" 1 "$(mail_count mx1)"
	cp "$T/pm.err" "$T/run1.err"
	sf_run
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "ok@ deliveries" 1 "$(mail_count mx1)"
	grep -q "cannot record" "$T/run1.err" && fail "deferral not written: $(grep 'cannot record' "$T/run1.err" | head -n 1)"
	[ -f "$SPOOL/deferred/$id" ] || fail "no deferral written"
	[ "$(stat -c %s "$SPOOL/deferred/$id")" -gt $((4 * 1024 * 1024)) ] || fail "the deferral is under 4 MiB: no test"
	expect_eq "deferred recipients" 6000 "$(spool_env "$id" | grep -c '^RCPT ')"
	expect_eq "reasons" 6000 "$(spool_env "$id" | grep -c '^R-DIAG .* said: 450 4.2.0 greylisted')"
	spool_env "$id" | grep -q '^RCPT ok@' && fail "ok@ still in the deferral"
	return 0
}

# A peer that answers the greeting with 354 (a 3xx where 2/4/5 is due): whatever status the SMTP
# layer makes of it (once "3.0.0", which the envelope writer refuses), the deferral is written with a
# storable status and a reason, and ok@ (250 elsewhere) is never sent again.
test_store_out_of_class_reply() {
	local id
	postern_env
	faultsmtpd_start odd 127.0.0.13:25 --reply "greeting=354 go ahead" || fail "faultsmtpd"
	smtpd_start mx1 127.0.0.11:25 || fail "smtpd mx1"
	msg s@postern.example ok@mx-pref.example odd | submit -odq -f s@postern.example ok@mx-pref.example x@implicit.example
	id=$(sf_id)
	sf_run
	expect_eq "ok@ delivered" 1 "$(mail_count mx1)"
	cp "$T/pm.err" "$T/run1.err"
	sf_run
	expect_eq "ok@ sent again" 0 "$(sf_rcpts ok@mx-pref.example)"
	expect_eq "ok@ deliveries" 1 "$(mail_count mx1)"
	grep -q "cannot record" "$T/run1.err" && fail "deferral not written: $(grep 'cannot record' "$T/run1.err" | head -n 1)"
	[ -f "$SPOOL/deferred/$id" ] || fail "no deferral written"
	expect_eq "x@" pending "$(sf_state "$id" x@implicit.example)"
	spool_env "$id" | grep -q '^R-STATUS 4\.' || fail "x@'s status is not a 4.x.x: $(spool_env "$id" | grep R-STATUS)"
	spool_env "$id" | grep -q '^R-DIAG .*354' || fail "x@'s reason lacks the reply: $(spool_env "$id" | grep R-DIAG)"
}

# 500 recipients refused with an 800-byte 550: the report that lists them all (about 1 MB) is composed
# and queued, the message goes, and no recipient is tried again (a fixed 320 KiB ceiling made the
# report fail at every run and kept the message for ever).
test_store_big_bounce() {
	local long i args=()
	postern_env
	dl_nodkim
	long=$(printf 'unknown %.0s' $(seq 1 100))
	faultsmtpd_start refuse 127.0.0.13:25 --reply "rcpt=550 5.1.1 $long" || fail "faultsmtpd"
	smtpd_start bounces 127.0.0.15:25 || fail "smtpd bounces"
	{ set +x; } 2>/dev/null
	for i in $(seq 1 500); do args+=("r$i@implicit.example"); done
	set -x
	msg s@postern.example r1@implicit.example big | submit -odq -f s@postern.example "${args[@]}"
	sf_run
	expect_eq "refused" 500 "$(grep -c 'status=bounced' "$T/pm.err")"
	grep -q "non-delivery notification queued" "$T/pm.err" ||
		fail "the report was not queued: $(grep -i 'notification' "$T/pm.err" | head -n 1)"
	[ -z "$(ls "$SPOOL/deferred")" ] || fail "the message was kept"
	sf_run
	expect_eq "tried again" 0 "$(sf_rcpts r1@implicit.example)"
	wait_mail bounces 1 || fail "the bounce did not arrive"
	expect_eq "recipients in the bounce" 500 "$(grep -c '^Final-Recipient: rfc822; r[0-9]*@implicit.example' "$(mail_file bounces 1)")"
}
