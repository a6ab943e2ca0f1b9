# t_50_dkim.sh - DKIM signing end to end: every message goes through the real submission path and
# the real queue runner to a receiving server of the world, and is judged by independent verifiers
# (dkimpy and opendkim for both algorithms, Mail::DKIM for RSA) against the world's DNS. Covered:
# message shapes (dkim.sh: SHAPES) in three canonicalisations, per-key canon=, obsolete header
# syntax, tampering, over-signing, the choice of signing domain (subdomains, most specific key,
# display-name traps, two From fields), 8-bit to a 7-bit server, dkim_required, key file checks,
# config errors, dkim-keygen/dkim-record output published as printed, and x= (dkim_expire).
# Helpers in dkim.sh. Test names all start with dkim_ (INTEGRATION_ONLY='dkim*').

# shellcheck source=tests/integration/dkim.sh
. "$HERE/dkim.sh"

# --------------------------------------------------------------------------------------- shapes

test_dkim_shapes_relaxed_relaxed() {	# the default canonicalisation
	shapes_test relaxed/relaxed "$DKIM_RSA" "$DKIM_ED"
}
test_dkim_shapes_simple_simple() {
	shapes_test simple/simple "dkim_canon simple/simple" "$DKIM_RSA" "$DKIM_ED"	# canon first
}
test_dkim_shapes_relaxed_simple() {
	shapes_test relaxed/simple "$DKIM_RSA" "$DKIM_ED" "dkim_canon relaxed/simple"
}

# White space between a field name and its colon (RFC 5322 4.5, obsolete syntax that parsers must
# read): the fields stay header fields (or the message is refused with 65), never become body text.
test_dkim_obs_ws_before_colon() {
	SHAPES=ws_before_colon
	shapes_test relaxed/relaxed "$DKIM_RSA" "$DKIM_ED"
}

# per-key canon= overrides dkim_canon, even one given after it (one word: simple = simple/simple)
test_dkim_per_key_canon() {
	local s f i problems='' bad
	dkim_env "$DKIM_RSA canon=simple/relaxed" "$DKIM_ED" "dkim_canon simple"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	SHAPES="whitespace trailing_empty_lines odd_case php no_final_newline"
	shapes_submit
	queue_run
	for s in $SHAPES; do
		f=$(dk_delivered_to mx1 "$s@mx-pref.example") || fail "$s: not delivered"
		expect_eq "$s: signatures" 2 "$(dkim_sig_count "$f")"
		i=$(sig_index "$f" rsa-sha256) || fail "$s: no rsa-sha256 signature"
		expect_eq "$s: rsa c= (canon=simple/relaxed)" simple/relaxed "$(sig_tag "$f" "$i" c)"
		i=$(sig_index "$f" ed25519-sha256) || fail "$s: no ed25519-sha256 signature"
		expect_eq "$s: ed25519 c= (dkim_canon simple)" simple/simple "$(sig_tag "$f" "$i" c)"
		bad=$(verify_each "$f" "$T/verify.log")
		[ -z "$bad" ] || problems="$problems $s:[${bad# }]"
	done
	[ -z "$problems" ] || fail "verification failed:$problems"
}

# ------------------------------------------------------------------------------------ tampering

# dk_tamper FILE KIND - print FILE changed in one way (CRLF kept).
dk_tamper() {
	case $2 in
	body_byte) sed '/^\r$/,$ s/Hello/Jello/' "$1" ;;
	body_line_added) cat "$1"; printf 'one more line\r\n' ;;
	subject_changed) sed '1,/^\r$/ s/^Subject: \(.*\)t\r$/Subject: \1T\r/' "$1" ;;
	from_changed) sed '1,/^\r$/ s/^From: Tamper/From: Tamperer/' "$1" ;;
	date_changed) sed '1,/^\r$/ s/^\(Date: .*\) [+-][0-9]\{4\}\r$/\1 +0100\r/' "$1" ;;
	from_added_top) printf 'From: Evil <evil@mx-pref.example>\r\n'; cat "$1" ;;
	from_added_bottom) sed '0,/^\r$/ s/^\r$/From: Evil <evil@mx-pref.example>\r\n\r/' "$1" ;;
	subject_added_top) printf 'Subject: pay this invoice\r\n'; cat "$1" ;;
	subject_added_bottom) sed '0,/^\r$/ s/^\r$/Subject: pay this invoice\r\n\r/' "$1" ;;
	to_added_top) printf 'To: victim@mx-pref.example\r\n'; cat "$1" ;;
	cc_added_top) printf 'Cc: victim@mx-pref.example\r\n'; cat "$1" ;;
	reply_to_added_top) printf 'Reply-To: evil@mx-pref.example\r\n'; cat "$1" ;;
	message_id_added_top) printf 'Message-ID: <evil@mx-pref.example>\r\n'; cat "$1" ;;
	*) fail "unknown tampering $2" ;;
	esac
}

# tamper_test CANON KIND... - deliver one message signed with CANON; it verifies; each tampered
# copy (which must differ from it) is rejected by every verifier for every signature.
tamper_test() {
	local canon=$1 f k good problems=
	shift
	dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim_canon $canon"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "Tamper <tamper@postern.example>" "t@mx-pref.example" "tamper test" | dk_deliver_one tamper -t -i) || exit 1
	expect_signed "$f" "$canon"
	expect_verified "$f"
	for k in "$@"; do
		dk_tamper "$f" "$k" >"$T/$k.eml"
		cmp -s "$f" "$T/$k.eml" && fail "tampering $k changed nothing (test bug)"
		echo "#### $k" >>"$T/verify.log"
		good=$(reject_each "$T/$k.eml" "$T/verify.log")
		[ -z "$good" ] || problems="$problems $k:[${good# }]"
	done
	[ -z "$problems" ] || fail "tampered copies still verify:$problems"
}

TAMPER_KINDS="body_byte body_line_added subject_changed from_changed date_changed from_added_top
	from_added_bottom"
# shellcheck disable=SC2086
test_dkim_tamper_relaxed() { tamper_test relaxed/relaxed $TAMPER_KINDS; }
# shellcheck disable=SC2086
test_dkim_tamper_simple() { tamper_test simple/simple $TAMPER_KINDS; }

# ---------------------------------------------------------------------------------- over-signing

# Every header field RFC 6376 5.4.1 wants signed that the message has is in h= once more than it
# occurs, so adding one on top of a delivered copy breaks every signature; an unsigned field
# (X-Added) may still be added.
test_dkim_oversign() {
	local f i n h k problems='' good
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(printf '%s\n' "From: Tamper <tamper@postern.example>" "To: o@mx-pref.example" \
		"Cc: c@mx-pref.example" "Reply-To: r@postern.example" "Subject: over-signing" \
		"In-Reply-To: <parent@postern.example>" "References: <root@postern.example> <parent@postern.example>" \
		"MIME-Version: 1.0" "Content-Type: text/plain; charset=us-ascii" "Content-Transfer-Encoding: 7bit" \
		"" "Hello, over-signing." | dk_deliver_one oversign -i o@mx-pref.example) || exit 1
	expect_signed "$f" relaxed/relaxed
	expect_verified "$f"
	for i in 1 2; do
		for h in from to cc reply-to subject date message-id in-reply-to references mime-version \
			content-type content-transfer-encoding; do
			n=$(hdr_occurrences "$f" "$h")
			[ "$n" -ge 1 ] || fail "delivered message lacks $h (test bug or postern dropped it)"
			expect_eq "signature $i ($(sig_tag "$f" "$i" a)): $h in h= (present $n)" $((n + 1)) \
				"$(hlist_count "$f" "$i" "$h")"
		done
		[ -z "$(sig_tag "$f" "$i" x)" ] || fail "x= without dkim_expire: $(sig_tag "$f" "$i" x)"
	done
	for k in subject_added_top subject_added_bottom to_added_top cc_added_top reply_to_added_top \
		message_id_added_top from_added_top; do
		dk_tamper "$f" "$k" >"$T/$k.eml"
		echo "#### $k" >>"$T/verify.log"
		good=$(reject_each "$T/$k.eml" "$T/verify.log")
		[ -z "$good" ] || problems="$problems $k:[${good# }]"
	done
	[ -z "$problems" ] || fail "copies with an added signed field still verify:$problems"
	{ printf 'X-Added: not signed\r\n'; cat "$f"; } >"$T/x_added.eml"
	expect_verified "$T/x_added.eml"
}

# ------------------------------------------------------------------------------ signing domain

# From in a subdomain (and in upper case) is signed with the parent domain's keys.
test_dkim_domain_subdomain() {
	local f
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "Sub <x@sub.postern.example>" "sub@mx-pref.example" "subdomain" | dk_deliver_one sub -t -i) || exit 1
	expect_signed "$f" relaxed/relaxed
	expect_verified "$f"
	f=$(msg "Upper <X@SUB.POSTERN.EXAMPLE>" "upper@mx-pref.example" "upper case" | dk_deliver_one upper -t -i) || exit 1
	expect_eq "DKIM-Signature fields (From X@SUB.POSTERN.EXAMPLE)" 2 "$(dkim_sig_count "$f")"
	expect_eq "d= (upper-case From)" postern.example "$(sig_tag "$f" 1 d | tr 'A-Z' 'a-z')"
	expect_verified "$f"
}

# From in a domain without a key: sent unsigned, submission and queue run succeed. A domain that
# merely ends in "postern.example" is not a subdomain of it.
test_dkim_domain_unsigned() {
	local f who
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	for who in "other@mx-pref.example" "look@xpostern.example" "dot@postern.example.mx-pref.example"; do
		f=$(msg "$who" "u@mx-pref.example" "unsigned $who" | dk_deliver_one "$who" -i u@mx-pref.example) || exit 1
		expect_eq "DKIM-Signature fields (From $who)" 0 "$(dkim_sig_count "$f")"
		echo "stderr for From $who: $(cat "$T/pm.err")"
	done
}

# The signing domain is the From address's, never a domain in its display name or a comment.
test_dkim_domain_display_name() {
	local f from
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	for from in '"boss@postern.example" <evil@mx-pref.example>' 'evil@mx-pref.example (boss@postern.example)' \
		'"postern.example" <evil@mx-pref.example>'; do
		f=$(msg "$from" "dn@mx-pref.example" "display name" | dk_deliver_one "$from" -i dn@mx-pref.example) || exit 1
		expect_eq "DKIM-Signature fields (From: $from)" 0 "$(dkim_sig_count "$f")"
	done
	for from in '"evil@mx-pref.example" <real@postern.example>' 'real@postern.example (evil@mx-pref.example)' \
		'"Doe, John" <real@postern.example>'; do
		f=$(msg "$from" "dn@mx-pref.example" "display name" | dk_deliver_one "$from" -i dn@mx-pref.example) || exit 1
		expect_eq "DKIM-Signature fields (From: $from)" 2 "$(dkim_sig_count "$f")"
		expect_verified "$f"
	done
}

# Keys for both postern.example and sub.postern.example: the most specific domain signs.
test_dkim_domain_most_specific() {
	local f
	dns_add postern.example "subrsa._domainkey.sub 300 TXT $(dkim_txt "$WORK/keys/dkim-rsa.pem" rsa)" &&
		dns_add postern.example "subed._domainkey.sub 300 TXT $(dkim_txt "$WORK/keys/dkim-ed25519.pem" ed25519)" ||
		fail "dns_add"
	dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim sub.postern.example subrsa $WORK/keys/dkim-rsa.pem" \
		"dkim sub.postern.example subed $WORK/keys/dkim-ed25519.pem"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "x@sub.postern.example" "ms1@mx-pref.example" "most specific" | dk_deliver_one sub -t -i) || exit 1
	expect_eq "DKIM-Signature fields (From x@sub.postern.example)" 2 "$(dkim_sig_count "$f")"
	expect_eq "d= (1)" sub.postern.example "$(sig_tag "$f" 1 d)"
	expect_eq "d= (2)" sub.postern.example "$(sig_tag "$f" 2 d)"
	expect_eq "selectors" "subed subrsa" "$(printf '%s\n' "$(sig_tag "$f" 1 s)" "$(sig_tag "$f" 2 s)" | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_verified "$f"
	f=$(msg "y@postern.example" "ms2@mx-pref.example" "parent" | dk_deliver_one parent -t -i) || exit 1
	expect_signed "$f" relaxed/relaxed postern.example
	expect_verified "$f"
	f=$(msg "z@deep.sub.postern.example" "ms3@mx-pref.example" "deeper" | dk_deliver_one deeper -t -i) || exit 1
	expect_eq "DKIM-Signature fields (From z@deep.sub.postern.example)" 2 "$(dkim_sig_count "$f")"
	expect_eq "d= (deeper, 1)" sub.postern.example "$(sig_tag "$f" 1 d)"
	expect_eq "d= (deeper, 2)" sub.postern.example "$(sig_tag "$f" 2 d)"
	expect_verified "$f"
}

# Two From fields (RFC 5322 allows one): refused with 65, or else every From is covered by h= (so
# neither can be swapped) and the signatures verify. Either order of the two.
test_dkim_two_from() {
	local f rc n i order
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	for order in "b@postern.example a@mx-pref.example" "a@mx-pref.example b@postern.example"; do
		n=$(mail_count mx1)
		printf 'From: %s\nFrom: %s\nTo: two@mx-pref.example\nSubject: two From\n\nbody\n' $order |
			pm -i two@mx-pref.example
		rc=$?
		[ "$rc" -eq 65 ] && continue
		expect_eq "exit status (two From: $order)" 0 "$rc"
		queue_run
		f=$(mail_file mx1 $((n + 1)))
		[ -f "$f" ] || fail "two From ($order): not delivered"
		n=$(dkim_sig_count "$f")
		[ "$n" -eq 0 ] && continue
		for i in $(seq 1 "$n"); do
			[ "$(hlist_count "$f" "$i" from)" -ge 3 ] ||
				fail "two From ($order): signature $i h= has from only $(hlist_count "$f" "$i" from) times"
		done
		expect_verified "$f"
	done
}

# 8-bit body to a server without 8BITMIME: whatever postern does, what arrives must verify (a
# downgrade to 7 bit after signing would break every signature).
test_dkim_8bit_to_7bit_server() {
	local f
	dkim_env "$DKIM_RSA" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls --no-8bitmime --no-smtputf8 || fail "start"
	shape_utf8_body | submit -B8BITMIME -i utf8_body@mx-pref.example
	shape_latin1_body | submit -i latin1_body@mx-pref.example
	queue_run
	for f in "$T/mail/mx1"/*.eml; do
		[ -f "$f" ] || continue
		expect_eq "signatures ($f)" 2 "$(dkim_sig_count "$f")"
		expect_verified "$f"
	done
}

# dkim_required yes is about keys that cannot be used: a From domain without a dkim line is still
# accepted and sent unsigned (the log says why); with a key it is signed.
test_dkim_domain_required() {
	local f
	dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim_required yes"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "other@mx-pref.example" "r0@mx-pref.example" "required other" | dk_deliver_one other -t -i) || exit 1
	expect_eq "signatures (From without a key)" 0 "$(dkim_sig_count "$f")"
	f=$(msg "ok@postern.example" "r@mx-pref.example" "required ok" | dk_deliver_one ok -t -i) || exit 1
	expect_signed "$f" relaxed/relaxed
	f=$(msg "ok@sub.postern.example" "r2@mx-pref.example" "required sub" | dk_deliver_one sub -t -i) || exit 1
	expect_signed "$f" relaxed/relaxed
}

# ------------------------------------------------------------------------------------- key files

# key_held_test KEYFILE WHAT [REASON] - with KEYFILE as the rsa2048 key: the submission is accepted
# (exit 0; the front door never opens a key), the queue run sends nothing and holds the message,
# deferred with a reason naming the file (and REASON) that mailq shows.
key_held_test() {
	dkim_env "dkim postern.example rsa2048 $1" "$DKIM_ED"
	key_held_common "$@"
}

# key_held_test_ed KEYFILE WHAT [REASON] - key_held_test for the ed25519 key.
key_held_test_ed() {
	dkim_env "$DKIM_RSA" "dkim postern.example ed25519 $1"
	key_held_common "$@"
}

key_held_common() {
	local rc
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "k@postern.example" "k@mx-pref.example" "key $2" | pm -t -i
	rc=$?
	expect_eq "exit status ($2)" 0 "$rc"
	[ -s "$T/pm.err" ] && fail "stderr at submission: $(head -c 300 "$T/pm.err")"
	queue_run
	expect_eq "delivered with a bad key ($2)" 0 "$(mail_count mx1)"
	mailq_text >"$T/mailq.txt"
	grep -qF "DKIM key $1: ${3:-}" "$T/mailq.txt" ||
		fail "mailq does not say 'DKIM key $1: ${3:-}': $(tr '\n' ' ' <"$T/mailq.txt" | head -c 400)"
}

# dk_copy_key SRC DEST MODE - a copy of a key, root:postern, MODE.
dk_copy_key() { cp "$1" "$2" && chown root:postern "$2" && chmod "$3" "$2" || fail "dk_copy_key $2"; }

test_dkim_key_world_readable() {
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0644
	key_held_test "$T/rsa.pem" "mode 0644" "mode 0644 is world-readable"
}
test_dkim_key_ed25519_world_readable() {
	dk_copy_key "$WORK/keys/dkim-ed25519.pem" "$T/ed.pem" 0644
	key_held_test_ed "$T/ed.pem" "ed25519 mode 0644" "mode 0644 is world-readable"
}
test_dkim_key_group_writable() {
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0660
	key_held_test "$T/rsa.pem" "mode 0660" "mode 0660 is group-writable"
}
test_dkim_key_missing() { key_held_test "$T/no-such.pem" "missing" "No such file"; }
test_dkim_key_symlink() {
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0640
	ln -s "$T/rsa.pem" "$T/link.pem"
	key_held_test "$T/link.pem" "symlink" "is a symbolic link"
}
# root:root 0600: the queue runs as the postern user, which cannot read it
test_dkim_key_root_only() {
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0600
	chown root:root "$T/rsa.pem"
	key_held_test "$T/rsa.pem" "root:root 0600" "Permission denied"
}
test_dkim_key_not_a_key() {
	printf 'this is not a PEM key\n' >"$T/junk.pem"
	dk_copy_key "$T/junk.pem" "$T/bad.pem" 0640
	key_held_test "$T/bad.pem" "not a key" "not an unencrypted PEM private key"
}
test_dkim_key_rsa512() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out "$T/gen.pem" 2>/dev/null || fail "openssl"
	dk_copy_key "$T/gen.pem" "$T/rsa512.pem" 0640
	key_held_test "$T/rsa512.pem" "RSA 512" "RSA key of 512 bits is too weak"
}

# A held message is released by fixing the key: the problem is logged once per pass (two messages
# held), and the next run signs both and sends them; dkimpy, opendkim and Mail::DKIM verify them.
test_dkim_key_fixed_releases() {
	local f n
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0644
	dkim_env "dkim postern.example rsa2048 $T/rsa.pem" "$DKIM_ED"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "k@postern.example" "k1@mx-pref.example" "held one" | submit -t -i
	msg "k@postern.example" "k2@mx-pref.example" "held two" | submit -t -i
	pm -v -q </dev/null || fail "sendmail -v -q exited $?"
	n=$(grep -c "DKIM key $T/rsa.pem: mode 0644 is world-readable; chmod 0640 (mail From postern.example is held" "$T/pm.err")
	expect_eq "key problem log lines in one pass" 1 "$n"
	expect_eq "delivered while held" 0 "$(mail_count mx1)"
	mailq_text | grep -qF "DKIM key $T/rsa.pem: mode 0644 is world-readable" || fail "mailq lacks the reason"
	chmod 0640 "$T/rsa.pem"
	queue_run
	wait_mail mx1 2 5 || fail "not delivered after the fix: $(mail_count mx1)"
	for f in "$T/mail/mx1"/*.eml; do
		expect_signed "$f" relaxed/relaxed
		expect_verified "$f"
	done
	expect_queue_empty
}

# dkim_required no: a key problem lets the message go unsigned, with a warning in the log.
test_dkim_key_not_required() {
	local f
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/rsa.pem" 0644
	dkim_env "dkim postern.example rsa2048 $T/rsa.pem" "dkim_required no"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	msg "k@postern.example" "k@mx-pref.example" "not required" | submit -t -i
	pm -v -q </dev/null || fail "sendmail -v -q exited $?"
	wait_mail mx1 1 5 || fail "not sent unsigned"
	f=$(mail_file mx1 1)
	expect_eq "signatures" 0 "$(dkim_sig_count "$f")"
	grep -qF "sent unsigned (dkim_required no): DKIM key $T/rsa.pem: mode 0644" "$T/pm.err" ||
		fail "no warning: $(tail -c 300 "$T/pm.err")"
}

# A From domain over 212 characters with DKIM configured and no key for it: accepted and sent unsigned
# (with dkim_required no, the composer's "L" note once overflowed the parent's 256-byte line reader:
# exit 70, "no envelope from the composer").
test_dkim_long_from_domain() {
	local d f
	d=$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 60)).$(printf 'c%.0s' $(seq 1 60)).$(printf 'd%.0s' $(seq 1 40)).example
	[ "${#d}" -gt 212 ] || fail "domain too short: ${#d}"
	dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim_required no"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "x@$d" "long@mx-pref.example" "long from domain" | dk_deliver_one long -t -i) || exit 1
	expect_eq "signatures (no key for $d)" 0 "$(dkim_sig_count "$f")"
	expect_eq "From" "x@$d" "$(header "$f" From)"
}

# RSA 1024: accepted (RFC 8301's minimum), the message is signed and verifies.
test_dkim_key_rsa1024() {
	local f
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/gen.pem" 2>/dev/null || fail "openssl"
	dk_copy_key "$T/gen.pem" "$T/rsa1024.pem" 0640
	dns_add postern.example "rsa1024._domainkey 300 TXT $(dkim_txt "$T/rsa1024.pem" rsa)" || fail "dns_add"
	dkim_env "dkim postern.example rsa1024 $T/rsa1024.pem"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "k@postern.example" "k@mx-pref.example" "rsa 1024" | dk_deliver_one rsa1024 -t -i) || exit 1
	echo "stderr of the submission: $(cat "$T/pm.err")"
	expect_eq "DKIM-Signature fields" 1 "$(dkim_sig_count "$f")"
	expect_eq "s=" rsa1024 "$(sig_tag "$f" 1 s)"
	expect_eq "a=" rsa-sha256 "$(sig_tag "$f" 1 a)"
	expect_verified "$f"
}

# Bad DKIM configuration: exit 78 naming the file and line; nothing queued.
test_dkim_config_errors() {
	local line rc before
	postern_env
	for line in "dkim postern.example rsa2048" "dkim postern.example rsa2048 relative/key.pem" \
		"dkim postern.example rsa2048 $WORK/keys/dkim-rsa.pem canon=loose" \
		"dkim postern.example rsa2048 $WORK/keys/dkim-rsa.pem canon=relaxed/" \
		"dkim postern.example rsa2048 $WORK/keys/dkim-rsa.pem bogus=1" \
		"dkim bad_domain! rsa2048 $WORK/keys/dkim-rsa.pem" "dkim postern.example bad/sel $WORK/keys/dkim-rsa.pem" \
		"$DKIM_RSA" \
		"dkim_canon loose" "dkim_canon relaxed/relaxed/relaxed" "dkim_required maybe" "dkim_expire -1" \
		"dkim_expire 1y"; do
		postern_env "$line"
		before=$(spool_listing)
		msg "c@postern.example" "c@mx-pref.example" "config" | pm -t -i
		rc=$?
		expect_eq "exit status with '$line'" 78 "$rc"
		grep -q "postern.conf:10" "$T/pm.err" || fail "'$line': no file:line in: $(head -c 300 "$T/pm.err")"
		expect_spool_untouched "$before"
	done
}

# ------------------------------------------------------------------------- dkim-keygen, dkim-record

# dk_keygen SELECTOR FILE [ARGS] - `postern dkim-keygen postern.example SELECTOR --out FILE ARGS`,
# output in $T/SELECTOR.out; must exit 0.
dk_keygen() {
	local sel=$1 out=$2
	shift 2
	mkdir -p "$T/bin" && ln -sf "$BIN" "$T/bin/postern"
	"$T/bin/postern" dkim-keygen postern.example "$sel" --out "$out" "$@" >"$T/$sel.out" 2>"$T/$sel.err" ||
		fail "dkim-keygen $sel exited $?: $(head -n 1 "$T/$sel.err")"
}

# dk_zone_line OUTFILE - the zone-file line(s) of a keygen/record output (after the "zone-file form"
# label, up to the empty line).
dk_zone_line() { sed -n '/zone-file form/,/^$/p' "$1" | sed -e '1d' -e '/^$/d'; }

# dk_panel_value OUTFILE - the unbroken value of the web-panel form.
dk_panel_value() { sed -n 's/^ *Value: *//p' "$1"; }

# keygen_check SELECTOR FILE - key mode 0640 root:postern; a second run without --force exits 73
# and leaves the key alone; `postern -C $CONF dkim-record` prints the same record.
keygen_check() {
	local sel=$1 key=$2 sum rc
	expect_eq "$sel key mode/owner" "640 root:postern" "$(stat -c '%a %U:%G' "$key")"
	grep -q "dkim postern.example $sel $key" "$T/$sel.out" || fail "$sel: no config line in the output"
	sum=$(md5sum <"$key")
	"$T/bin/postern" dkim-keygen postern.example "$sel" --out "$key" >"$T/again.out" 2>&1
	rc=$?
	expect_eq "dkim-keygen again without --force" 73 "$rc"
	expect_eq "$sel key after the refused run" "$sum" "$(md5sum <"$key")"
	"$T/bin/postern" -C "$CONF" dkim-record postern.example "$sel" >"$T/$sel.rec" 2>"$T/$sel.rec.err" ||
		fail "dkim-record $sel exited $?: $(head -n 1 "$T/$sel.rec.err")"
	expect_eq "$sel: dkim-record zone line = keygen's" "$(dk_zone_line "$T/$sel.out")" "$(dk_zone_line "$T/$sel.rec")"
	expect_eq "$sel: dkim-record value = keygen's" "$(dk_panel_value "$T/$sel.out")" "$(dk_panel_value "$T/$sel.rec")"
	"$T/bin/postern" -C "$CONF" dkim-record postern.example "$sel" --key "$key" >"$T/$sel.rec2" 2>&1 ||
		fail "dkim-record --key exited $?"
	expect_eq "$sel: dkim-record --key zone line" "$(dk_zone_line "$T/$sel.out")" "$(dk_zone_line "$T/$sel.rec2")"
}

# keygen_test FORM PREFIX - make an RSA and an Ed25519 key, publish what keygen printed in FORM
# (zone: the zone-file line as is; panel: the unbroken value, cut into 255-octet strings as a DNS
# panel does), sign with only those keys, verify.
keygen_test() {
	local form=$1 r=$2rsa e=$2ed f sel
	dk_keygen "$r" "$T/$r.key"
	dk_keygen "$e" "$T/$e.key" --type ed25519
	for sel in "$r" "$e"; do
		if [ "$form" = zone ]; then
			[ -n "$(dk_zone_line "$T/$sel.out")" ] || fail "no zone-file line in: $(head -c 300 "$T/$sel.out")"
			dns_add postern.example "$(dk_zone_line "$T/$sel.out")" || fail "dns_add (zone line of $sel)"
		else
			[ -n "$(dk_panel_value "$T/$sel.out")" ] || fail "no Value in: $(head -c 300 "$T/$sel.out")"
			dns_add postern.example "$sel._domainkey 300 TXT $(dk_panel_value "$T/$sel.out" | fold -w 255 |
				sed 's/.*/"&"/' | tr '\n' ' ')" || fail "dns_add (value of $sel)"
		fi
	done
	dkim_env "dkim postern.example $r $T/$r.key" "dkim postern.example $e $T/$e.key"
	keygen_check "$r" "$T/$r.key"
	keygen_check "$e" "$T/$e.key"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	f=$(msg "kg@postern.example" "kg@mx-pref.example" "keygen $form" | dk_deliver_one keygen -t -i) || exit 1
	expect_eq "DKIM-Signature fields" 2 "$(dkim_sig_count "$f")"
	expect_eq "rsa selector" "$r" "$(sig_tag "$f" "$(sig_index "$f" rsa-sha256)" s)"
	expect_eq "ed25519 selector" "$e" "$(sig_tag "$f" "$(sig_index "$f" ed25519-sha256)" s)"
	expect_verified "$f"
}

test_dkim_keygen_zone_line() { keygen_test zone kgz; }
test_dkim_keygen_panel_value() { keygen_test panel kgp; }

# --force replaces the key; the old record then no longer matches it.
test_dkim_keygen_force() {
	local sum
	dk_keygen kgf "$T/kgf.key"
	sum=$(md5sum <"$T/kgf.key")
	dk_keygen kgf "$T/kgf.key" --force
	[ "$sum" != "$(md5sum <"$T/kgf.key")" ] || fail "--force did not replace the key"
	expect_eq "mode after --force" "640 root:postern" "$(stat -c '%a %U:%G' "$T/kgf.key")"
}

# Refusals: usage errors exit 64 and write nothing; dkim-record of an unknown selector or a badly
# protected key exits 78.
test_dkim_keygen_refusals() {
	local args rc
	mkdir -p "$T/bin" && ln -sf "$BIN" "$T/bin/postern"
	while IFS='|' read -r want args; do
		# shellcheck disable=SC2086
		"$T/bin/postern" dkim-keygen $args --out "$T/r.key" >"$T/r.out" 2>&1
		rc=$?
		expect_eq "dkim-keygen $args" "$want" "$rc"
		[ -e "$T/r.key" ] && fail "dkim-keygen $args wrote a key"
	done <<-EOF
	64|postern.example
	64|bad_domain! sel
	64|postern.example bad/sel
	64|postern.example sel --type dsa
	64|postern.example sel --bits 512
	64|postern.example sel --bits 16384
	64|postern.example sel --bits many
	64|postern.example sel --frobnicate
	EOF
	"$T/bin/postern" dkim-keygen postern.example kg1024 --bits 1024 --out "$T/kg1024.key" >"$T/kg1024.out" 2>&1 ||
		fail "dkim-keygen --bits 1024 exited $?"
	grep -qi 'warn\|recommend\|2048' "$T/kg1024.out" || fail "no warning for a 1024-bit key: $(head -c 300 "$T/kg1024.out")"
	expect_eq "key size" 1024 "$(openssl pkey -in "$T/kg1024.key" -noout -text | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')"
	postern_env
	"$T/bin/postern" -C "$CONF" dkim-record postern.example nosuchsel >"$T/rec.out" 2>&1
	expect_eq "dkim-record of an unconfigured selector" 78 "$?"
	dk_copy_key "$WORK/keys/dkim-rsa.pem" "$T/open.pem" 0644
	"$T/bin/postern" -C "$CONF" dkim-record postern.example rsa2048 --key "$T/open.pem" >"$T/rec.out" 2>&1
	expect_eq "dkim-record of a 0644 key" 78 "$?"
	grep -qF "$T/open.pem" "$T/rec.out" || fail "dkim-record does not name the key: $(head -c 300 "$T/rec.out")"
}

# ------------------------------------------------------------------------------------------ x=

test_dkim_expire() {
	local f i t x now
	dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim_expire 1d"
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	now=$(date +%s)
	f=$(msg "x@postern.example" "x@mx-pref.example" "expire" | dk_deliver_one expire -t -i) || exit 1
	expect_signed "$f" relaxed/relaxed
	for i in 1 2; do
		t=$(sig_tag "$f" "$i" t)
		x=$(sig_tag "$f" "$i" x)
		[[ $t =~ ^[0-9]+$ ]] || fail "signature $i: t= is '$t'"
		[ $((t - now)) -ge -5 ] && [ $((t - now)) -le 60 ] || fail "signature $i: t=$t, now $now"
		expect_eq "signature $i: x= (t=$t + 1d)" $((t + 86400)) "$x"
	done
	expect_verified "$f"
}

# Other durations for dkim_expire, and 0 (no x=).
test_dkim_expire_units() {
	local spec want f n=0 t x
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	for spec in "3600:3600" "90m:5400" "2h:7200" "1w:604800" "0:"; do
		n=$((n + 1))
		dkim_env "$DKIM_RSA" "$DKIM_ED" "dkim_expire ${spec%%:*}"
		want=${spec#*:}
		f=$(msg "x@postern.example" "x$n@mx-pref.example" "expire $spec" | dk_deliver_one "expire $spec" -t -i) || exit 1
		t=$(sig_tag "$f" 1 t)
		x=$(sig_tag "$f" 1 x)
		if [ -z "$want" ]; then
			expect_eq "x= with dkim_expire 0" "" "$x"
		else
			expect_eq "x= with dkim_expire ${spec%%:*}" $((t + want)) "$x"
		fi
	done
}
