# t_40_submit.sh - submission as a sendmail(8) drop-in: real callers' exact argv and messages, with the
# QUEUED result checked byte for byte in the spool (data/ID: the message as it will be sent; new/ID: the
# envelope records, whose PREPEND lines hold the DKIM-Signature fields); refusals that must leave the
# spool byte-identical (NUL, sizes, bad addresses, bad config, a full disk); submitters killed with
# SIGKILL mid-way; the unprivileged caller against the setgid binary; -bs, -bv and newaliases.
# Every test uses `deliver queue` (postern_env), so nothing leaves the spool. Variable parts (the queue
# id, the generated date, ARRIVAL) are normalised: QID, DATE, T.

# ------------------------------------------------------------------------------------------ helpers

# crlf - stdin with every LF line end made CRLF (the way the spool holds the message).
crlf() { sed 's/$/\r/'; }

# spool_ids - the ids of the committed envelopes in new/, one per line.
spool_ids() { ls "$SPOOL/new"; }

# the_id - the id of the one committed message (fails unless new/ holds exactly one envelope).
the_id() {
	local n
	n=$(ls "$SPOOL/new" | wc -l)
	[ "$n" -eq 1 ] || fail "want 1 envelope in new/, found $n: $(ls "$SPOOL/new" | head -n 3 | tr '\n' ' ')"
	ls "$SPOOL/new"
}

# rcv_date DATAFILE - the date postern wrote into its Received line (the second line: "\tid ID; DATE").
rcv_date() { sed -n '2{s/^\tid [0-9A-F]*; //;s/\r$//;p}' "$1"; }

# near_now EPOCH WHAT - EPOCH is within a minute of now.
near_now() {
	local d=$(($(date +%s) - $1))
	[ "$d" -ge -5 ] && [ "$d" -le 60 ] || fail "$2 is $d s away from now"
}

# check_spooled ID - structural checks of one committed message, then writes the normalised data to
# $T/got.data and the normalised envelope (without PREPEND lines) to $T/got.env:
# SIZE equals the data file's size; ARRIVAL and the Received date are now; the PREPEND lines are the
# rsa-sha256 then the ed25519-sha256 DKIM-Signature, and dkimpy verifies PREPEND + data as sent.
check_spooled() {
	local id=$1 data=$SPOOL/data/$1 env=$SPOOL/new/$1 d size arr
	[ -f "$data" ] || fail "no data file for $id"
	[ -f "$env" ] || fail "no envelope for $id"
	[ -z "$(ls "$SPOOL/tmp")" ] || fail "leftover in tmp/: $(ls "$SPOOL/tmp" | head -n 3 | tr '\n' ' ')"
	size=$(sed -n 's/^SIZE //p' "$env")
	expect_eq "SIZE record vs data file" "$(stat -c %s "$data")" "$size"
	arr=$(sed -n 's/^ARRIVAL //p' "$env")
	near_now "$arr" ARRIVAL
	head -n 1 "$data" | grep -q "^Received: by mail.postern.example (postern, from userid [0-9]*)"$'\r'"$" ||
		fail "the data file does not start with postern's Received line: $(head -n 1 "$data")"
	d=$(rcv_date "$data")
	near_now "$(date -d "$d" +%s 2>/dev/null || echo 0)" "the Received date '$d'"
	expect_eq "PREPEND fields" "DKIM-Signature: v=1; a=rsa-sha256;|DKIM-Signature: v=1; a=ed25519-sha256;" \
		"$(sed -n 's/^PREPEND \(DKIM-Signature: v=1; a=[a-z0-9-]*;\).*/\1/p' "$env" | paste -sd '|')"
	grep '^PREPEND' "$env" | grep -vq '^PREPEND \(DKIM-Signature: \|'$'\t'')' &&
		fail "a PREPEND line that is neither a DKIM-Signature nor its continuation"
	{ sed -n 's/^PREPEND //p' "$env" | crlf; cat "$data"; } >"$T/sent.$id.eml"
	verify_dkimpy "$T/sent.$id.eml" >"$T/dkim.$id.out" 2>&1 || fail "dkimpy rejects the spooled message: $(tail -n 1 "$T/dkim.$id.out")"
	sed -e "s/$id/QID/g" -e "s/$d/DATE/g" "$data" >"$T/got.data"
	sed -e '/^PREPEND /d' -e "s/$id/QID/g" -e 's/^ARRIVAL .*/ARRIVAL T/' -e 's/^SIZE .*/SIZE N/' "$env" >"$T/got.env"
}

# want_env SENDER BODY RCPT... - the expected normalised envelope of a new message submitted by root.
want_env() {
	local s=$1 b=$2 r
	shift 2
	printf 'VERSION 1\nID QID\nARRIVAL T\nSENDER %s\nSIZE N\nBODY %s\nSMTPUTF8 0\nUID %s\n' "$s" "$b" "${WANT_UID:-0}"
	printf 'NEXT-TRY 0\nATTEMPTS 0\nWARNED 0\nBOUNCE 0\n'
	for r in "$@"; do printf 'RCPT %s\nR-STATE pending\nR-ATTEMPTS 0\n' "$r"; done
	printf 'END %s\n' "$#"
}

# same_file WHAT WANT GOT - byte-identical files, else fail showing the first difference (cat -A).
same_file() {
	cmp -s "$2" "$3" && return 0
	diff <(cat -A "$2") <(cat -A "$3") >&2
	fail "$1 differs: $(diff <(cat -A "$2") <(cat -A "$3") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
}

# expect_queued_exactly SENDER BODY RCPT... <WANT_DATA - the one queued message is WANT_DATA (LF text,
# compared as CRLF after normalisation) with this envelope.
expect_queued_exactly() {
	local id
	id=$(the_id) || exit 1
	crlf >"$T/want.data"
	want_env "$@" >"$T/want.env"
	check_spooled "$id"
	same_file "spooled message" "$T/want.data" "$T/got.data"
	same_file "envelope" "$T/want.env" "$T/got.env"
}

# RCV - the normalised Received line postern prepends for root.
RCV=$'Received: by mail.postern.example (postern, from userid 0)\n\tid QID; DATE'

# snapshot - every file under the spool with its hash, and every folder (to prove it byte-identical).
snapshot() { (cd "$SPOOL" && find . -type f | sort | xargs -r sha256sum; find . -type d | sort); }

# seed_one - one committed message, so refusals are checked against a spool that is not empty.
seed_one() {
	printf 'From: a@postern.example\nTo: seed@mx-pref.example\nSubject: seed\n\nseed\n' | submit -t -i
}

# refused WANT_RC ARGS... <MSG - submitting MSG exits WANT_RC with one line on stderr and the spool
# (already seeded) stays byte-identical with nothing in tmp/.
refused() {
	local want=$1 before rc
	shift
	before=$(snapshot)
	pm "$@"
	rc=$?
	expect_eq "exit status of sendmail $*" "$want" "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "leftover in tmp/"
}

# ------------------------------------------------------------------------------- 1. real callers

test_submit_php_t_i() {
	postern_env
	printf 'To: alice@mx-pref.example\nSubject: Your order\nFrom: Shop <shop@postern.example>\nBcc: boss@implicit.example\nX-PHP-Originating-Script: 33:order.php\nContent-Type: text/plain; charset=utf-8\n\nThanks for your order.\n' |
		submit -t -i
	expect_queued_exactly root@postern.example 7BIT alice@mx-pref.example boss@implicit.example <<-EOF
	$RCV
	To: alice@mx-pref.example
	Subject: Your order
	From: Shop <shop@postern.example>
	X-PHP-Originating-Script: 33:order.php
	Content-Type: text/plain; charset=utf-8
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	Thanks for your order.
	EOF
}

test_submit_php_glued_f() {
	postern_env
	printf 'To: bob@mx-pref.example\nSubject: reset\n\nclick\n' | submit -t -i -fbounce@postern.example
	expect_queued_exactly bounce@postern.example 7BIT bob@mx-pref.example <<-EOF
	$RCV
	To: bob@mx-pref.example
	Subject: reset
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <bounce@postern.example>

	click
	EOF
}

test_submit_cron() {
	postern_env
	printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@mail> /usr/local/bin/backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\nX-Cron-Env: <LOGNAME=root>\n\nbackup: caf\303\251 done\n' |
		submit -FCronDaemon -i -B8BITMIME -oem root
	expect_queued_exactly root@postern.example 8BITMIME root@postern.example <<-EOF
	$RCV
	From: root@postern.example (Cron Daemon)
	To: root@postern.example
	Subject: Cron <root@mail> /usr/local/bin/backup
	MIME-Version: 1.0
	Content-Type: text/plain; charset=UTF-8
	Content-Transfer-Encoding: 8bit
	X-Cron-Env: <SHELL=/bin/sh>
	X-Cron-Env: <HOME=/root>
	X-Cron-Env: <LOGNAME=root>
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	backup: caf$(printf '\303\251') done
	EOF
}

test_submit_mailx() {
	postern_env
	printf 'To: user@mx-pref.example\nSubject: disk\n\nline one\n.\nline three\n' |
		submit -oem -oi -- user@mx-pref.example
	expect_queued_exactly root@postern.example 7BIT user@mx-pref.example <<-EOF
	$RCV
	To: user@mx-pref.example
	Subject: disk
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	line one
	.
	line three
	EOF
}

test_submit_mutt() {
	postern_env
	printf 'Date: Mon, 1 Jan 2024 10:00:00 +0100\nFrom: Me <me@postern.example>\nTo: a@mx-pref.example\nCc: b@implicit.example\nSubject: lunch\nMessage-ID: <20240101090000.abc@postern.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\nContent-Disposition: inline\nUser-Agent: Mutt/2.2.9 (2022-11-12)\n\nNoon?\n-- \nMe\n' |
		submit -oem -oi -- a@mx-pref.example b@implicit.example
	expect_queued_exactly root@postern.example 7BIT a@mx-pref.example b@implicit.example <<-EOF
	$RCV
	Date: Mon, 1 Jan 2024 10:00:00 +0100
	From: Me <me@postern.example>
	To: a@mx-pref.example
	Cc: b@implicit.example
	Subject: lunch
	Message-ID: <20240101090000.abc@postern.example>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=us-ascii
	Content-Disposition: inline
	User-Agent: Mutt/2.2.9 (2022-11-12)

	Noon?
	-- 
	Me
	EOF
}

test_submit_git_send_email() {
	postern_env
	local m
	m='From: Dev One <dev@postern.example>
To: list@mx-pref.example
Cc: Reviewer <rev@implicit.example>
Subject: [PATCH 1/2] fix the thing
Date: Tue,  2 Jan 2024 12:34:56 +0000
Message-ID: <20240102123456.4242-1-dev@postern.example>
X-Mailer: git-send-email 2.39.2
MIME-Version: 1.0
Content-Transfer-Encoding: 8bit

The thing was broken.

Signed-off-by: Dev One <dev@postern.example>
---
 a.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1 +1 @@
-.
+..
-- 
2.39.2'
	printf '%s\n' "$m" | submit -i -- list@mx-pref.example rev@implicit.example
	printf '%s\n%s\n' "$RCV" "$m" | expect_queued_exactly root@postern.example 7BIT list@mx-pref.example rev@implicit.example
}

test_submit_mail_s_body_only() {
	postern_env
	printf 'the backup finished\nno errors\n' | submit -i root
	expect_queued_exactly root@postern.example 7BIT root@postern.example <<-EOF
	$RCV
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	the backup finished
	no errors
	EOF
}

test_submit_mail_s_headers() {
	postern_env
	printf 'To: root\nSubject: backup\nX-Mailer: mail (GNU Mailutils 3.15)\n\nthe backup finished\n' | submit -i root
	expect_queued_exactly root@postern.example 7BIT root@postern.example <<-EOF
	$RCV
	To: root@postern.example
	Subject: backup
	X-Mailer: mail (GNU Mailutils 3.15)
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	the backup finished
	EOF
}

# logwatch and smartd: -t alone, so a lone dot ends the message.
test_submit_logwatch_t() {
	postern_env
	printf 'To: root\nFrom: Logwatch <root>\nSubject: Logwatch for mail (Linux)\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\nContent-Type: text/plain; charset="us-ascii"\n\n ################### Logwatch 7.8 ####\n .x starts with a dot\n.\nafter the dot: not part of the message\n' |
		submit -t
	expect_queued_exactly root@postern.example 7BIT root@postern.example <<-EOF
	$RCV
	To: root@postern.example
	From: "Logwatch" <root@postern.example>
	Subject: Logwatch for mail (Linux)
	MIME-Version: 1.0
	Content-Transfer-Encoding: 7bit
	Content-Type: text/plain; charset="us-ascii"
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	 ################### Logwatch 7.8 ####
	 .x starts with a dot
	EOF
}

test_submit_dots() {
	postern_env
	# without -i: ".x" is data, "." ends the message; with -i every dot line is data
	printf 'To: d@mx-pref.example\nSubject: dots\n\n.x\n.\nnot sent\n' | submit -t
	expect_queued_exactly root@postern.example 7BIT d@mx-pref.example <<-EOF
	$RCV
	To: d@mx-pref.example
	Subject: dots
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	.x
	EOF
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	printf 'To: d@mx-pref.example\nSubject: dots\n\n.x\n.\n..\n. \nlast\n.' | submit -t -i
	expect_queued_exactly root@postern.example 7BIT d@mx-pref.example <<-EOF
	$RCV
	To: d@mx-pref.example
	Subject: dots
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	.x
	.
	..
	. 
	last
	.
	EOF
}

test_submit_bcc_and_resent() {
	postern_env
	printf 'From: a@postern.example\nTo: orig@mx-pref.example\nSubject: fwd\nResent-From: fw@postern.example\nResent-To: new1@mx-pref.example\nResent-Cc: new2@implicit.example\nResent-Bcc: hidden@mx-pref.example\nBcc: oldhidden@mx-pref.example\n\nbody\n' |
		submit -t -i
	expect_queued_exactly root@postern.example 7BIT new1@mx-pref.example new2@implicit.example hidden@mx-pref.example <<-EOF
	$RCV
	From: a@postern.example
	To: orig@mx-pref.example
	Subject: fwd
	Resent-From: fw@postern.example
	Resent-To: new1@mx-pref.example
	Resent-Cc: new2@implicit.example
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	body
	EOF
}

# sendmail 8: with -t, addresses also given as arguments are removed from the recipients.
test_submit_t_with_argv() {
	postern_env
	printf 'From: a@postern.example\nTo: keep@mx-pref.example, drop@mx-pref.example\nCc: also@implicit.example\nSubject: t argv\n\nbody\n' |
		submit -t -i drop@mx-pref.example
	expect_queued_exactly root@postern.example 7BIT keep@mx-pref.example also@implicit.example <<-EOF
	$RCV
	From: a@postern.example
	To: keep@mx-pref.example, drop@mx-pref.example
	Cc: also@implicit.example
	Subject: t argv
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	body
	EOF
}

test_submit_aliases() {
	printf '# test aliases\nops: alice@mx-pref.example,\n  <bob@implicit.example>\nROOT: ops, carol\n' >"$T/aliases"
	postern_env "aliases $T/aliases"
	printf 'To: root\nSubject: alias\n\nbody\n' | submit -i root alice@mx-pref.example
	expect_queued_exactly root@postern.example 7BIT alice@mx-pref.example bob@implicit.example carol@postern.example <<-EOF
	$RCV
	To: root@postern.example
	Subject: alias
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	body
	EOF
}

# LF and CRLF input give the same spool bytes; so does a bare CR taken as a line end.
test_submit_lf_crlf_cr_same() {
	postern_env
	local id1 id2 id3
	printf 'To: x@mx-pref.example\nSubject: ends\n\none\ntwo\n' | submit -t -i
	id1=$(the_id) || exit 1
	check_spooled "$id1"; mv "$T/got.data" "$T/lf.data"; mv "$T/got.env" "$T/lf.env"
	mkdir "$T/keep"; mv "$SPOOL/new/$id1" "$T/keep/"
	printf 'To: x@mx-pref.example\r\nSubject: ends\r\n\r\none\r\ntwo\r\n' | submit -t -i
	id2=$(the_id) || exit 1
	check_spooled "$id2"
	same_file "CRLF vs LF input (data)" "$T/lf.data" "$T/got.data"
	same_file "CRLF vs LF input (envelope)" "$T/lf.env" "$T/got.env"
	mv "$SPOOL/new/$id2" "$T/keep/"
	printf 'To: x@mx-pref.example\rSubject: ends\r\rone\rtwo\r' | submit -t -i
	id3=$(the_id) || exit 1
	check_spooled "$id3"
	same_file "bare CR vs LF input (data)" "$T/lf.data" "$T/got.data"
	# a lone CR inside a body line is a line end too
	rm -f "$SPOOL/new/$id3"
	printf 'To: x@mx-pref.example\nSubject: ends\n\none\rtwo\n' | submit -t -i
	check_spooled "$(the_id)"
	same_file "bare CR in the body" "$T/lf.data" "$T/got.data"
}

test_submit_mbox_from_line() {
	postern_env
	printf 'From someone@example.org Mon Jan  1 00:00:00 2024\nFrom: a@postern.example\nTo: m@mx-pref.example\nSubject: mbox\n\nFrom the body, kept\n' |
		submit -t -i
	expect_queued_exactly root@postern.example 7BIT m@mx-pref.example <<-EOF
	$RCV
	From: a@postern.example
	To: m@mx-pref.example
	Subject: mbox
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	From the body, kept
	EOF
}

# a 2000-octet body line is broken after 998 octets (before signing: dkimpy checks it).
test_submit_long_body_line() {
	postern_env
	local a b
	a=$(head -c 998 /dev/zero | tr '\0' a)
	b=$(head -c 1002 /dev/zero | tr '\0' b)
	printf 'To: l@mx-pref.example\nSubject: long\n\n%s%s\nend\n' "$a" "$b" | submit -t -i
	expect_queued_exactly root@postern.example 7BIT l@mx-pref.example <<-EOF
	$RCV
	To: l@mx-pref.example
	Subject: long
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	$a
	${b:0:998}
	bbbb
	end
	EOF
	awk 'length($0) > 999 { exit 1 }' "$SPOOL/data/$(the_id)" || fail "a spooled line over 998 octets"
}

# an 8-bit body without -B is detected as 8BITMIME; every byte (also 0x80-0xff, DEL) is kept.
test_submit_8bit_body() {
	postern_env
	local body
	body=$(printf 'gr\303\274\303\237e \342\202\254 \377\200\177 end')
	printf 'From: a@postern.example\nTo: e@mx-pref.example\nSubject: 8bit\n\n%s\n' "$body" | submit -t -i
	expect_queued_exactly root@postern.example 8BITMIME e@mx-pref.example <<-EOF
	$RCV
	From: a@postern.example
	To: e@mx-pref.example
	Subject: 8bit
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	$body
	EOF
}

# a header line over 998 octets is folded at white space; unfolded it is the caller's line.
test_submit_long_header_folded() {
	postern_env
	local words
	words=$(seq 1 300 | sed 's/^/word/' | paste -sd ' ')
	printf 'To: h@mx-pref.example\nSubject: %s\n\nbody\n' "$words" | submit -t -i
	local id
	id=$(the_id) || exit 1
	check_spooled "$id"
	awk 'length($0) > 999 { exit 1 }' "$SPOOL/data/$id" || fail "a spooled header line over 998 octets"
	expect_eq "unfolded Subject" "$words" "$(header "$SPOOL/data/$id" Subject)"
	sed -n '/^Subject:/,/^[^ \t]/p' "$SPOOL/data/$id" | grep -q $'^[ \t]' || fail "the Subject was not folded"
}
