# t_40_submit.sh - submission as a sendmail(8) drop-in: real callers' exact argv and messages, with the
# QUEUED result checked byte for byte in the spool (data/ID: the message as it will be sent, then the
# envelope records, whose PREPEND lines hold the DKIM-Signature fields); refusals that must leave the
# spool byte-identical (NUL, sizes, bad addresses, bad config, a full disk); submitters killed with
# SIGKILL mid-way; the unprivileged caller against the setgid binary; -bs, -bv and newaliases.
# Every test uses `deliver queue` (postern_env), so nothing leaves the spool. Variable parts (the queue
# id, the generated date, ARRIVAL) are normalised: QID, DATE, T.

# ------------------------------------------------------------------------------------------ helpers

# submit_env [CONFIG LINE...] - postern_env, and lastpipe: the last command of a pipeline runs in
# this shell, so `printf ... | submit` or `| refused` that fails ends the test (not just a subshell).
submit_env() {
	shopt -s lastpipe
	postern_env "$@"
}

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
# SIZE equals the data file's size; ARRIVAL and the Received date are now; there is no PREPEND line:
# the front door signs nothing (the queue run signs before the first attempt, t_50_dkim.sh).
check_spooled() {
	local id=$1 data=$T/data.$1 env=$T/env.$1 d size arr
	[ -f "$SPOOL/data/$id" ] || fail "no data file for $id"
	[ -f "$SPOOL/new/$id" ] || fail "no new/$id: not committed"
	[ -s "$SPOOL/new/$id" ] && fail "new/$id is not empty: the envelope belongs at the end of data/$id"
	spool_env "$id" >"$env" || fail "data/$id does not end with its envelope: $(tail -c 40 "$SPOOL/data/$id")"
	spool_data "$id" >"$data"
	[ -z "$(ls "$SPOOL/tmp")" ] || fail "leftover in tmp/: $(ls "$SPOOL/tmp" | head -n 3 | tr '\n' ' ')"
	size=$(sed -n 's/^SIZE //p' "$env")
	expect_eq "SIZE record vs the message in the data file" "$(stat -c %s "$data")" "$size"
	arr=$(sed -n 's/^ARRIVAL //p' "$env")
	near_now "$arr" ARRIVAL
	head -n 1 "$data" | grep -q "^Received: by mail.postern.example (postern, from userid [0-9]*)"$'\r'"$" ||
		fail "the data file does not start with postern's Received line: $(head -n 1 "$data")"
	d=$(rcv_date "$data")
	near_now "$(date -d "$d" +%s 2>/dev/null || echo 0)" "the Received date '$d'"
	expect_eq "PREPEND lines at submission" "" "$(grep '^PREPEND' "$env")"
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env
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
	submit_env "aliases $T/aliases"
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
	submit_env
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
	submit_env
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

# mime_decodes DATAFILE WANTFILE [CHARSET] - Python's email package decodes the spooled message's body
# to exactly WANTFILE (LF line ends), with no line over 998 octets (and the charset, if given).
mime_decodes() {
	/usr/bin/python3 "$HERE/mimebody.py" "$1" ${3:+"$3"} >"$T/decoded" 2>"$T/decoded.err" ||
		fail "Python cannot read the body back: $(cat "$T/decoded.err")"
	cmp -s "$2" "$T/decoded" || fail "the body does not decode to what was sent: $(cmp "$2" "$T/decoded" 2>&1)"
}

# a 2000-octet body line is not cut: the body is re-encoded as quoted-printable before signing (the
# MIME fields added, as the message had none), lossless, and 7-bit.
test_submit_long_body_line() {
	submit_env
	local a b id
	a=$(head -c 998 /dev/zero | tr '\0' a)
	b=$(head -c 1002 /dev/zero | tr '\0' b)
	printf '%s%s\nend\n' "$a" "$b" >"$T/body"
	{ printf 'To: l@mx-pref.example\nSubject: long\n\n'; cat "$T/body"; } | submit -t -i
	id=$(the_id) || exit 1
	check_spooled "$id"
	expect_eq "BODY" "7BIT" "$(sed -n 's/^BODY //p' "$T/got.env")"
	sed '/^\r$/q' "$T/got.data" >"$T/got.head"
	crlf >"$T/want.head" <<-EOF
	$RCV
	To: l@mx-pref.example
	Subject: long
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=us-ascii
	Content-Transfer-Encoding: quoted-printable

	EOF
	same_file "header section" "$T/want.head" "$T/got.head"
	awk 'length($0) > 77 { exit 1 }' "$T/data.$id" || fail "a quoted-printable line over 76 octets"
	mime_decodes "$T/data.$id" "$T/body" us-ascii
}

# the issue's case: a 1,401-octet line of "é" (and an HTML line with a long URL) with their own MIME
# fields and 8bit: re-encoded as quoted-printable, the caller's Content-Transfer-Encoding replaced, no
# UTF-8 sequence split; Python reads back every octet.
test_submit_long_utf8_line() {
	submit_env
	local id i
	{ printf '<p>'; for i in $(seq 1 700); do printf '\303\251'; done
	  printf ' <a href="https://shop.example/%s">x</a></p>\nfin\n' "$(head -c 1200 /dev/zero | tr '\0' q)"; } >"$T/body"
	{ printf 'From: Shop <shop@postern.example>\nTo: u@mx-pref.example\nSubject: html\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n'
	  cat "$T/body"; } | submit -t -i
	id=$(the_id) || exit 1
	check_spooled "$id"
	expect_eq "BODY" "7BIT" "$(sed -n 's/^BODY //p' "$T/got.env")"
	expect_eq "Content-Transfer-Encoding fields" "Content-Transfer-Encoding: quoted-printable" \
		"$(grep -i '^Content-Transfer-Encoding' "$T/got.data" | tr -d '\r')"
	expect_eq "MIME-Version fields" 1 "$(grep -c '^MIME-Version: 1.0' "$T/got.data")"
	grep -q '^=A9' "$T/got.data" && fail "a soft line break inside a UTF-8 sequence"
	mime_decodes "$T/data.$id" "$T/body" utf-8
}

# where re-encoding is impossible, long lines are folded as before: a base64 body (decoders ignore the
# line break) and a quoted-printable one (a soft line break, so it still decodes to the same text).
test_submit_long_line_folded_where_encoded() {
	submit_env
	local id
	head -c 3000 /dev/zero | tr '\0' x >"$T/body"
	{ base64 -w 0 "$T/body"; echo; } >"$T/b64"
	{ printf 'To: f@mx-pref.example\nSubject: b64\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n'
	  cat "$T/b64"; } | submit -t -i
	id=$(the_id) || exit 1
	check_spooled "$id"
	awk 'length($0) > 999 { exit 1 }' "$T/data.$id" || fail "a spooled line over 998 octets"
	mime_decodes "$T/data.$id" "$T/body"
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	{ printf 'a=3Db'; head -c 990 /dev/zero | tr '\0' y; printf '=C3=A9 end\n'; } >"$T/qp"
	{ printf 'a=b'; head -c 990 /dev/zero | tr '\0' y; printf '\303\251 end\n'; } >"$T/body"
	{ printf 'To: f@mx-pref.example\nSubject: qp\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n'
	  cat "$T/qp"; } | submit -t -i
	id=$(the_id) || exit 1
	check_spooled "$id"
	grep -q '^=C3=A9 end' "$T/got.data" || fail "the soft break is not before the =C3=A9 escape"
	mime_decodes "$T/data.$id" "$T/body" utf-8
}

# an 8-bit body without -B is detected as 8BITMIME; every byte (also 0x80-0xff, DEL) is kept. The
# message had no MIME fields: they are added, with charset=unknown-8bit as the octets are not UTF-8.
test_submit_8bit_body() {
	submit_env
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
	MIME-Version: 1.0
	Content-Type: text/plain; charset=unknown-8bit
	Content-Transfer-Encoding: 8bit

	$body
	EOF
}

# `echo 'Grüße' | mail -s x root` and cron printing UTF-8 without MIME fields of their own: postern adds
# them (SpamAssassin's PP_MIME_FAKE_ASCII_TEXT otherwise); a message with its own is left alone (the
# cron test above).
test_submit_8bit_mime_added() {
	submit_env
	printf 'Subject: x\nTo: root\n\nGr\303\274\303\237e\n' | submit -i root
	expect_queued_exactly root@postern.example 8BITMIME root@postern.example <<-EOF
	$RCV
	Subject: x
	To: root@postern.example
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=UTF-8
	Content-Transfer-Encoding: 8bit

	Gr$(printf '\303\274\303\237')e
	EOF
}

# a header line over 998 octets is folded at white space; unfolded it is the caller's line.
test_submit_long_header_folded() {
	submit_env
	local words
	words=$(seq 1 300 | sed 's/^/word/' | paste -sd ' ')
	printf 'To: h@mx-pref.example\nSubject: %s\n\nbody\n' "$words" | submit -t -i
	local id
	id=$(the_id) || exit 1
	check_spooled "$id"
	spool_data "$id" >"$T/data.$id"
	awk 'length($0) > 999 { exit 1 }' "$T/data.$id" || fail "a spooled header line over 998 octets"
	expect_eq "unfolded Subject" "$words" "$(header "$T/data.$id" Subject)"
	sed -n '/^Subject:/,/^[^ \t]/p' "$T/data.$id" | grep -q $'^[ \t]' || fail "the Subject was not folded"
}

# odd but valid shapes: a header without the blank line, no final newline, empty input, a folded
# Bcc without -t (removed with its continuation line).
test_submit_odd_shapes() {
	submit_env
	printf 'To: o@mx-pref.example\nSubject: no blank line' | submit -t -i
	expect_queued_exactly root@postern.example 7BIT o@mx-pref.example <<-EOF
	$RCV
	To: o@mx-pref.example
	Subject: no blank line
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	EOF
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	submit -i o@mx-pref.example </dev/null
	expect_queued_exactly root@postern.example 7BIT o@mx-pref.example <<-EOF
	$RCV
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	EOF
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	printf 'To: o@mx-pref.example\nBcc: b@mx-pref.example,\n c@mx-pref.example\nSubject: folded bcc\n\nno final newline' |
		submit -i o@mx-pref.example
	expect_queued_exactly root@postern.example 7BIT o@mx-pref.example <<-EOF
	$RCV
	To: o@mx-pref.example
	Subject: folded bcc
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	no final newline
	EOF
}

# `uptime | sendmail root`: the first line starts with a space, so it is not a header field and
# (postern(8): "A message whose first line is not a header field has no header section; that line
# begins the body") the whole input is body.
test_submit_body_first_line_space() {
	submit_env
	printf ' 21:22:16 up 3 days,  4:05,  1 user,  load average: 0.00, 0.01, 0.05\n' | submit root
	expect_queued_exactly root@postern.example 7BIT root@postern.example <<-EOF
	$RCV
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	 21:22:16 up 3 days,  4:05,  1 user,  load average: 0.00, 0.01, 0.05
	EOF
}

# `df -h | sendmail root`: a first line that is no header field either.
test_submit_body_first_line_text() {
	submit_env
	printf 'Filesystem      Size  Used Avail Use%% Mounted on\n/dev/vda         20G  5.0G   15G  26%% /\n' | submit -i root
	expect_queued_exactly root@postern.example 7BIT root@postern.example <<-EOF
	$RCV
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "root" <root@postern.example>

	Filesystem      Size  Used Avail Use% Mounted on
	/dev/vda         20G  5.0G   15G  26% /
	EOF
}

# -N, -R, -V, the null sender and a -F name with quotes: the envelope records, the From field.
test_submit_envelope_options() {
	submit_env
	printf 'To: a@mx-pref.example\nSubject: opts\n\nbody\n' |
		submit -i -N success,failure -R hdrs -V env123 -f '<>' -F 'Jo "Q" Doe' a@mx-pref.example
	local id
	id=$(the_id) || exit 1
	check_spooled "$id"
	crlf >"$T/want.data" <<-EOF
	$RCV
	To: a@mx-pref.example
	Subject: opts
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "Jo \"Q\" Doe" <root@postern.example>

	body
	EOF
	same_file "spooled message" "$T/want.data" "$T/got.data"
	printf '%s\n' 'VERSION 1' 'ID QID' 'ARRIVAL T' 'SENDER ' 'SIZE N' 'BODY 7BIT' 'SMTPUTF8 0' 'ENVID env123' \
		'RET HDRS' 'UID 0' 'NEXT-TRY 0' 'ATTEMPTS 0' 'WARNED 0' 'BOUNCE 1' 'RCPT a@mx-pref.example' \
		'R-STATE pending' 'R-ATTEMPTS 0' 'R-NOTIFY SUCCESS,FAILURE' 'END 1' >"$T/want.env"
	same_file "envelope" "$T/want.env" "$T/got.env"
}

# display names with non-ASCII characters (-F, GECOS) become RFC 2047 encoded words, never raw 8-bit and
# never inside quotes; a caller's encoded-word name (PHP's mb_encode_mimeheader) is not quoted either;
# a long name is folded between words. Python's email package reads each name back.
test_submit_utf8_display_names() {
	submit_env
	printf 'To: n@mx-pref.example\nSubject: names\n\nbody\n' | submit -t -i -F $'Jos\303\251 M\303\274ller'
	expect_queued_exactly root@postern.example 7BIT n@mx-pref.example <<-EOF
	$RCV
	To: n@mx-pref.example
	Subject: names
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: =?UTF-8?Q?Jos=C3=A9_M=C3=BCller?= <root@postern.example>

	body
	EOF
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	printf 'From: =?UTF-8?Q?Caf=C3=A9?= <www-data>\nTo: n@mx-pref.example\nSubject: php\n\nbody\n' | submit -t -i
	expect_queued_exactly root@postern.example 7BIT n@mx-pref.example <<-EOF
	$RCV
	From: =?UTF-8?Q?Caf=C3=A9?= <www-data@postern.example>
	To: n@mx-pref.example
	Subject: php
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	body
	EOF
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	local long=$'\320\220\320\273\320\265\320\272\321\201\320\260\320\275\320\264\321\200 \320\220\320\273\320\265\320\272\321\201\320\260\320\275\320\264\321\200\320\276\320\262\320\270\321\207 \320\232\320\276\320\275\321\201\321\202\320\260\320\275\321\202\320\270\320\275\320\276\320\262\321\201\320\272\320\270\320\271'
	printf 'To: n@mx-pref.example\nSubject: long\n\nbody\n' | submit -t -i -F "$long"
	local id
	id=$(the_id) || exit 1
	check_spooled "$id"
	awk '/^\r?$/ { exit } length($0) > 79 { exit 1 }' "$T/got.data" || fail "a header line over 78 octets"
	LC_ALL=C.UTF-8 /usr/bin/python3 - "$T/got.data" "$long" <<-'PY' || fail "Python reads the From name differently"
	import email, email.policy, email.utils, sys
	m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
	frm = str(m['From'])
	name, addr = email.utils.parseaddr(frm)
	want = sys.argv[2].encode('utf-8', 'surrogateescape').decode('utf-8')
	if (name, addr) != (want, 'root@postern.example') or not all(ord(c) < 128 for c in m.as_string()):
	    sys.exit('got %r' % frm)
	PY
}

# a GECOS full name with accents, as on a Debian box with `chfn -f`: encoded words too.
test_submit_gecos_utf8() { submit_env; in_private_mounts gecos_utf8_inner; }
gecos_utf8_inner() {
	sed 's/^root:\([^:]*\):0:0:[^:]*:/root:\1:0:0:Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m,Room 1,,:/' "$WORK/etc/passwd" >"$T/passwd"
	grep -q '^root:.*Room 1' "$T/passwd" || fail "no root line in the world's passwd"
	mount --bind "$T/passwd" /etc/passwd || fail "bind passwd"
	printf 'To: g@mx-pref.example\nSubject: gecos\n\nbody\n' | submit -t -i
	expect_queued_exactly root@postern.example 7BIT g@mx-pref.example <<-EOF
	$RCV
	To: g@mx-pref.example
	Subject: gecos
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <root@postern.example>

	body
	EOF
}

# ------------------------------------------------------------------ 2. refusals: the spool untouched

test_submit_refuse_nul() {
	submit_env
	seed_one
	printf 'To: n@mx-pref.example\nSubject: nul\n\nbefore\000after\n' | refused 65 -t -i
	printf 'To: n@mx-pref.example\nSubject: nul\000here\n\nbody\n' | refused 65 -t -i
}

test_submit_refuse_header_too_large() {
	submit_env "max_header_size 1k"
	seed_one
	{ printf 'To: big@mx-pref.example\nSubject: big header\n'
	  for i in $(seq 1 30); do printf 'X-Pad-%02d: %s\n' "$i" "$(head -c 60 /dev/zero | tr '\0' p)"; done
	  printf '\nbody\n'; } | refused 65 -t -i
	grep -qi 'header' "$T/pm.err" || fail "stderr does not say the header is too large: $(cat "$T/pm.err")"
}

test_submit_refuse_over_max_size() {
	submit_env "max_size 10k"
	seed_one
	{ printf 'To: big@mx-pref.example\nSubject: big\n\n'; head -c 15000 /dev/urandom | base64 -w 76; } |
		refused 65 -t -i
	grep -qi 'large\|size' "$T/pm.err" || fail "stderr does not say the message is too large: $(cat "$T/pm.err")"
	# just under the limit is fine
	{ printf 'To: big@mx-pref.example\nSubject: fits\n\n'; head -c 3000 /dev/urandom | base64 -w 76; } | submit -t -i
}

test_submit_refuse_malformed_to() {
	submit_env
	seed_one
	printf 'To: a@@mx-pref.example\nSubject: bad\n\nbody\n' | refused 65 -t -i
	printf 'To: <unclosed@mx-pref.example\nSubject: bad\n\nbody\n' | refused 65 -t -i
	printf 'To: ok@mx-pref.example, bad@@x\nSubject: bad\n\nbody\n' | refused 65 -t -i
}

test_submit_refuse_crlf_in_F() {
	submit_env
	seed_one
	printf 'To: f@mx-pref.example\nSubject: F\n\nbody\n' | refused 64 -t -i -F $'Name\r\nBcc: evil@mx-pref.example'
	printf 'To: f@mx-pref.example\nSubject: F\n\nbody\n' | refused 64 -t -i -F $'Name\nX-Evil: 1'
}

test_submit_refuse_no_recipients() {
	submit_env
	seed_one
	printf 'To: x@mx-pref.example\nSubject: none\n\nbody\n' | refused 65 -i
	# -t, and the only header recipient is removed again by the argument (sendmail 8)
	printf 'To: x@mx-pref.example\nSubject: none\n\nbody\n' | refused 65 -t -i x@mx-pref.example
}

# an address SMTP cannot carry as postern sends it ('<', '>' or a space in a quoted local part) is refused
# at submission with 65 (it used to be queued, or to exit 70, and then fail every attempt for 5 days);
# a quoted local part that can be sent as it is, is queued as it is.
test_submit_refuse_unsendable_rcpt() {
	submit_env
	seed_one
	local a
	for a in '"a>b"@dest1.test' '"a b"@dest1.test' '"<x>"@dest1.test'; do
		printf 'Subject: q\n\nbody\n' | refused 65 -i -- "$a"
		grep -qF "$a" "$T/pm.err" || fail "stderr does not name $a: $(cat "$T/pm.err")"
		printf 'To: %s\nSubject: q\n\nbody\n' "$a" | refused 65 -t -i
	done
	printf 'Subject: q\n\nbody\n' | refused 64 -f '"a b"@postern.example' -i -- ok@mx-pref.example
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	printf 'Subject: q\n\nbody\n' | submit -i -- '"a,b"@mx-pref.example'
	spool_env "$(the_id)" | grep -qxF 'RCPT "a,b"@mx-pref.example' || fail "not queued as \"a,b\"@mx-pref.example: $(spool_env "$(the_id)" | grep RCPT)"
}

test_submit_refuse_unknown_config_key() {
	submit_env
	seed_one
	local before rc
	cp "$CONF" "$T/bad.conf"
	echo "frobnicate yes" >>"$T/bad.conf"
	before=$(snapshot)
	printf 'To: x@mx-pref.example\nSubject: conf\n\nbody\n' | "$T/bin/sendmail" -C "$T/bad.conf" -t -i >"$T/pm.out" 2>"$T/pm.err"
	rc=$?
	expect_eq "exit status" 78 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	grep -q "$T/bad.conf:$(wc -l <"$T/bad.conf"): .*frobnicate" "$T/pm.err" ||
		fail "stderr does not name FILE:LINE and the key: $(cat "$T/pm.err")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
}

# in_private_mounts FN - run FN in a child bash in its own mount namespace (its mounts vanish with it);
# a failure inside (fail writes $T/reason) fails the test.
in_private_mounts() {
	unshare --mount --propagation private bash -c '
		. "$HERE/world.sh"; . "$HERE/postern.sh"; . "$HERE/t_40_submit.sh"; shopt -s lastpipe; set -x; "$@"' _ "$@" ||
		fail "$(cat "$T/reason" 2>/dev/null || echo "$1 failed")"
}

# the spool on a 200 KB tmpfs and a 1 MB message: 75, one clear line, nothing left anywhere.
test_submit_disk_full() { submit_env; in_private_mounts disk_full_inner; }
disk_full_inner() {
	local before rc
	mount -t tmpfs -o size=200k,mode=2770 tmpfs "$SPOOL" || fail "mount tmpfs"
	mkdir "$SPOOL/tmp" "$SPOOL/new" "$SPOOL/deferred" "$SPOOL/data"
	chown -R root:postern "$SPOOL"
	chmod 2770 "$SPOOL" "$SPOOL"/*
	seed_one
	{ printf 'To: full@mx-pref.example\nSubject: full\n\n'; head -c 750000 /dev/urandom | base64 -w 76; } >"$T/big"
	before=$(snapshot)
	pm -t -i <"$T/big"
	rc=$?
	expect_eq "exit status" 75 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	grep -qi 'space' "$T/pm.err" || fail "stderr does not say the disk is full: $(cat "$T/pm.err")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "leftover in tmp/"
	# and once there is room again, submission works
	printf 'To: ok@mx-pref.example\nSubject: ok\n\nsmall\n' | submit -t -i
}

# the caller's RLIMIT_FSIZE (ulimit -f sets soft and hard) below the message: the write fails with EFBIG
# instead of SIGXFSZ killing the submission (exit 153 or 70, tmp/ID.data left): 75, one line, nothing
# left anywhere.
test_submit_fsize_limit() {
	submit_env
	seed_one
	{ printf 'To: fsize@mx-pref.example\nSubject: fsize\n\n'; head -c 75000 /dev/urandom | base64 -w 76; } >"$T/big"
	local before rc
	before=$(snapshot)
	(ulimit -f 64 && exec "$T/bin/sendmail" -C "$CONF" -t -i <"$T/big" >"$T/pm.out" 2>"$T/pm.err")
	rc=$?
	expect_eq "exit status" 75 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/pm.err")"
	grep -qi 'too large' "$T/pm.err" || fail "stderr does not say the file is too large: $(cat "$T/pm.err")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "leftover in tmp/: $(ls -A "$SPOOL/tmp")"
}

# ------------------------------------------------------------------------------ 3. SIGKILL mid-way

# body_sum FILE - sha256 of a message's body with CR removed (a caller's LF file or a spooled file).
body_sum() { sed -e 's/\r$//' "$1" | sed '1,/^$/d' | sha256sum | cut -c1-64; }

# Many 64 KB submissions, each SIGKILLed after 0-30 ms. Every one that exited 0 is queued intact;
# every envelope has its complete data file; nothing partial is visible as queued. A submission makes
# its mark new/ID first and renames its data file beside it at the commit point, so one killed before
# that leaves a mark without data: empty, no message (mailq does not list it, a runner never takes
# it), and the runner's sweep removes it.
test_submit_sigkill() {
	submit_env
	local n=${SUBMIT_KILLS:-200} i pid rc ok=0 killed=0 id seq size orphans=0
	mkdir "$T/msg"
	for i in $(seq 1 "$n"); do
		{ printf 'From: k@postern.example\nTo: k%d@mx-pref.example\nSubject: kill %d\nX-Seq: %d\n\n' "$i" "$i" "$i"
		  head -c 48000 /dev/urandom | base64 -w 76; } >"$T/msg/$i"
	done
	: >"$T/rc"
	# the kills fall in 0..2x the time one submission takes here (at least 0..30 ms): a build under
	# ASan, or a loaded machine, is slower, and a test whose every submission is killed proves nothing.
	# Timed on message 0, which is queued like the rest.
	local t0 maxms ms
	{ printf 'From: k@postern.example\nTo: k0@mx-pref.example\nSubject: kill 0\nX-Seq: 0\n\n'
	  head -c 48000 /dev/urandom | base64 -w 76; } >"$T/msg/0"
	t0=$(date +%s%N)
	"$T/bin/sendmail" -C "$CONF" -t -i <"$T/msg/0" >/dev/null 2>>"$T/kill.err" || fail "the timed submission failed"
	maxms=$((($(date +%s%N) - t0) / 500000))
	[ "$maxms" -ge 30 ] || maxms=30
	# and fewer of them when each is slow: the kills take about n x maxms / 2 in all (~20 s at most)
	[ $((n * maxms)) -le 40000 ] || n=$((40000 / maxms))
	[ "$n" -ge 20 ] || n=20
	echo "0 0" >>"$T/rc"
	set +x
	for i in $(seq 1 "$n"); do
		"$T/bin/sendmail" -C "$CONF" -t -i <"$T/msg/$i" >/dev/null 2>>"$T/kill.err" &
		pid=$!
		ms=$((RANDOM % (maxms + 1)))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		rc=$?
		echo "$i $rc" >>"$T/rc"
		case $rc in 0) ok=$((ok + 1)) ;; 137) killed=$((killed + 1)) ;;
		*) fail "submission $i exited $rc (neither 0 nor killed): $(tail -n 1 "$T/kill.err")" ;; esac
	done
	# the composers of killed submitters die on their own; wait until no postern runs
	wait_for 10 no_postern_running || fail "postern processes still running 10 s after the last kill"
	echo "submissions: $n, exited 0: $ok, killed: $killed"
	[ "$ok" -gt 0 ] && [ "$killed" -gt 0 ] || fail "no mix of completed ($ok) and killed ($killed) submissions"
	# every envelope: complete data file, a known X-Seq once, the body as sent
	: >"$T/queued"
	: >"$T/queued_ids"
	: >"$T/lone"
	for id in $(spool_ids); do
		if [ ! -e "$SPOOL/data/$id" ]; then
			[ -f "$SPOOL/new/$id" ] && [ ! -s "$SPOOL/new/$id" ] || fail "new/$id without data file is no empty mark"
			echo "$id" >>"$T/lone"
			continue
		fi
		spool_env "$id" >"$T/env" || fail "data/$id does not end with its envelope"
		spool_data "$id" >"$T/data"
		size=$(sed -n 's/^SIZE //p' "$T/env")
		expect_eq "SIZE of $id" "$(stat -c %s "$T/data")" "$size"
		tail -n 1 "$T/env" | grep -q '^END 1$' || fail "envelope $id truncated: $(tail -n 1 "$T/env")"
		seq=$(header "$T/data" X-Seq)
		[ -f "$T/msg/$seq" ] || fail "queued $id has no known X-Seq: '$seq'"
		expect_eq "body of X-Seq $seq (queued as $id)" "$(body_sum "$T/msg/$seq")" "$(body_sum "$T/data")"
		echo "$seq" >>"$T/queued"
		echo "$id" >>"$T/queued_ids"
	done
	[ -z "$(sort "$T/queued" | uniq -d)" ] || fail "queued twice: $(sort "$T/queued" | uniq -d | head -n 3 | tr '\n' ' ')"
	while read -r i rc; do
		[ "$rc" = 0 ] || continue
		grep -qx "$i" "$T/queued" || fail "submission $i exited 0 but is not queued"
	done <"$T/rc"
	# leftovers: only in tmp/ (data/ files without an envelope are noted: not queued, swept later)
	for id in $(ls "$SPOOL/data"); do
		[ -f "$SPOOL/new/$id" ] || orphans=$((orphans + 1))
	done
	echo "queued: $(wc -l <"$T/queued"), tmp/ leftovers: $(ls "$SPOOL/tmp" | wc -l), data/ without envelope: $orphans, marks without data: $(wc -l <"$T/lone")"
	[ "$(wc -l <"$T/lone")" -le "$killed" ] || fail "more marks without data than killed submissions"
	[ -z "$(ls "$SPOOL/deferred")" ] || fail "files in deferred/"
	# a mark without data is no message: mailq lists the queued ones, and none of those
	"$T/bin/mailq" -C "$CONF" >"$T/mq.out" 2>"$T/mq.err" || fail "mailq exited $?: $(cat "$T/mq.err")"
	while read -r id; do
		grep -q "^$id" "$T/mq.out" && fail "mailq lists $id, a mark without data"
	done <"$T/lone"
	expect_eq "messages mailq lists" "$(wc -l <"$T/queued")" "$(grep -cE '^[0-9A-F]{19}' "$T/mq.out")"
	# and a sample of the queued messages is whole: its envelope reads back, its SIZE is the message's
	# (of the queued ones: new/ also holds the marks without data counted above)
	for id in $(shuf -n 3 --random-source=/dev/zero "$T/queued_ids"); do
		spool_env "$id" >"$T/sample.env" || fail "queued $id has no envelope"
		expect_eq "queued $id: SIZE" "$(spool_data "$id" | wc -c)" "$(sed -n 's/^SIZE //p' "$T/sample.env")"
	done
}

# no_postern_running - no process runs $SM or $BIN (the composers of killed submitters have exited).
no_postern_running() {
	local p x
	for p in /proc/[0-9]*; do
		x=$(readlink "$p/exe" 2>/dev/null)
		[ "$x" = "$SM" ] || [ "$x" = "$BIN" ] && return 1
	done
	return 0
}

# ---------------------------------------------------------------- 4. the unprivileged user (nobody)

# unpriv_setup - inside private mounts: $T/sbin/sendmail root:postern 2755, the real spool, and the
# config visible at /etc/postern/postern.conf through an overlay on /etc (the host's /etc is not
# written; the harness's private passwd, group, hosts and resolv.conf are bound again on top).
unpriv_setup() {
	mkdir -p "$T/sbin" "$T/etc-up" "$T/etc-work"
	cp "$SM" "$T/sbin/sendmail"
	chown root:postern "$T/sbin/sendmail"
	chmod 2755 "$T/sbin/sendmail"
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/etc-up,workdir=$T/etc-work" /etc || fail "overlay on /etc"
	for f in resolv.conf hosts passwd group; do mount --bind "$WORK/etc/$f" "/etc/$f" || fail "bind $f"; done
	mkdir -p /etc/postern
	cp "$CONF" /etc/postern/postern.conf
	chown root:root /etc/postern/postern.conf
	chmod 0644 /etc/postern/postern.conf
	chmod 0755 "$T"
	getent group postern >/dev/null || fail "no postern group"
}

# as_nobody CMD... - run CMD as uid/gid 65534 with no supplementary groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# nobody_pm ARGS... - the setgid binary as nobody, without -C, with the extra environment in the
# array NOBODY_ENV (set by env(1) only for postern); output in $T/pm.out and $T/pm.err.
nobody_pm() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- env "${NOBODY_ENV[@]}" "$T/sbin/sendmail" "$@" \
		>"$T/pm.out" 2>"$T/pm.err"
	local rc=$?
	echo "nobody sendmail $* -> $rc: $(head -c 300 "$T/pm.err")" >&2
	return $rc
}

RCV_NOBODY=$'Received: by mail.postern.example (postern, from userid 65534)\n\tid QID; DATE'

# expect_nobody_msg SUBJECT - the one queued message is nobody's SUBJECT message, byte for byte.
expect_nobody_msg() {
	WANT_UID=65534 expect_queued_exactly nobody@postern.example 7BIT u@mx-pref.example <<-EOF
	$RCV_NOBODY
	To: u@mx-pref.example
	Subject: $1
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: "nobody" <nobody@postern.example>

	body
	EOF
}

test_submit_unpriv_queues() { submit_env; in_private_mounts unpriv_queues_inner; }
unpriv_queues_inner() {
	unpriv_setup
	printf 'To: u@mx-pref.example\nSubject: as nobody\n\nbody\n' | nobody_pm -t -i || fail "nobody's submission exited $?: $(cat "$T/pm.err")"
	[ -s "$T/pm.err" ] && fail "stderr: $(cat "$T/pm.err")"
	expect_nobody_msg "as nobody"
	local id
	id=$(the_id)
	as_nobody ls "$SPOOL/new" >/dev/null 2>&1 && fail "nobody can list the spool"
	as_nobody cat "$SPOOL/data/$id" >/dev/null 2>&1 && fail "nobody can read a queued message"
	as_nobody ls "$SPOOL" >/dev/null 2>&1 && fail "nobody can list the spool root"
	nobody_pm -bp </dev/null || fail "-bp as nobody exited $?: $(cat "$T/pm.err")"
	return 0
}

# A caller the front door's libc cannot find (musl reads /etc/passwd and asks nscd, but loads no NSS
# module): the composer asks getent, as the caller and without the group, and sends under the name it
# gives; one getent does not know either sends as uid4242. A stand-in getent, bound over
# /usr/bin/getent, plays the directory server (and checks whom it runs as).
RCV_4242=$'Received: by mail.postern.example (postern, from userid 4242)\n\tid QID; DATE'
test_submit_nss_user() { nss_user_test known; }
test_submit_nss_user_unknown() { nss_user_test unknown; }
nss_user_test() {
	submit_env
	readelf -l "$SM" | grep -q 'Requesting program interpreter' &&
		skip "a dynamic (glibc) front door asks NSS itself"
	in_private_mounts nss_user_inner "$1"
}
nss_user_inner() {
	unpriv_setup
	{ echo '#!/bin/sh'
	  echo 'echo "getent $* as $(id -u):$(id -G)" >>'"$T/getent.log"
	  [ "$1" = known ] && echo '[ "$1 $2" = "passwd 4242" ] && exec echo "ldapuser:x:4242:4242:LDAP User,Room 1,,:/home/l:/bin/sh"'
	  echo 'exit 2'; } >"$T/getent"
	chmod 0755 "$T/getent"
	: >"$T/getent.log"
	chmod 0666 "$T/getent.log"	# (written as uid 4242)
	mount --bind "$T/getent" /usr/bin/getent || fail "bind getent"
	printf 'To: u@mx-pref.example\nSubject: nss\n\nbody\n' |
		setpriv --reuid=4242 --regid=4242 --clear-groups -- "$T/sbin/sendmail" -t -i >"$T/pm.out" 2>"$T/pm.err" ||
		fail "sendmail as uid 4242 exited $?: $(cat "$T/pm.err")"
	expect_eq "getent's calls" "getent passwd 4242 as 4242:4242" "$(cat "$T/getent.log")"
	local name=ldapuser from='"LDAP User" <ldapuser@postern.example>'
	[ "$1" = known ] || { name=uid4242; from='<uid4242@postern.example>'; }
	WANT_UID=4242 expect_queued_exactly "$name@postern.example" 7BIT u@mx-pref.example <<-EOF
	$RCV_4242
	To: u@mx-pref.example
	Subject: nss
	Date: DATE
	Message-ID: <QID@mail.postern.example>
	From: $from

	body
	EOF
}

# -C from a non-root user: the group is given up before the file is read.
test_submit_unpriv_C() { submit_env; in_private_mounts unpriv_C_inner; }
unpriv_C_inner() {
	unpriv_setup
	seed_one
	local before rc
	before=$(snapshot)
	# (a) a config naming the real spool: no way in, nothing written
	printf 'hostname mail.postern.example\ndomain postern.example\nspool %s\ndeliver queue\n' "$SPOOL" >"$T/evil.conf"
	chmod 0644 "$T/evil.conf"
	printf 'To: u@mx-pref.example\nSubject: evil\n\nbody\n' | nobody_pm -C "$T/evil.conf" -t -i
	rc=$?
	case $rc in 73|75) ;; *) fail "-C naming the real spool as nobody: want 73 or 75, got $rc: $(cat "$T/pm.err")" ;; esac
	expect_eq "real spool after -C" "$before" "$(snapshot)"
	# (b) another spool (nobody's own) and the real DKIM key: the front door never opens a key, so the
	# message may be queued there, unsigned; the key stays unread
	mkdir -p "$T/evil/tmp" "$T/evil/new" "$T/evil/deferred" "$T/evil/data"
	chown -R 65534:65534 "$T/evil"
	printf 'hostname mail.postern.example\ndomain postern.example\nspool %s\ndeliver queue\ndkim postern.example rsa2048 %s\n' \
		"$T/evil" "$WORK/keys/dkim-rsa.pem" >"$T/evil2.conf"
	printf 'From: a@postern.example\nTo: u@mx-pref.example\nSubject: evil2\n\nbody\n' | nobody_pm -C "$T/evil2.conf" -t -i
	rc=$?
	local k
	k=$(sed -n 2p "$WORK/keys/dkim-rsa.pem")
	grep -rqF "$k" "$T/pm.out" "$T/pm.err" "$T/evil" && fail "DKIM key material leaked"
	grep -rq '^PREPEND DKIM-Signature' "$T/evil" && fail "the front door signed with a key nobody cannot read"
	expect_eq "real spool after -C with a key (exit $rc)" "$before" "$(snapshot)"
}

# a hostile environment is ignored: LD_PRELOAD, TMPDIR, resolver variables.
test_submit_unpriv_env() { submit_env; in_private_mounts unpriv_env_inner; }
unpriv_env_inner() {
	unpriv_setup
	printf 'evil.example 127.0.0.1\n' >"$T/hostaliases"
	chmod 0644 "$T/hostaliases"
	NOBODY_ENV=(LD_PRELOAD=/nonexistent.so LD_LIBRARY_PATH=/nonexistent TMPDIR=/nonexistent
		LOCALDOMAIN=evil.example RES_OPTIONS='ndots:15 attempts:5' HOSTALIASES="$T/hostaliases"
		MALLOC_CHECK_=3 OPENSSL_CONF=/nonexistent.cnf TZ=/etc/shadow HOSTNAME=evil.example)
	printf 'To: u@mx-pref.example\nSubject: env\n\nbody\n' | nobody_pm -t -i || fail "submission with a poisoned environment exited $?: $(cat "$T/pm.err")"
	[ -s "$T/pm.err" ] && fail "stderr: $(cat "$T/pm.err")"
	expect_nobody_msg env
}

# closed stdout (and stderr): nothing postern prints may land in the message or the spool.
test_submit_unpriv_closed_fds() { submit_env; in_private_mounts unpriv_closed_fds_inner; }
unpriv_closed_fds_inner() {
	unpriv_setup
	printf 'To: u@mx-pref.example\nSubject: closed\n\nbody\n' >"$T/m"
	as_nobody "$T/sbin/sendmail" -t -i <"$T/m" >&- || fail "stdout closed: exit $?"
	expect_nobody_msg closed
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	as_nobody "$T/sbin/sendmail" -v -t -i <"$T/m" >&- 2>&- || fail "stdout and stderr closed, -v: exit $?"
	expect_nobody_msg closed
	rm -f "$SPOOL"/new/* "$SPOOL"/data/*
	# stdin closed (glibc gives a set-group-id program /dev/full, write-only, as fd 0): either a
	# refusal with nothing queued, or one complete (empty-bodied) message
	local rc
	nobody_pm -i u@mx-pref.example <&-
	rc=$?
	if [ "$rc" -eq 0 ]; then
		check_spooled "$(the_id)"
	else
		expect_eq "stderr lines (stdin closed, exit $rc)" 1 "$(wc -l <"$T/pm.err")"
		[ -z "$(find "$SPOOL" -type f)" ] || fail "stdin closed: exit $rc but something was left in the spool"
	fi
	[ -z "$(ls "$SPOOL/tmp")" ] || fail "leftover in tmp/ with stdin closed"
}

# ------------------------------------------------------------------------- 5. -bs, -bv, newaliases

# reply_codes FILE - the code of each final reply line ("NNN "), space-separated.
reply_codes() { sed -n 's/^\([0-9][0-9][0-9]\) .*/\1/p' "$1" | paste -sd ' '; }

test_submit_bs() {
	submit_env
	printf 'EHLO client.example\r\nMAIL FROM:<bs@postern.example>\r\nRCPT TO:<r1@mx-pref.example>\r\nRCPT TO:<r2@implicit.example>\r\nDATA\r\nFrom: bs@postern.example\r\nTo: r1@mx-pref.example\r\nSubject: via -bs\r\n\r\nline one\r\n..dot-stuffed\r\n...\r\n.\r\nQUIT\r\n' |
		submit -bs
	expect_eq "SMTP replies" "220 250 250 250 250 354 250 221" "$(reply_codes "$T/pm.out")"
	grep -q $'\r$' "$T/pm.out" || fail "replies without CRLF"
	expect_queued_exactly bs@postern.example 7BIT r1@mx-pref.example r2@implicit.example <<-EOF
	$RCV
	From: bs@postern.example
	To: r1@mx-pref.example
	Subject: via -bs
	Date: DATE
	Message-ID: <QID@mail.postern.example>

	line one
	.dot-stuffed
	..
	EOF
}

# -bs: two messages in one session (RSET between), a bad command and a bad address do no harm.
test_submit_bs_two_messages() {
	submit_env
	printf 'HELO client.example\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<bad@@x>\r\nRCPT TO:<x1@mx-pref.example>\r\nDATA\r\nSubject: one\r\n\r\n1\r\n.\r\nXYZZY\r\nMAIL FROM:<b@postern.example>\r\nRCPT TO:<x2@mx-pref.example>\r\nRSET\r\nMAIL FROM:<c@postern.example>\r\nRCPT TO:<x3@mx-pref.example>\r\nDATA\r\nSubject: two\r\n\r\n2\r\n.\r\nQUIT\r\n' |
		submit -bs
	local codes
	codes=$(reply_codes "$T/pm.out")
	# RFC 5321: a recipient with bad syntax is refused at RCPT (501), the good ones still get the data
	case $codes in "220 250 250 5"*) ;; *) fail "RCPT TO:<bad@@x> was not refused at RCPT: replies $codes" ;; esac
	case $codes in "220 250 250 5"[0-9][0-9]" 250 354 250 5"[0-9][0-9]" 250 250 250 250 250 354 250 221") ;;
	*) fail "SMTP replies: $codes" ;; esac
	expect_eq "queued" 2 "$(spool_ids | wc -l)"
	expect_eq "senders" "a@postern.example c@postern.example" "$(for i in $(spool_ids); do spool_env "$i"; done | sed -n 's/^SENDER //p' | sort | paste -sd ' ')"
	expect_eq "recipients" "x1@mx-pref.example x3@mx-pref.example" "$(for i in $(spool_ids); do spool_env "$i"; done | sed -n 's/^RCPT //p' | sort | paste -sd ' ')"
}

# -bs: a NUL byte or a line over 64 KiB in the data refuses that message with 5xx and queues nothing
# of it (they used to be cut while the reply said "250 queued"); the session goes on.
test_submit_bs_refuses_nul_and_long_line() {
	submit_env
	seed_one
	local before long
	before=$(snapshot)
	long=$(head -c 70000 /dev/zero | tr '\0' l)
	{ printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<n@mx-pref.example>\r\nDATA\r\nSubject: nul\r\n\r\nbefore\000after\r\nmore\r\n.\r\n'
	  printf 'MAIL FROM:<a@postern.example>\r\nRCPT TO:<l@mx-pref.example>\r\nDATA\r\nSubject: long\r\n\r\n%s\r\n.\r\n' "$long"
	  printf 'QUIT\r\n'; } | submit -bs
	expect_eq "SMTP replies" "220 250 250 250 354 554 250 250 354 554 221" "$(reply_codes "$T/pm.out")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "leftover in tmp/"
	# and the same session shape with clean data queues it
	printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<ok@mx-pref.example>\r\nDATA\r\nSubject: ok\r\n\r\nfine\r\n.\r\nQUIT\r\n' | submit -bs
	expect_eq "SMTP replies" "220 250 250 250 354 250 221" "$(reply_codes "$T/pm.out")"
	expect_eq "queued" 2 "$(spool_ids | wc -l)"
}

# -bs: a bare LF in the data refuses the message and ends the session (521): "\n.\n" no longer ends the
# data with what follows taken as commands (SMTP smuggling); and input that ends inside DATA queues
# nothing.
test_submit_bs_refuses_bare_lf() {
	submit_env
	seed_one
	local before
	before=$(snapshot)
	printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<x@mx-pref.example>\r\nDATA\r\nSubject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@postern.example>\r\nRCPT TO:<smuggled@mx-pref.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n' |
		submit -bs
	expect_eq "SMTP replies" "220 250 250 250 354 521" "$(reply_codes "$T/pm.out")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<x@mx-pref.example>\r\nDATA\r\nSubject: lf\n\nbody\n.\r\nQUIT\r\n' |
		submit -bs
	expect_eq "SMTP replies (LF lines, CRLF dot)" "220 250 250 250 354 521" "$(reply_codes "$T/pm.out")"
	printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<x@mx-pref.example>\r\nDATA\r\nSubject: nul\r\n\r\na\000b\r\n.\nMAIL FROM:<evil@postern.example>\r\nRCPT TO:<smuggled@mx-pref.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' |
		submit -bs
	expect_eq "SMTP replies (a NUL, then a bare-LF end)" "220 250 250 250 354 521" "$(reply_codes "$T/pm.out")"
	printf 'HELO c\r\nMAIL FROM:<a@postern.example>\r\nRCPT TO:<x@mx-pref.example>\r\nDATA\r\nSubject: cut\r\n\r\nno end\r\n' |
		submit -bs
	expect_eq "SMTP replies (EOF in DATA)" "220 250 250 250 354" "$(reply_codes "$T/pm.out")"
	expect_eq "spool snapshot" "$before" "$(snapshot)"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "leftover in tmp/"
	[ -s "$T/pm.err" ] && fail "the refusal's NUL shows on stderr: $(cat "$T/pm.err")"
	return 0
}

# `mailq | head`: the reader went away before mailq wrote (EPIPE): exit 0 and nothing on stderr, not
# "write error" and 74.
test_submit_mailq_reader_gone() {
	submit_env
	seed_one
	local rc
	{ sleep 0.5; "$T/bin/mailq" -C "$CONF" 2>"$T/mq.err"; echo $? >"$T/mq.rc"; } | true
	expect_eq "mailq exit status" 0 "$(cat "$T/mq.rc")"
	[ -s "$T/mq.err" ] && fail "mailq said: $(cat "$T/mq.err")"
	"$T/bin/mailq" -C "$CONF" >/dev/full 2>"$T/mq.err"
	rc=$?
	expect_eq "mailq exit status on a full device" 74 "$rc"
	grep -q 'write error' "$T/mq.err" || fail "mailq on /dev/full said: $(cat "$T/mq.err")"
}

test_submit_bv() {
	printf 'ops: alice@mx-pref.example, bob@implicit.example\nroot: ops\n' >"$T/aliases"
	submit_env "aliases $T/aliases"
	seed_one
	local before
	before=$(snapshot)
	pm -bv root www-data user@mx-pref.example </dev/null || fail "-bv exited $?: $(cat "$T/pm.err")"
	for a in alice@mx-pref.example bob@implicit.example www-data@postern.example user@mx-pref.example; do
		grep -qF "$a" "$T/pm.out" || fail "-bv does not show $a: $(tr '\n' '|' <"$T/pm.out")"
	done
	expect_eq "spool after -bv" "$before" "$(snapshot)"
	pm -bv 'bad@@x' </dev/null && fail "-bv of a malformed address exited 0"
	expect_eq "spool after -bv" "$before" "$(snapshot)"
}

test_submit_newaliases() {
	printf '# ok\nops: alice@mx-pref.example,\n\tbob@implicit.example\npostmaster: root\nroot: ops\n' >"$T/aliases"
	submit_env "aliases $T/aliases"
	ln -sf "$SM" "$T/bin/newaliases"
	"$T/bin/newaliases" -C "$CONF" >"$T/na.out" 2>"$T/na.err" || fail "newaliases exited $?: $(cat "$T/na.err")"
	grep -q '3 aliases' "$T/na.out" || fail "newaliases does not count 3 aliases: $(cat "$T/na.out")"
	pm -bi </dev/null || fail "sendmail -bi exited $?"
	local bad rc
	for bad in 'x: |/bin/sh -c evil' 'x: /var/mail/x' 'x: :include:/etc/passwd' $'a: b\nb: a' 'x: a@@b' 'no colon here'; do
		printf '%s\n' "$bad" >"$T/aliases"
		"$T/bin/newaliases" -C "$CONF" >"$T/na.out" 2>"$T/na.err"
		rc=$?
		expect_eq "newaliases exit for '$bad'" 78 "$rc"
		grep -q "$T/aliases" "$T/na.err" || fail "newaliases does not name the file for '$bad': $(cat "$T/na.err")"
	done
	# a submission with a bad aliases file queues nothing
	printf 'To: root\n\nbody\n' | pm -t -i
	rc=$?
	[ "$rc" -ne 0 ] || fail "submission with a bad aliases file exited 0"
	[ -z "$(find "$SPOOL" -type f)" ] || fail "something was left in the spool"
}


# ------------------------------------------------------------------ 6. delivery started by submission

# spool_messages - how many message files data/, new/ and deferred/ hold.
spool_messages() { find "$SPOOL/data" "$SPOOL/new" "$SPOOL/deferred" -type f | wc -l; }
spool_no_messages() { [ "$(spool_messages)" -eq 0 ]; }

# -odi: the message is delivered before sendmail returns (the runner it starts used to find the message
# still locked by its own parent and skip it: nothing was ever delivered until a later queue run).
test_submit_odi_delivers() {
	submit_env
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	local i
	for i in 1 2 3; do
		msg a@postern.example "odi$i@mx-pref.example" "odi $i" | submit -odi -t -i
		expect_eq "delivered when -odi $i returned" "$i" "$(mail_count mx1)"
	done
	expect_eq "rcpts" "odi1@mx-pref.example odi2@mx-pref.example odi3@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "message files left in the spool" 0 "$(spool_messages)"
}

# deliver background: each submission's detached run takes its own message (it used to race the
# submitting parent's lock): 20 submissions in a row, all delivered without any queue run.
test_submit_background_run_takes_message() {
	submit_env
	sed -i 's/^deliver queue$/deliver background/' "$CONF"
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	local i
	for i in $(seq 1 20); do
		msg a@postern.example "bg$i@mx-pref.example" "bg $i" | submit -t -i
	done
	wait_mail mx1 20 20 || fail "delivered $(mail_count mx1) of 20 without a queue run"
	wait_for 10 spool_no_messages || true
	expect_eq "message files left in the spool" 0 "$(spool_messages)"
	expect_eq "transactions" 20 "$(mail_count mx1)"
}
