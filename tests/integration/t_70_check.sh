# t_70_check.sh - `postern check` against the world's DNS: what a self-hoster gets right and wrong.

# check_env [CONF LINES] - postern_env, with postern linked in, check_myip naming the world's
# "what is my address" record (127.0.0.1), a deny-list with no entries (clean.example) and no port 25
# probe (the world has no Gmail); sed them.
check_env() {
	postern_env "$@"
	ln -sf "$BIN" "$T/bin/postern"
	printf 'check_myip myip.postern.example@127.0.0.53\ndnsbl clean.example\ncheck_port25_host none\n' >>"$CONF"
}

test_check_all_good() {	# the world's sender is set up right: nothing to warn about
	check_env
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	sed -i 's/^check_port25_host .*/check_port25_host mx1.mx-pref.example/' "$CONF"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	local rc=$?
	cat "$T/chk.out" >&2
	expect_eq "exit status" 0 "$rc"
	grep -q '^ok    address  127.0.0.1: mail leaves from it' "$T/chk.out" || fail "address"
	grep -q '^ok    hostname mail.postern.example: ' "$T/chk.out" || fail "hostname"
	grep -q '^ok    a        mail.postern.example: has address 127.0.0.1' "$T/chk.out" || fail "A"
	grep -q '^ok    ptr      127.0.0.1: PTR mail.postern.example, matching hostname, resolves back' "$T/chk.out" || fail "ptr"
	grep -q '^ok    spf      postern.example: pass for 127.0.0.1' "$T/chk.out" || fail "SPF"
	grep -q '^ok    spf-helo mail.postern.example: pass for 127.0.0.1' "$T/chk.out" || fail "SPF of the HELO name"
	grep -q '^ok    dkim     rsa2048._domainkey.postern.example: matches' "$T/chk.out" || fail "DKIM rsa"
	grep -q '^ok    dkim     ed25519._domainkey.postern.example: matches' "$T/chk.out" || fail "DKIM ed25519"
	grep -q '^ok    dmarc    _dmarc.postern.example: ' "$T/chk.out" || fail "DMARC"
	grep -q '^ok    mx       postern.example: MX mx.postern.example' "$T/chk.out" || fail "MX"
	grep -q '^ok    port25   mx1.mx-pref.example: port 25 is open: mx1.mx-pref.example\[127.0.0.11\]:25 greets "' "$T/chk.out" || fail "port 25"
	grep -q '^ok    smarthost smarthost: none' "$T/chk.out" || fail "smarthost"
	grep -q '^ok    align    From postern.example: envelope sender @postern.example (SPF): aligned under aspf=s' "$T/chk.out" || fail "SPF alignment"
	grep -q '^warn\|^FAIL\|^??' "$T/chk.out" && fail "not all ok: $(grep '^warn\|^FAIL\|^??' "$T/chk.out")"
	grep -q ' 0 warnings, 0 failures, 0 not checked$' "$T/chk.out" || fail "summary: $(tail -n 1 "$T/chk.out")"
}

test_check_finds_mistakes() {
	check_env "dkim postern.example wrongsel $WORK/keys/dkim-rsa.pem"
	# a record for the selector, but of another key (the usual paste mistake: the wrong file)
	openssl genpkey -algorithm ed25519 -out "$T/other.pem" 2>/dev/null
	dns_add postern.example "wrongsel._domainkey 300 TXT \"v=DKIM1; k=ed25519; p=$(openssl pkey -in "$T/other.pem" -pubout -outform DER | tail -c 32 | base64)\""
	# mail leaves from 127.0.0.99 (no PTR), as a domain with no SPF or DMARC
	dns_add postern.example "$(printf '%s\n' "nospf 300 MX 10 mx.postern.example." "bare 300 A 127.0.0.99" \
		"myip99 300 A 127.0.0.99")"
	printf 'hostname bare.postern.example\n' >>"$CONF"
	sed -i 's/^hostname mail.postern.example$//; s/^domain postern.example$/domain nospf.postern.example/
		s/^check_myip .*/check_myip myip99.postern.example@127.0.0.53/' "$CONF"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	local rc=$?
	cat "$T/chk.out" >&2
	expect_eq "exit status" 1 "$rc"
	grep -q '^FAIL  ptr      127.0.0.99: no PTR record (NXDOMAIN); fix: ask your provider for a PTR naming your host' "$T/chk.out" || fail "ptr not caught"
	grep -q '^FAIL  spf      nospf.postern.example: none for 127.0.0.99 .*; fix: publish "v=spf1 a:bare.postern.example -all" at nospf.postern.example' "$T/chk.out" || fail "SPF not caught"
	grep -q '^warn  spf-helo bare.postern.example: none for 127.0.0.99' "$T/chk.out" || fail "SPF of the HELO name not caught"
	# no record of its own: the organisational domain's p=reject; adkim=s applies, and the parent's key
	# does not align
	grep -q "^ok    dmarc    _dmarc.postern.example: .*organisational domain's" "$T/chk.out" || fail "DMARC not inherited"
	grep -q '^FAIL  align    From nospf.postern.example: signed d=postern.example: not aligned under adkim=s' "$T/chk.out" || fail "alignment not caught"
	grep -q '^FAIL  dkim     nospf.postern.example: no dkim key configured' "$T/chk.out" || fail "DKIM not caught"
	# and for the real domain: the wrong selector record is named, with the record to publish
	"$T/bin/postern" -C "$CONF" check postern.example >"$T/chk.out2" 2>&1
	cat "$T/chk.out2" >&2
	grep -q '^FAIL  dkim     wrongsel._domainkey.postern.example: k=ed25519, but .* is an RSA key' "$T/chk.out2" || fail "mismatched DKIM record not caught"
	grep -q '^ok    dkim     rsa2048._domainkey.postern.example: matches' "$T/chk.out2" || fail "good key reported bad"
	grep -q '^FAIL  spf      postern.example: fail for 127.0.0.99 .*; fix: add a:bare.postern.example before the record' "$T/chk.out2" || fail "SPF fail not caught"
}

# check_one ARGS... - postern check --json ARGS; prints "STATUS SEEN" of each finding, one a line
check_one() {
	"$T/bin/postern" -C "$CONF" check --json "$@" >"$T/chk.json" 2>"$T/chk.err"
	/usr/bin/python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print(c["status"], c["seen"], "|", c["fix"])
' "$T/chk.json"
}

test_check_host() {	# a generic PTR, NAT, a smarthost, an address nobody tells
	check_env
	dns_add 127.in-addr.arpa "90.0.0 300 PTR 127-0-0-90.dyn.isp.test."
	dns_add postern.example "$(printf '%s\n' "myip90 300 A 127.0.0.90" "myip10 300 A 10.1.2.3" \
		"fwd 300 PTR x.example.")"
	sed -i 's/^check_myip .*/check_myip myip90.postern.example@127.0.0.53/' "$CONF"
	check_one --only ptr >"$T/got"
	cat "$T/got" >&2
	grep -q '^fail PTR 127-0-0-90.dyn.isp.test is a provider.s generic name.*| ask your provider for a PTR naming your host' "$T/got" ||
		fail "generic PTR: $(cat "$T/got")"
	grep -q 'set hostname to\|adopt' "$T/got" && fail "a generic PTR offered as hostname"
	sed -i 's/^check_myip .*/check_myip myip10.postern.example@127.0.0.53/' "$CONF"
	check_one --only address,ptr,spf >"$T/got"
	cat "$T/got" >&2
	grep -q '^unknown behind NAT: receivers see another address' "$T/got" || fail "NAT: $(cat "$T/got")"
	grep -q '^fail\|^ok' "$T/got" && fail "judged behind NAT: $(cat "$T/got")"
	# no server to ask and no default route in the world: the address is not known
	sed -i 's/^check_myip .*/check_myip none/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only address,spf >"$T/chk.out" 2>&1
	expect_eq "exit status, address unknown" 75 "$?"
	grep -q '^??    address  this host: the address mail leaves from is not known' "$T/chk.out" || fail "$(cat "$T/chk.out")"
	# a smarthost: its addresses are judged by SPF; this host's PTR and HELO do not matter
	sed -i 's/^check_myip .*/check_myip myip90.postern.example@127.0.0.53/' "$CONF"
	printf 'smarthost smarthost.example\n' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only address,ptr,spf,spf-helo >"$T/chk.out" 2>&1
	expect_eq "exit status, smarthost not in SPF" 1 "$?"
	cat "$T/chk.out" >&2
	grep -q '^ok    address  smarthost.example: mail leaves through the smarthost at 127.0.0.20' "$T/chk.out" || fail "smarthost address"
	grep -q '^ok    ptr      smarthost.example: skipped: mail leaves through the smarthost' "$T/chk.out" || fail "ptr not skipped"
	grep -q '^ok    spf-helo mail.postern.example: skipped' "$T/chk.out" || fail "spf-helo not skipped"
	grep -q '^FAIL  spf      postern.example: fail for 127.0.0.20 .*; fix: add a:smarthost.example before' "$T/chk.out" || fail "smarthost SPF"
	# every host of the smarthost line carries mail: each one's addresses are judged
	sed -i 's/^smarthost .*/smarthost smarthost.example mx1.mx-pref.example:2525 127.0.0.21/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only address,spf >"$T/chk.out" 2>&1
	cat "$T/chk.out" >&2
	grep -q '^ok    address  mx1.mx-pref.example: mail leaves through the smarthost at 127.0.0.11' "$T/chk.out" || fail "second smarthost"
	grep -q '^ok    address  127.0.0.21: mail leaves through the smarthost at 127.0.0.21' "$T/chk.out" || fail "smarthost literal"
	grep -q '^FAIL  spf      postern.example: fail for 127.0.0.21 ' "$T/chk.out" || fail "SPF of the third smarthost"
	# source_address: direct deliveries leave from it, so it is judged; a private one is behind NAT
	sed -i '/^smarthost /d' "$CONF"
	printf 'source_address 127.0.0.90\n' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only address,ptr >"$T/chk.out" 2>&1
	cat "$T/chk.out" >&2
	grep -q '^ok    address  127.0.0.90: mail leaves from it (source_address)' "$T/chk.out" || fail "source_address"
	grep -q '^FAIL  ptr      127.0.0.90: PTR 127-0-0-90.dyn.isp.test' "$T/chk.out" || fail "source_address's PTR"
	sed -i 's/^source_address .*/source_address 100.64.0.25/' "$CONF"
	check_one --only address >"$T/got"
	grep -q '^unknown behind NAT: receivers see another address (source_address is private)' "$T/got" || fail "CGNAT: $(cat "$T/got")"
}

# The records the old strcasestr checks misjudged, and the other result words: check must say what
# pyspf (Debian's python3-spf, an independent RFC 7208 implementation) says for the same zone data.
test_check_spf_vs_pyspf() {
	check_env
	local z=postern.example
	dns_add $z "$(cat <<-'EOF'
	s01 300 TXT "v=spf1 a:mail.postern.example -all"
	s02 300 TXT "v=spf1 ptr:postern.example -all"
	s03 300 TXT "v=spf1 exists:%{i}._e.s03.postern.example -all"
	127.0.0.1._e.s03 300 A 127.0.0.2
	s04 300 TXT "v=spf1 -ip4:127.0.0.1 +all"
	s05 300 TXT "v=spf1 ~ip4:127.0.0.1 -all"
	s06 300 TXT "v=spf1 mx:o06.postern.example -all"
	s06 300 MX 10 mx.postern.example.
	o06 300 MX 10 mail.postern.example.
	s07 300 TXT "v=spf1 mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example mx:mx-pref.example a:mail.postern.example -all"
	s08 300 TXT "v=spf1 a:n1.nxdomain.example a:n2.nxdomain.example a:n3.nxdomain.example a:mail.postern.example -all"
	s09 300 TXT "v=spf1 include:_spf.s09.postern.example -all"
	_spf.s09 300 TXT "v=spf1 ip4:127.0.0.0/24 -all"
	s10 300 TXT "v=spf1 redirect=_spf.s09.postern.example"
	s11 300 TXT "v=spf1 ip4:127.0.0.0/8 -all"
	s12 300 TXT "v=spf1 +all"
	s13 300 TXT "v=spf1 ?all"
	s15 300 TXT "v=spf1 ip4:127.0.0.1 -all"
	s15 300 TXT "v=spf1 -all"
	s16 300 TXT "v=spf1 ip4:127.0.0.2 -all"
	s17 300 TXT "v=spf1 include:nxdomain.example -all"
	s18 300 TXT "v=spf1 ip4:127.0.0.1/33 -all"
	s19 300 TXT "v=spf1 a/24 -all"
	s19 300 A 127.0.0.99
	s20 300 TXT "v=spf1 mx -all"
	s20 300 MX 10 mx.postern.example.
	EOF
	)"
	local n want status got py
	# NAME  the result word  check's status
	while read -r n want status; do
		got=$(check_one --only spf "$n.$z" | head -n 1)
		py=$(/usr/bin/python3 -c 'import spf, sys; print(spf.check2(i="127.0.0.1", s="postmaster@" + sys.argv[1], h="mail.postern.example")[0])' "$n.$z")
		echo "$n: postern: $got; pyspf: $py" >&2
		expect_eq "$n: pyspf" "$want" "$py"
		expect_eq "$n: postern check" "$status $want" "$(echo "$got" | cut -d' ' -f1,2)"
	done <<-'END'
		s01 pass ok
		s02 pass ok
		s03 pass ok
		s04 fail fail
		s05 softfail fail
		s06 pass ok
		s07 permerror fail
		s08 permerror fail
		s09 pass ok
		s10 pass ok
		s11 pass ok
		s12 pass fail
		s13 neutral warn
		s14 none fail
		s15 permerror fail
		s16 fail fail
		s17 permerror fail
		s18 permerror fail
		s19 pass ok
		s20 fail fail
	END
}

test_check_escapes_dns_text() {	# TXT records and names from DNS reach the terminal escaped
	check_env
	# ESC [ 2 J (clear screen) and a bell inside an SPF record; \027 and \007 are decimal in zone files
	dns_add postern.example 'esc 300 TXT "v=spf1 \027[2J\007 -all"'
	dns_add postern.example 'esc 300 MX 10 mx.postern.example.'
	dns_add postern.example '_dmarc.esc 300 TXT "v=DMARC1; p=none; \027]0;pwned\007"'
	"$T/bin/postern" -C "$CONF" check 'esc.postern.example' >"$T/chk.out" 2>"$T/chk.err"
	cat "$T/chk.out" >&2
	LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/chk.out" && fail "control bytes in the output: $(od -c "$T/chk.out" | grep -m1 '033')"
	grep -qF 'v=spf1 \033[2J\a -all' "$T/chk.out" || grep -qF 'v=spf1 \033[2J\007 -all' "$T/chk.out" || fail "SPF line: $(grep spf "$T/chk.out")"
	grep -qF '\033]0;pwned' "$T/chk.out" || fail "DMARC line: $(grep dmarc "$T/chk.out")"
	"$T/bin/postern" -C "$CONF" check "$(printf 'x\033[2Jy.example')" >"$T/chk.out" 2>"$T/chk.err"
	LC_ALL=C grep -q "$(printf '\033')" "$T/chk.out" && fail "the caller's domain printed raw"
	return 0
}

test_check_client_cert() {	# a client certificate without its key: FAIL, and mail goes out without it
	check_env "tls_cert $WORK/pki/client.chain.pem" "tls_key $T/missing.key"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "exit status" 1 "$?"
	grep -q "^FAIL  tls      $T/missing.key: $T/missing.key: No such file or directory; fix: mail goes out without a client certificate" "$T/chk.out" ||
		fail "TLS: $(grep tls "$T/chk.out")"
	sed -i "s|^tls_key .*|tls_key $WORK/pki/client.key|" "$CONF"
	"$T/bin/postern" -C "$CONF" check >"$T/chk.out" 2>"$T/chk.err"
	grep -q "^ok    tls      .*: is valid, names mail.postern.example and matches its key" "$T/chk.out" ||
		fail "TLS: $(grep tls "$T/chk.out")"
}

test_check_interface() {	# options are options, never a domain; --json is one object; exit 75 for "could not check"
	check_env
	"$T/bin/postern" -C "$CONF" check --jsno >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "unknown option" 64 "$?"
	grep -q 'unknown option "--jsno"' "$T/chk.err" || fail "stderr: $(cat "$T/chk.err")"
	"$T/bin/postern" -C "$CONF" check --only spff >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "unknown check" 64 "$?"
	"$T/bin/postern" -C "$CONF" check --json --only dkim,mx >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "exit status" 0 "$?"
	/usr/bin/python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["hostname"] == "mail.postern.example" and o["domain"] == "postern.example", o
ids = sorted(set(c["id"] for c in o["checks"]))
assert ids == ["dkim", "mx"], ids
assert all(c["status"] == "ok" and set(c) == {"id", "subject", "status", "seen", "fix"} for c in o["checks"]), o
' "$T/chk.out" || fail "json: $(cat "$T/chk.out")"
	# DNS that does not answer: nothing is judged missing, all is "could not check"
	sed -i 's/^resolver .*/resolver 127.0.0.254/' "$CONF"
	timeout 60 "$T/bin/postern" -C "$CONF" check --only mx,spf,dmarc >"$T/chk.out" 2>"$T/chk.err"
	local rc=$?
	cat "$T/chk.out" >&2
	expect_eq "exit status without DNS" 75 "$rc"
	grep -q '^FAIL\|^warn\|publish' "$T/chk.out" && fail "advice without an answer: $(cat "$T/chk.out")"
	return 0
}

# DKIM key records as verifiers read them: each selector holds a variant of the world's keys'
# records; check's verdict (ok/warn = usable, fail = not) must be the verifier's on a message signed
# with that selector: Mail::DKIM for RSA, dkimpy for Ed25519 (Debian 12's Mail::DKIM has none).
# dkimpy 1.1.4 alone ignores h= in key records (d02 passes it), against RFC 6376 6.1.2; Mail::DKIM
# follows the RFC, and so does check.
test_check_dkim_records() {
	local rsa ed
	rsa=$(openssl pkey -in "$WORK/keys/dkim-rsa.pem" -pubout -outform DER | base64 -w0)
	ed=$(openssl pkey -in "$WORK/keys/dkim-ed25519.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
	# SELECTOR KEY(rsa|ed25519) WANT(ok|warn|fail) RECORD (p=... appended by the loop unless "-")
	cat >"$T/cases" <<-EOF
		d01 rsa ok v=DKIM1; k=rsa; h=sha256; s=email;
		d02 rsa fail v=DKIM1; k=rsa; h=sha1;
		d03 rsa fail v=DKIM1; k=ed25519;
		d04 rsa fail v=DKIM1; k=rsa; s=other;
		d05 ed25519 fail v=DKIM1;
		d06 rsa warn v=DKIM1; k=rsa; t=y;
		d07 rsa fail v=DKIM1; k=rsa; p= -
		d08 rsa fail v=DKIM2; k=rsa;
		d09 ed25519 fail v=DKIM1; k=ed25519; k=ed25519;
		d10 ed25519 ok v=DKIM1; k=ed25519; t=s;
		d11 rsa fail v=DKIM1; k=rsa;
		d12 rsa ok CNAME d01._domainkey.postern.example.
	EOF
	local zone="" sel key want rec p conf=""
	while read -r sel key want rec; do
		[ "$key" = rsa ] && p=$rsa || p=$ed
		case $rec in
		CNAME*) zone="$zone$sel._domainkey 300 $rec
" ;;
		*)	case $rec in *" -") rec=${rec% -} ;; *) rec="$rec p=$p" ;; esac
			zone="$zone$sel._domainkey 300 TXT $(printf '%s' "$rec" | sed 's/.\{200\}/&" "/g; s/^/"/; s/$/"/')
" ;;
		esac
		[ "$key" = rsa ] && conf="$conf dkim postern.example $sel $WORK/keys/dkim-rsa.pem|" ||
			conf="$conf dkim postern.example $sel $WORK/keys/dkim-ed25519.pem|"
	done <"$T/cases"
	zone="${zone}d11._domainkey 300 TXT \"v=DKIM1; k=rsa; p=\"
"	# and a second record at d11
	dns_add postern.example "$zone"
	postern_env
	ln -sf "$BIN" "$T/bin/postern"
	sed -i '/^dkim /d' "$CONF"
	printf '%s' "$conf" | tr '|' '\n' | sed 's/^ //' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only dkim >"$T/chk.out" 2>&1
	cat "$T/chk.out" >&2
	local got py
	while read -r sel key want rec; do
		got=$(grep "^[a-zA-Z?]* *dkim     $sel._domainkey.postern.example: " "$T/chk.out" | awk '{print $1}')
		case $got in ok) ;; warn) ;; FAIL) got=fail ;; *) got="?$got" ;; esac
		py=$(dkim_verify_sel "$sel" "$key")
		echo "$sel: postern $got, verifier $py" >&2
		expect_eq "$sel: postern check" "$want" "$got"
		# d11 (two records): RFC 6376 3.6.2.2 leaves the outcome undefined; Mail::DKIM tries the one
		# that works, others take the first: check FAILs it, as no verifier's answer can be relied on
		[ "$sel" = d11 ] && continue
		case $want in ok|warn) expect_eq "$sel: verifier" pass "$py" ;; *) expect_eq "$sel: verifier" fail "$py" ;; esac
	done <"$T/cases"
	# a key the queue side (user postern) cannot read, though root can
	cp "$WORK/keys/dkim-rsa.pem" "$T/root-only.pem"
	chown root:root "$T/root-only.pem"
	chmod 0600 "$T/root-only.pem"
	chmod 0755 "$T"
	sed -i '/^dkim /d' "$CONF"
	printf 'dkim postern.example rsa2048 %s\n' "$T/root-only.pem" >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only dkim >"$T/chk.out" 2>&1
	expect_eq "exit status, key postern cannot read" 1 "$?"
	grep -q "^FAIL  dkim     $T/root-only.pem: user postern, as which the queue runs, cannot read it" "$T/chk.out" ||
		fail "unreadable key: $(cat "$T/chk.out")"
}

# dkim_verify_sel SELECTOR rsa|ed25519 - sign a message as postern.example with that selector and
# the world's key (dkimpy), verify it over DNS (Mail::DKIM for RSA, dkimpy for Ed25519): pass or fail.
dkim_verify_sel() {
	if [ "$2" = rsa ]; then
		dkim_verify_sel_py "$@" >"$T/signed.eml"
		verify_maildkim "$T/signed.eml" >&2 && echo pass || echo fail
	else
		dkim_verify_sel_py "$@"
	fi
}

dkim_verify_sel_py() {
	local key alg
	if [ "$2" = rsa ]; then key=$WORK/keys/dkim-rsa.pem alg=rsa-sha256
	else key=$WORK/keys/dkim-ed25519.seed alg=ed25519-sha256; fi
	/usr/bin/python3 - "$1" "$key" "$alg" <<-'EOF'
	import sys, dkim
	sel, key, alg = sys.argv[1:]
	msg = b"From: a@postern.example\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody\r\n"
	sig = dkim.sign(msg, sel.encode(), b"postern.example", open(key, "rb").read().strip(),
	                canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=alg.encode(),
	                include_headers=[b"from", b"to", b"subject"])
	if alg.startswith("rsa"):
	    sys.stdout.buffer.write(sig + msg)
	    sys.exit(0)
	try:
	    ok = dkim.verify(sig + msg)
	except Exception:
	    ok = False
	print("pass" if ok else "fail")
	EOF
}

# DMARC records (RFC 7489) and alignment as postern signs; alignment is held to Mail::DMARC on a
# message signed as postern signs it (d=postern.example, the world's RSA key).
test_check_dmarc() {
	check_env
	dns_add postern.example "$(cat <<-'EOF'
	_dmarc.m02 300 TXT "v=DMARC1; p=rejct"
	_dmarc.m03 300 TXT "v=DMARC1; p=none"
	_dmarc.m03 300 TXT "v=DMARC1; p=reject"
	_dmarc.m04 300 TXT "v=DMARC1; rua=mailto:d@postern.example"
	_dmarc.m05 300 TXT "v=DMARC1; p=none; pct=150"
	_dmarc.m06 300 TXT "v=DMARC1; p=none; adkim=x"
	_dmarc.m07 300 TXT "p=none; v=DMARC1"
	m08 300 MX 10 mx.postern.example.
	_dmarc.m09 300 TXT "v=DMARC1; p=none; rua=mailto:d@rep.example"
	_dmarc.m10 300 TXT "v=DMARC1; p=none; rua=mailto:d@rep.example"
	_dmarc.m11 300 TXT "v=DMARC1; p=quarantine; sp=none"
	EOF
	)"
	dns_add example 'm10.postern.example._report._dmarc.rep 300 TXT "v=DMARC1"'
	local n want got
	while read -r n want; do
		case $n in *.*) ;; *) n=$n.postern.example ;; esac
		"$T/bin/postern" -C "$CONF" check --only dmarc "$n" >"$T/chk.out" 2>&1
		cat "$T/chk.out" >&2
		got=$(grep '^[a-zA-Z?]* *dmarc ' "$T/chk.out" | awk '{print $1}' | paste -sd' ')
		expect_eq "$n" "$want" "$got"
	done <<-'END'
		m02 FAIL 
		m03 FAIL 
		m04 FAIL 
		m05 FAIL 
		m06 FAIL 
		m07 FAIL ok
		m08 ok 
		m09 ok warn 
		m10 ok ok 
		m11 ok
		implicit.example warn
	END
	# m08 inherits the organisational domain's p=reject: no advice to publish a weaker policy
	"$T/bin/postern" -C "$CONF" check --only dmarc m08.postern.example >"$T/chk.out" 2>&1
	grep -q "^ok    dmarc    _dmarc.postern.example: .*organisational domain's.*policy reject" "$T/chk.out" || fail "m08: $(cat "$T/chk.out")"
	grep -q 'p=none' "$T/chk.out" && fail "m08 told to publish p=none"
	# alignment: the domain itself (its own key) passes; a subdomain signed with the parent's key fails
	# adkim=s under p=reject; postern's notices (MAILER-DAEMON@postern.example) align
	local f
	for f in postern.example m08.postern.example; do
		"$T/bin/postern" -C "$CONF" check --only align "$f" >"$T/chk.out" 2>&1
		cat "$T/chk.out" >&2
		got=$(grep "^[a-zA-Z?]* *align    From $f: signed" "$T/chk.out" | awk '{print $1}')
		dmarc_sign "$f" >"$T/m.eml"
		if perl "$HERE/maildmarc.pl" <"$T/m.eml" >&2; then want=ok; else want=FAIL; fi
		expect_eq "align $f (Mail::DMARC)" "$want" "$got"
		grep -q "^ok    align    notices from MAILER-DAEMON@postern.example: signed d=postern.example: aligned" "$T/chk.out" ||
			fail "notices: $(cat "$T/chk.out")"
	done
	grep -q "align    From m08.postern.example: signed d=postern.example: not aligned under adkim=s, so DMARC fails (policy reject); fix: add a key for m08.postern.example" "$T/chk.out" ||
		fail "m08 align: $(cat "$T/chk.out")"
	# SPF alignment (aspf=s) of the envelope sender postern uses, held to Mail::DMARC given an SPF pass
	# for that domain and no DKIM: mail From postern.example (envelope @postern.example) aligns, mail
	# From m08 does not; notices have the null sender, so the HELO name is judged (not strictly aligned)
	for f in postern.example m08.postern.example; do
		"$T/bin/postern" -C "$CONF" check --only align "$f" >"$T/chk.out" 2>&1
		got=$(grep "^[a-zA-Z?]* *align    From $f: envelope sender @postern.example (SPF): " "$T/chk.out" | awk '{print $1}')
		printf 'From: <a@%s>\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody\r\n' "$f" >"$T/m.eml"
		if SPF_PASS_DOMAIN=postern.example perl "$HERE/maildmarc.pl" <"$T/m.eml" >&2; then want=ok; else want=FAIL; fi
		expect_eq "SPF align $f (Mail::DMARC)" "$want" "$got"
	done
	grep -q "^FAIL  align    From m08.postern.example: envelope sender @postern.example (SPF): not aligned under aspf=s; fix: send with an envelope sender in m08.postern.example" "$T/chk.out" ||
		fail "m08 SPF align: $(cat "$T/chk.out")"
	grep -q "^ok    align    notices from MAILER-DAEMON@postern.example: null envelope sender, so SPF judges the HELO name mail.postern.example: not aligned under aspf=s; DKIM alignment carries DMARC" "$T/chk.out" ||
		fail "notices SPF align: $(cat "$T/chk.out")"
}

# dmarc_sign FROMDOMAIN - a message From a@FROMDOMAIN signed d=postern.example s=rsa2048 (dkimpy)
dmarc_sign() {
	/usr/bin/python3 - "$1" "$WORK/keys/dkim-rsa.pem" <<-'EOF'
	import sys, dkim
	fdom, key = sys.argv[1:]
	msg = ("From: <a@%s>\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody\r\n" % fdom).encode()
	sig = dkim.sign(msg, b"rsa2048", b"postern.example", open(key, "rb").read().strip(),
	                canonicalize=(b"relaxed", b"relaxed"), include_headers=[b"from", b"to", b"subject"])
	sys.stdout.buffer.write(sig + msg)
	EOF
}

test_check_dnsbl() {	# a listing with its reason, a refused query (Spamhaus's 127.255.255.x), a clean list
	check_env
	dns_add example "$(cat <<-'EOF'
	1.0.0.127.bl 300 A 127.0.0.2
	1.0.0.127.bl 300 TXT "listed for testing, see https://bl.example/127.0.0.1"
	1.0.0.127.refuse 300 A 127.255.255.254
	EOF
	)"
	sed -i 's/^dnsbl .*/dnsbl bl.example,refuse.example,clean.example/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only dnsbl >"$T/chk.out" 2>&1
	expect_eq "exit status, listed" 1 "$?"
	cat "$T/chk.out" >&2
	grep -q '^FAIL  dnsbl    127.0.0.1: listed in bl.example (127.0.0.2): listed for testing, see https://bl.example/127.0.0.1; fix: ' "$T/chk.out" || fail "listing"
	grep -q '^??    dnsbl    127.0.0.1: refuse.example refused the query (answer 127.255.255.254' "$T/chk.out" || fail "refusal"
	grep -q '^ok    dnsbl    127.0.0.1: not listed in clean.example' "$T/chk.out" || fail "clean"
	sed -i 's/^dnsbl .*/dnsbl refuse.example,clean.example/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only dnsbl >"$T/chk.out" 2>&1
	expect_eq "exit status, refused only" 75 "$?"
	printf 'smarthost smarthost.example\n' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only dnsbl >"$T/chk.out" 2>&1
	expect_eq "exit status, smarthost" 0 "$?"
	grep -q '^ok    dnsbl    smarthost.example: skipped' "$T/chk.out" || fail "smarthost: $(cat "$T/chk.out")"
}

# The port 25 probe: an MX that greets, one that refuses, one whose packets vanish (a veth pair with
# nobody on the far end: the SYN is never answered), a name DNS does not know, a source_address
# that is not this host's, and a smarthost (skipped).
test_check_port25() {
	check_env
	smtpd_start mx1 127.0.0.11:25 || fail "start"
	dns_add postern.example "$(printf '%s\n' "refusing 300 A 127.0.0.77" "blackholed 300 A 198.51.100.25")"
	local want host
	while read -r host want; do
		sed -i "s/^check_port25_host .*/check_port25_host $host/" "$CONF"
		"$T/bin/postern" -C "$CONF" check --only port25 >"$T/chk.out" 2>&1
		cat "$T/chk.out" >&2
		grep -q "^$want" "$T/chk.out" || fail "$host: want '$want', got $(head -n 1 "$T/chk.out")"
	done <<-'END'
		mx1.mx-pref.example ok    port25   mx1.mx-pref.example: port 25 is open: mx1.mx-pref.example\[127.0.0.11\]:25 greets "
		refusing.postern.example FAIL  port25   refusing.postern.example: connect to .*127.0.0.77.*Connection refused: your provider blocks outgoing port 25; fix: use a smarthost (see `smarthost`)
		nxdomain.example ??    port25   nxdomain.example: could not check: 
	END
	"$T/bin/postern" -C "$CONF" check --only port25 >/dev/null 2>&1
	expect_eq "exit status, could not check" 75 "$?"
	# blackholed: route 198.51.100.0/24 into a veth whose peer has no address; removed afterwards
	# (later tests rely on the world having no default route)
	ip link add p25a type veth peer name p25b && ip link set p25a up && ip link set p25b up &&
		ip route add 198.51.100.0/24 dev p25a &&
		ip neigh add 198.51.100.25 lladdr 02:00:00:00:00:25 dev p25a nud permanent || fail "veth"
	sed -i "s/^check_port25_host .*/check_port25_host blackholed.postern.example/" "$CONF"
	"$T/bin/postern" -C "$CONF" check --only port25 >"$T/chk.out" 2>&1
	local rc=$?
	ip link del p25a
	cat "$T/chk.out" >&2
	expect_eq "exit status, blackholed" 1 "$rc"
	grep -q '^FAIL  port25   blackholed.postern.example: connect to .*timeout.*: your provider blocks outgoing port 25; fix: use a smarthost' "$T/chk.out" ||
		fail "blackholed: $(cat "$T/chk.out")"
	# source_address is where the probe leaves from
	sed -i "s/^check_port25_host .*/check_port25_host mx1.mx-pref.example/" "$CONF"
	printf 'source_address 192.0.2.1\n' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only port25 >"$T/chk.out" 2>&1
	cat "$T/chk.out" >&2
	grep -q '^FAIL  port25   mx1.mx-pref.example: cannot connect from 192.0.2.1 (source_address)' "$T/chk.out" || fail "source_address: $(cat "$T/chk.out")"
	sed -i 's/^source_address .*/source_address 127.0.0.1/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only port25,address >"$T/chk.out" 2>&1
	expect_eq "exit status, from source_address" 0 "$?"
	grep -q '^ok    address  127.0.0.1: mail leaves from it (source_address)' "$T/chk.out" || fail "address: $(cat "$T/chk.out")"
	printf 'smarthost smarthost.example\n' >>"$CONF"
	"$T/bin/postern" -C "$CONF" check --only port25 >"$T/chk.out" 2>&1
	grep -q '^ok    port25   smarthost.example: skipped: mail leaves through the smarthost' "$T/chk.out" || fail "smarthost: $(cat "$T/chk.out")"
}

# The smarthost probe: each host of the line, TLS verified and AUTH tried, no mail sent; wrong
# credentials name the server's reply; a host that is down FAILs.
test_check_smarthost() {
	printf 'postern s3cret\n' >"$T/smarthost.auth"
	chown root:postern "$T/smarthost.auth"
	chmod 0640 "$T/smarthost.auth"
	check_env "smarthost smarthost.example:587 smarthost.example:465 127.0.0.21:587" "smarthost_auth $T/smarthost.auth"
	smarthost_start || fail "start"
	"$T/bin/postern" -C "$CONF" check --only smarthost,address,ptr,port25,dnsbl >"$T/chk.out" 2>&1
	local rc=$?
	cat "$T/chk.out" >&2
	expect_eq "exit status, one down" 1 "$rc"
	grep -q '^ok    smarthost smarthost.example:587: TLSv1.[23]/verified, AUTH as postern accepted$' "$T/chk.out" || fail "587"
	grep -q '^ok    smarthost smarthost.example:465: TLSv1.[23]/verified, AUTH as postern accepted$' "$T/chk.out" || fail "465"
	grep -q '^FAIL  smarthost 127.0.0.21:587: connect to .*Connection refused; fix: check the smarthost' "$T/chk.out" || fail "down"
	grep -q '^ok    address  127.0.0.21: mail leaves through the smarthost at 127.0.0.21' "$T/chk.out" || fail "second host's address"
	grep -q '^ok    ptr      .*skipped' "$T/chk.out" || fail "ptr not skipped"
	grep -q '^ok    dnsbl    .*skipped' "$T/chk.out" || fail "dnsbl not skipped"
	grep -q '^ok    port25   .*skipped' "$T/chk.out" || fail "port25 not skipped"
	expect_eq "mail at the smarthost" 0 "$(($(mail_count smarthost587) + $(mail_count smarthost465)))"
	printf 'postern wrong\n' >"$T/smarthost.auth"
	sed -i 's/^smarthost .*/smarthost smarthost.example:587/' "$CONF"
	"$T/bin/postern" -C "$CONF" check --only smarthost >"$T/chk.out" 2>&1
	expect_eq "exit status, wrong password" 1 "$?"
	cat "$T/chk.out" >&2
	grep -q '^FAIL  smarthost smarthost.example:587: AUTH as postern refused: 535 .*; fix: correct the user and password in smarthost_auth' "$T/chk.out" ||
		fail "wrong credentials: $(cat "$T/chk.out")"
}

# --send: a signed test message through the front door and a queue run of it alone; the SMTP result
# and the TLS used are printed, and the message arrives signed.
test_check_send() {
	check_env
	smtpd_start mx1 127.0.0.11:25 --tls || fail "start"
	"$T/bin/postern" -C "$CONF" check --only send --send far@mx-pref.example >"$T/chk.out" 2>"$T/chk.err"
	local rc=$?
	cat "$T/chk.out" "$T/chk.err" >&2
	expect_eq "exit status" 0 "$rc"
	grep -q '^ok    send     far@mx-pref.example: sent via mx1.mx-pref.example\[127.0.0.11\]:25, TLS TLSv1.[23]/verified, dsn 2.0.0: 250 ' "$T/chk.out" ||
		fail "send: $(cat "$T/chk.out")"
	expect_eq "arrived" 1 "$(mail_count mx1)"
	expect_eq "rcpt" far@mx-pref.example "$(all_rcpts mx1)"
	expect_dkim "$(mail_file mx1)"
	expect_queue_empty
	# a recipient the server refuses: the reply is the finding
	smtpd_start mx2 127.0.0.12:25 --rcpt-5xx 'nobody@*' || fail "start mx2"
	dns_add example 'refusing 300 MX 10 mx2.mx-pref.example.'
	"$T/bin/postern" -C "$CONF" check --only send --send nobody@refusing.example >"$T/chk.out" 2>"$T/chk.err"
	expect_eq "exit status, refused" 1 "$?"
	cat "$T/chk.out" >&2
	grep -q '^FAIL  send     nobody@refusing.example: bounced via mx2.mx-pref.example\[127.0.0.12\]:25, TLS none, dsn 5' "$T/chk.out" ||
		fail "refused: $(cat "$T/chk.out")"
	"$T/bin/postern" -C "$CONF" check --send >/dev/null 2>&1
	expect_eq "--send without an address" 64 "$?"
}
