# t_00_world.sh - self-tests of the world: DNS answers, certificates, every server behaviour (with
# swaks as the client) and the three DKIM verifiers. They must pass before any postern test means
# anything.

# dig_short ARGS - dig through /etc/resolv.conf (proves the bind mount), answers sorted on one line.
dig_short() { dig +short +time=1 +tries=1 "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

test_world_dns() {
	expect_eq "MX mx-pref" "10 mx1.mx-pref.example. 20 mx2.mx-pref.example." "$(dig_short MX mx-pref.example)"
	expect_eq "A mx1" "127.0.0.11" "$(dig_short A mx1.mx-pref.example)"
	expect_eq "A mx2" "127.0.0.12" "$(dig_short A mx2.mx-pref.example)"
	expect_eq "MX implicit" "" "$(dig_short MX implicit.example)"
	expect_eq "A implicit" "127.0.0.13" "$(dig_short A implicit.example)"
	expect_eq "MX nullmx" "0 ." "$(dig_short MX nullmx.example)"
	expect_eq "MX fallback" "10 bad.fallback.example. 20 mx1.mx-pref.example." "$(dig_short MX fallback.example)"
	expect_eq "A bad.fallback" "127.0.0.14" "$(dig_short A bad.fallback.example)"
	expect_eq "MX postern" "10 mx.postern.example." "$(dig_short MX postern.example)"
	expect_eq "A mx.postern" "127.0.0.15" "$(dig_short A mx.postern.example)"
	expect_eq "MX badcert" "10 mx.badcert.example." "$(dig_short MX badcert.example)"
	expect_eq "A smarthost" "127.0.0.20" "$(dig_short A smarthost.example)"
	expect_eq "SPF" '"v=spf1 ip4:127.0.0.1 -all"' "$(dig_short TXT postern.example)"
	expect_eq "DMARC" '"v=DMARC1; p=reject; adkim=s; aspf=s"' "$(dig_short TXT _dmarc.postern.example)"
	case $(dig_short TXT rsa2048._domainkey.postern.example) in
	'"v=DKIM1; k=rsa; p=MII'*) ;; *) fail "DKIM rsa2048 record: $(dig_short TXT rsa2048._domainkey.postern.example)" ;;
	esac
	case $(dig_short TXT ed25519._domainkey.postern.example) in
	'"v=DKIM1; k=ed25519; p='*) ;; *) fail "DKIM ed25519 record" ;;
	esac
	expect_eq "PTR 127.0.0.1" "mail.postern.example." "$(dig_short -x 127.0.0.1)"
	expect_eq "PTR 127.0.0.11" "mx1.mx-pref.example." "$(dig_short -x 127.0.0.11)"
	dig +time=1 +tries=1 A nxdomain.example | grep -q 'status: NXDOMAIN' || fail "nxdomain.example is not NXDOMAIN"
	dig +time=1 +tries=1 MX nxdomain.example | grep -q 'status: NXDOMAIN' || fail "MX nxdomain.example is not NXDOMAIN"
	# nothing leaves the namespace: no route out, and the world's DNS knows nothing else
	ip route get 192.0.2.1 >/dev/null 2>&1 && fail "a route leaves the namespace"
	expect_eq "outside name" "" "$(dig_short A deb.debian.org)"
	expect_eq "hostname" "mail.postern.example" "$(hostname)"
	getent passwd postern >/dev/null || fail "no postern user"
}

test_world_dns_add() {
	dns_add postern.example 'added._domainkey 300 TXT "v=DKIM1; k=rsa; p=added"' || fail "dns_add timed out"
	expect_eq "added TXT" '"v=DKIM1; k=rsa; p=added"' "$(dig_short TXT added._domainkey.postern.example)"
	expect_eq "old records still there" "127.0.0.15" "$(dig_short A mx.postern.example)"
}

test_world_pki() {
	local p=$WORK/pki c
	for c in server smarthost client; do
		openssl verify -CAfile "$p/ca/ca.pem" "$p/$c.pem" >/dev/null || fail "$c.pem does not verify"
	done
	openssl verify -CAfile "$p/ca/ca.pem" -verify_hostname mx1.mx-pref.example "$p/server.pem" >/dev/null ||
		fail "server.pem not valid for mx1.mx-pref.example"
	openssl verify -CAfile "$p/ca/ca.pem" -verify_hostname mx1.mx-pref.example "$p/server-wrongname.pem" \
		>/dev/null 2>&1 && fail "server-wrongname.pem valid for mx1.mx-pref.example"
	openssl verify -CAfile "$p/ca/ca.pem" "$p/server-untrusted.pem" >/dev/null 2>&1 &&
		fail "server-untrusted.pem verifies"
	openssl verify -CAfile "$p/ca/ca.pem" "$p/server-expired.pem" 2>&1 | grep -q 'certificate has expired' ||
		fail "server-expired.pem is not expired"
	openssl x509 -in "$p/client.pem" -noout -ext extendedKeyUsage | grep -q 'TLS Web Client' ||
		fail "client.pem lacks clientAuth"
}

# sw ARGS - swaks with the world's defaults; its transcript in $T/swaks.out.
sw() { swaks --timeout 5 --helo client.example "$@" >"$T/swaks.out" 2>&1; }
sw_has() { grep -q -- "$1" "$T/swaks.out" || fail "swaks transcript lacks '$1': $(tail -n 2 "$T/swaks.out" | tr '\n' ' ')"; }

test_world_smtp_exact() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	# a message with 8-bit bytes, leading dots, a long line, CRLF line ends; sent dot-stuffed
	printf 'From: a@postern.example\r\nTo: b@mx-pref.example\r\nSubject: exact\r\n\r\n.leading dot\r\n..two\r\ncaf\303\251 \377\r\n%s\r\n.\r\nend\r\n' \
		"$(head -c 990 /dev/zero | tr '\0' x)" >"$T/msg"
	sed -e 's/^\./../' "$T/msg" >"$T/wire"
	printf '.\r\n' >>"$T/wire"
	sw --server mx1.mx-pref.example --tls --tls-verify --tls-ca-path "$WORK/pki/ca/ca.pem" \
		-f a@postern.example -t b@mx-pref.example --no-data-fixup --data "$T/wire" || fail "swaks failed"
	sw_has "250-8BITMIME"
	sw_has "250-SMTPUTF8"
	sw_has "250-STARTTLS"
	expect_eq "count" 1 "$(mail_count mx1)"
	cmp -s "$T/msg" "$(mail_file mx1)" || fail "stored bytes differ from the sent message"
	expect_eq "mail_from" a@postern.example "$(env_get mx1 1 mail_from)"
	expect_eq "rcpt_to" b@mx-pref.example "$(env_get mx1 1 rcpt_to)"
	expect_eq "tls" yes "$(env_get mx1 1 tls)"
	expect_eq "peer_cert" no "$(env_get mx1 1 peer_cert)"
	expect_eq "helo" client.example "$(env_get mx1 1 helo)"
}

test_world_smtp_plain_and_null_sender() {
	smtpd_start mx2 127.0.0.12:25 --no-8bitmime --no-smtputf8 || fail "start"
	sw --server 127.0.0.12 -f '<>' -t a@mx-pref.example,b@mx-pref.example || fail "swaks failed"
	grep -q '8BITMIME\|SMTPUTF8\|STARTTLS' "$T/swaks.out" && fail "extensions advertised"
	expect_eq "mail_from" "<>" "$(env_get mx2 1 mail_from)"
	expect_eq "tls" no "$(env_get mx2 1 tls)"
	expect_eq "rcpts" "a@mx-pref.example b@mx-pref.example" "$(sed -n 's/^rcpt_to: //p' "$T/mail/mx2/1.env" | tr '\n' ' ' | sed 's/ $//')"
}

test_world_tls_bad_certs() {
	smtpd_start wrongname 127.0.0.16:25 --tls-as server-wrongname &&
		smtpd_start untrusted 127.0.0.16:26 --tls-as server-untrusted &&
		smtpd_start expired 127.0.0.16:27 --tls-as server-expired || fail "start"
	smtpd_start good 127.0.0.16:28 --tls || fail "start"
	tls_verified mx.badcert.example 28 starttls || fail "the good cert does not verify"
	grep -q 'Verify return code: 0 (ok)' "$T/s_client.out" || fail "s_client: not ok"
	local p
	for p in 25 26 27; do
		tls_verified mx.badcert.example $p starttls && fail "port $p: verified TLS succeeded"
		sw --server mx.badcert.example --port $p --tls -f a@postern.example -t b@badcert.example ||
			fail "port $p: unverified TLS failed"
	done
	expect_eq "stored" "1 1 1" "$(mail_count wrongname) $(mail_count untrusted) $(mail_count expired)"
	tls_verified mx.badcert.example 27 starttls; grep -q 'certificate has expired' "$T/s_client.out" ||
		fail "expired cert: no 'certificate has expired'"
	tls_verified mx.badcert.example 25 starttls; grep -q 'hostname mismatch' "$T/s_client.out" ||
		fail "wrong name: no 'hostname mismatch'"
}

test_world_client_cert() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	sw --server 127.0.0.11 --tls --tls-cert "$WORK/pki/client.pem" --tls-key "$WORK/pki/client.key" \
		-f a@postern.example -t b@mx-pref.example || fail "swaks failed"
	expect_eq "peer_cert" yes "$(env_get mx1 1 peer_cert)"
	expect_eq "subject" "commonName=mail.postern.example" "$(env_get mx1 1 peer_cert_subject)"
	[ -s "$T/mail/mx1/1.peer.pem" ] || fail "no peer.pem"
}

test_world_no_starttls() {
	smtpd_start mx1 127.0.0.11:25 --tls --no-starttls || fail "start"
	sw --server 127.0.0.11 --tls -f a@postern.example -t b@mx-pref.example && fail "STARTTLS worked"
	grep -q '^<-  250.STARTTLS' "$T/swaks.out" && fail "STARTTLS advertised"
	expect_eq "count" 0 "$(mail_count mx1)"
}

test_world_greet_421() {
	smtpd_start bad 127.0.0.14:25 --greet-421 || fail "start"
	sw --server 127.0.0.14 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	sw_has "<\*\* 421"
}

test_world_stall() {
	smtpd_start bad 127.0.0.14:25 --stall || fail "start"
	local t0=$SECONDS
	sw --server 127.0.0.14 --timeout 2 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	grep -q '^<.* 220' "$T/swaks.out" && fail "got a greeting"
	sw_has "Timeout"
	[ $((SECONDS - t0)) -ge 2 ] || fail "did not stall"
}

test_world_refuse() {
	sw --server 127.0.0.14 -f a@postern.example -t b@fallback.example && fail "swaks succeeded"
	sw_has "Connection refused"
}

test_world_rcpt_4xx() {
	smtpd_start mx1 127.0.0.11:25 --rcpt-4xx 2 || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "1st accepted"
	sw_has "<\*\* 451"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "2nd accepted"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example || fail "3rd refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_rcpt_5xx() {
	smtpd_start mx1 127.0.0.11:25 --rcpt-5xx 'nobody@*' || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t NoBody@mx-pref.example && fail "nobody accepted"
	sw_has "<\*\* 550 5.1.1"
	sw --server 127.0.0.11 -f a@postern.example -t somebody@mx-pref.example || fail "somebody refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_drop_mid_data() {
	smtpd_start mx1 127.0.0.11:25 --drop-mid-data || fail "start"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example && fail "1st accepted"
	grep -q '^<-  250 2.0.0' "$T/swaks.out" && fail "1st got a reply to DATA"
	sw_has "354"
	expect_eq "count after drop" 0 "$(mail_count mx1)"
	sw --server 127.0.0.11 -f a@postern.example -t b@mx-pref.example || fail "2nd refused"
	expect_eq "count" 1 "$(mail_count mx1)"
}

test_world_smarthost() {
	smarthost_start || fail "start"
	local ca=$WORK/pki/ca/ca.pem
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example && fail "587 accepted without AUTH"
	sw_has "530 5.7.0"
	sw --server smarthost.example --port 587 -f a@postern.example -t x@elsewhere.example \
		--auth PLAIN --auth-user postern --auth-password s3cret && fail "587 AUTH without TLS"
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example --auth PLAIN --auth-user postern \
		--auth-password wrong && fail "587 wrong password accepted"
	sw --server smarthost.example --port 587 --tls --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t x@elsewhere.example --auth PLAIN --auth-user postern \
		--auth-password s3cret || fail "587 AUTH PLAIN failed"
	sw --server smarthost.example --port 465 --tlsc --tls-verify --tls-ca-path "$ca" \
		-f a@postern.example -t y@elsewhere.example --auth LOGIN --auth-user postern \
		--auth-password s3cret || fail "465 AUTH LOGIN failed"
	expect_eq "587 count" 1 "$(mail_count smarthost587)"
	expect_eq "587 auth_user" postern "$(env_get smarthost587 1 auth_user)"
	expect_eq "587 tls_mode" starttls "$(env_get smarthost587 1 tls_mode)"
	expect_eq "465 count" 1 "$(mail_count smarthost465)"
	expect_eq "465 auth_user" postern "$(env_get smarthost465 1 auth_user)"
	expect_eq "465 tls_mode" implicit "$(env_get smarthost465 1 tls_mode)"
}

test_world_dkim_verifiers() {
	printf 'From: Alice <alice@postern.example>\r\nTo: bob@mx-pref.example\r\nSubject: dkim self-test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <self-test@postern.example>\r\n\r\nHello,\r\n\r\nthis is the body.\r\n' >"$T/plain"
	dkimpy_sign "$T/plain" "$T/rsa" rsa && dkimpy_sign "$T/plain" "$T/ed" ed25519 &&
		dkimpy_sign "$T/rsa" "$T/both" ed25519 || fail "dkim.sign failed"
	expect_eq "signatures in both" 2 "$(dkim_sig_count "$T/both")"
	local m v rc
	for m in rsa ed both; do
		for v in verify_dkimpy verify_opendkim verify_maildkim; do
			$v "$T/$m"
			rc=$?
			if [ $v = verify_maildkim ] && [ $m = ed ]; then
				expect_eq "Mail::DKIM on ed25519 alone (cannot judge)" 2 $rc
			else
				expect_eq "$v on the $m-signed message" 0 $rc
			fi
		done
		# one body byte changed: every verifier must fail
		sed 's/the body/the bodY/' "$T/$m" >"$T/$m.body"
		# one signed header byte changed
		sed 's/^Subject: dkim self-test/Subject: dkim self-tesT/' "$T/$m" >"$T/$m.hdr"
		for v in verify_dkimpy verify_opendkim verify_maildkim; do
			$v "$T/$m.body" && fail "$v accepts the $m-signed message with a changed body"
			$v "$T/$m.hdr" && fail "$v accepts the $m-signed message with a changed Subject"
		done
	done
	# every signature must pass: break one of the two (field 1 = ed25519, field 2 = rsa)
	break_sig "$T/both" 1 >"$T/both.1" && break_sig "$T/both" 2 >"$T/both.2" || fail "break_sig"
	cmp -s "$T/both" "$T/both.1" && fail "could not break signature 1"
	for v in verify_dkimpy verify_opendkim verify_maildkim; do
		# Mail::DKIM cannot see a broken ed25519 signature (it skips ed25519)
		[ $v = verify_maildkim ] || ! $v "$T/both.1" || fail "$v accepts a bad ed25519 signature beside a good rsa one"
		$v "$T/both.2" && fail "$v accepts a bad rsa signature beside a good ed25519 one"
		$v "$T/plain" && fail "$v accepts an unsigned message"
	done
	return 0
}

# break_sig FILE N - FILE with the first character of the N-th DKIM-Signature's b= value changed.
break_sig() {
	perl -0777 -pe 'my $n = 0; s/(;\s*b=)(.)/++$n == '"$2"' ? $1 . ($2 eq "A" ? "B" : "A") : "$1$2"/gse' "$1"
}

# the helpers postern's tests judge with, on a message that passes them and ones that must not
test_world_postern_helpers() {
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	printf 'Received: from localhost by mail.postern.example; Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: a@postern.example\r\nTo: b@mx-pref.example\r\nSubject: helpers\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <h1@postern.example>\r\n\r\nbody\r\n' >"$T/plain"
	dkimpy_sign "$T/plain" "$T/rsa" rsa && dkimpy_sign "$T/rsa" "$T/both" ed25519 || fail "sign"
	printf '.\r\n' | cat "$T/both" - >"$T/wire"
	sw --server 127.0.0.11 --tls -f a@postern.example -t b@mx-pref.example,c@mx-pref.example \
		--no-data-fixup --data "$T/wire" || fail "swaks"
	local f
	f=$(mail_file mx1)
	( expect_completed "$f" ) || fail "expect_completed rejects a complete message: $(cat "$T/reason")"
	( expect_dkim "$f" ) || fail "expect_dkim rejects a signed message: $(cat "$T/reason")"
	expect_eq "all_rcpts" "b@mx-pref.example c@mx-pref.example" "$(all_rcpts mx1)"
	expect_eq "header Subject" helpers "$(header "$f" subject)"
	expect_eq "folded DKIM-Signature unfolds" 1 "$(header "$f" DKIM-Signature | grep -c 'a=ed25519-sha256;.*b=')"
	printf 'Bcc: x@y\r\n' | cat - "$f" >"$T/bcc"
	( expect_completed "$T/bcc" ) && fail "expect_completed accepts a Bcc"
	sed '/^Message-ID/d' "$f" >"$T/nomid"
	( expect_completed "$T/nomid" ) && fail "expect_completed accepts a missing Message-ID"
	( expect_dkim "$T/rsa" ) && fail "expect_dkim accepts one signature"
	rm -f "$T/reason"
	return 0
}
