# world.sh - the integration world (bash, sourced by run.sh): DNS (NSD), PKI (openssl), receiving
# MTAs (smtpd.py on aiosmtpd), DKIM verifiers, and the helpers tests use. See the README at the top
# of run.sh for the map of the world. Every path lives under $WORK; nothing here touches the host
# outside the private namespaces run.sh set up.

PY=/usr/bin/python3	# Debian's python, with python3-aiosmtpd and python3-dkim
NS_IP=127.0.0.53

# ---------------------------------------------------------------------------------------------- DNS
# Zones are generated from $WORK/dns/ZONE.base (+ ZONE.extra, which dns_add appends to) with a fresh
# serial. NSD runs in the foreground (-d) as root, without a database, xfrd state in $WORK/dns.

dns_zone_names="example mx-pref.example implicit.example nullmx.example fallback.example
	postern.example smarthost.example badcert.example 127.in-addr.arpa"

# dns_write_base - the records of every zone (the DKIM keys must exist: pki_dkim_keys first).
dns_write_base() {
	local d=$WORK/dns
	mkdir -p "$d"
	cat >"$d/example.base" <<-EOF
	ns 300 A $NS_IP
	; nxdomain.example is simply absent
	EOF
	cat >"$d/mx-pref.example.base" <<-EOF
	@ 300 MX 10 mx1.mx-pref.example.
	@ 300 MX 20 mx2.mx-pref.example.
	mx1 300 A 127.0.0.11
	mx2 300 A 127.0.0.12
	EOF
	cat >"$d/implicit.example.base" <<-EOF
	@ 300 A 127.0.0.13
	EOF
	cat >"$d/nullmx.example.base" <<-EOF
	@ 300 MX 0 .
	@ 300 A 127.0.0.13
	EOF
	cat >"$d/fallback.example.base" <<-EOF
	@ 300 MX 10 bad.fallback.example.
	@ 300 MX 20 mx1.mx-pref.example.
	bad 300 A 127.0.0.14
	EOF
	cat >"$d/badcert.example.base" <<-EOF
	@ 300 MX 10 mx.badcert.example.
	mx 300 A 127.0.0.16
	EOF
	cat >"$d/smarthost.example.base" <<-EOF
	@ 300 A 127.0.0.20
	EOF
	{
		echo "@ 300 MX 10 mx.postern.example."
		echo "mx 300 A 127.0.0.15"
		echo "mail 300 A 127.0.0.1"
		echo 'mail 300 TXT "v=spf1 a -all"'
		echo "myip 300 A 127.0.0.1"	# postern check's check_myip: "the address you come from"
		echo '@ 300 TXT "v=spf1 ip4:127.0.0.1 -all"'
		echo '_dmarc 300 TXT "v=DMARC1; p=reject; adkim=s; aspf=s"'
		echo "rsa2048._domainkey 300 TXT $(dkim_txt "$WORK/keys/dkim-rsa.pem" rsa)"
		echo "ed25519._domainkey 300 TXT $(dkim_txt "$WORK/keys/dkim-ed25519.pem" ed25519)"
	} >"$d/postern.example.base"
	cat >"$d/127.in-addr.arpa.base" <<-EOF
	1.0.0 300 PTR mail.postern.example.
	11.0.0 300 PTR mx1.mx-pref.example.
	12.0.0 300 PTR mx2.mx-pref.example.
	13.0.0 300 PTR implicit.example.
	14.0.0 300 PTR bad.fallback.example.
	15.0.0 300 PTR mx.postern.example.
	16.0.0 300 PTR mx.badcert.example.
	20.0.0 300 PTR smarthost.example.
	53.0.0 300 PTR ns.example.
	EOF
}

# dkim_txt KEYFILE rsa|ed25519 - the DKIM key record's TXT data, split into <=200-byte strings.
dkim_txt() {
	local p
	if [ "$2" = rsa ]; then
		p=$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)
	else	# RFC 8463: the raw 32-byte key, the tail of the SubjectPublicKeyInfo
		p=$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0)
	fi
	printf '%s' "v=DKIM1; k=$2; p=$p" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '
}

# dns_gen ZONE - write ZONE.zone from base + extra with the next serial.
dns_gen() {
	local d=$WORK/dns z=$1 serial
	serial=$(($(cat "$d/serial" 2>/dev/null || echo 0) + 1))
	echo "$serial" >"$d/serial"
	echo "$serial" >"$d/$z.serial"
	{
		echo "\$ORIGIN $z."
		echo "\$TTL 300"
		echo "@ 300 SOA ns.example. hostmaster.example. $serial 3600 600 86400 60"
		echo "@ 300 NS ns.example."
		cat "$d/$z.base"
		if [ -f "$d/$z.extra" ]; then cat "$d/$z.extra"; fi
	} >"$d/$z.zone.tmp" && mv "$d/$z.zone.tmp" "$d/$z.zone"
}

# dns_start - generate config and zones, start NSD on 127.0.0.53:53, wait until it answers.
dns_start() {
	local d=$WORK/dns z
	dns_write_base
	{
		cat <<-EOF
		server:
		  ip-address: $NS_IP
		  port: 53
		  do-ip6: no
		  username: ""
		  chroot: ""
		  zonesdir: "$d"
		  database: ""
		  zonelistfile: "$d/zone.list"
		  xfrdfile: "$d/xfrd.state"
		  xfrdir: "$d"
		  pidfile: "$d/nsd.pid"
		  logfile: "$d/nsd.log"
		  server-count: 1
		  verbosity: 2
		  hide-version: yes
		  refuse-any: no
		remote-control:
		  control-enable: no
		EOF
		for z in $dns_zone_names; do
			printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$z" "$z"
		done
	} >"$d/nsd.conf"
	for z in $dns_zone_names; do dns_gen "$z"; done
	nsd-checkconf "$d/nsd.conf" || return 1
	nsd -d -c "$d/nsd.conf" >>"$d/nsd.out" 2>&1 &
	echo $! >"$d/nsd.ppid"
	for z in $dns_zone_names; do
		wait_for 10 dns_has_serial "$z" "$(cat "$d/$z.serial")" || { echo "zone $z not served" >&2; return 1; }
	done
}

# dns_add ZONE "NAME TTL TYPE DATA" - publish a record (NAME relative to ZONE, or @) and wait until
# NSD serves the new serial. For tests that publish, e.g., what `postern dkim-keygen` prints.
dns_add() {
	local z=$1 d=$WORK/dns serial
	shift
	printf '%s\n' "$*" >>"$d/$z.extra"
	dns_gen "$z"
	serial=$(cat "$d/$z.serial")
	kill -HUP "$(cat "$d/nsd.ppid")"
	wait_for 10 dns_has_serial "$z" "$serial"
}

dns_has_serial() {
	[ "$(dig +short +time=1 +tries=1 @"$NS_IP" -t SOA "$1" | awk '{print $3}')" -ge "$2" ] 2>/dev/null
}

# ---------------------------------------------------------------------------------------------- PKI
# A test CA; leaf certificates (EC P-256) via `openssl ca` so validity dates can be set freely.

# pki_start - CA, an untrusted CA, and the leaf certificates every test may use:
#   server      all MX names of the world          server-wrongname   only wrong.example
#   server-untrusted  all names, other CA         server-expired     all names, expired 2020
#   smarthost   smarthost.example                  client             mail.postern.example (clientAuth)
pki_start() {
	local p=$WORK/pki names
	mkdir -p "$p"
	pki_ca ca "postern test CA" && pki_ca untrusted-ca "untrusted test CA" || return 1
	names="DNS:mx1.mx-pref.example,DNS:mx2.mx-pref.example,DNS:implicit.example,DNS:bad.fallback.example"
	names="$names,DNS:mx.postern.example,DNS:mx.badcert.example,DNS:smarthost.example"
	pki_leaf ca server "$names" serverAuth &&
		pki_leaf ca server-wrongname "DNS:wrong.example" serverAuth &&
		pki_leaf untrusted-ca server-untrusted "$names" serverAuth &&
		pki_leaf ca server-expired "$names" serverAuth 20200101000000Z 20200201000000Z &&
		pki_leaf ca smarthost "DNS:smarthost.example" serverAuth &&
		pki_leaf ca client "DNS:mail.postern.example" clientAuth
}

# pki_ca NAME CN - a self-signed CA with its `openssl ca` database.
pki_ca() {
	local p=$WORK/pki/$1
	mkdir -p "$p/new"
	: >"$p/index.txt"
	echo 1000 >"$p/serial"
	cat >"$p/ca.cnf" <<-EOF
	[ ca ]
	default_ca = tca
	[ tca ]
	dir = $p
	database = $p/index.txt
	serial = $p/serial
	new_certs_dir = $p/new
	certificate = $p/ca.pem
	private_key = $p/ca.key
	default_md = sha256
	default_days = 30
	policy = anything
	unique_subject = no
	copy_extensions = none
	[ anything ]
	commonName = supplied
	EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/ca.key" \
		-out "$p/ca.pem" -days 30 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>>"$WORK/pki/openssl.log"
}

# pki_leaf CA NAME SANS EKU [STARTDATE ENDDATE] - NAME.key/NAME.pem (+ NAME.chain.pem) in $WORK/pki.
pki_leaf() {
	local ca=$WORK/pki/$1 p=$WORK/pki/$2 cn dates=
	cn=${3%%,*}; cn=${cn#DNS:}
	[ -n "$5" ] && dates="-startdate $5 -enddate $6"
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$3" "$4" >"$p.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p.key" \
		-out "$p.csr" -subj "/CN=$cn" 2>>"$WORK/pki/openssl.log" &&
		openssl ca -batch -notext -config "$ca/ca.cnf" -in "$p.csr" -out "$p.pem" \
			-extfile "$p.ext" $dates >>"$WORK/pki/openssl.log" 2>&1 &&
		cat "$p.pem" "$ca/ca.pem" >"$p.chain.pem"
}

# pki_dkim_keys - the sender domain's DKIM keys (postern.example, selectors rsa2048 and ed25519),
# PEM for postern, plus dkimpy's forms (RSA PEM; ed25519 as the base64 of the 32-byte seed).
pki_dkim_keys() {
	local k=$WORK/keys
	mkdir -p "$k"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/dkim-rsa.pem" 2>/dev/null &&
		openssl genpkey -algorithm ED25519 -out "$k/dkim-ed25519.pem" &&
		openssl pkey -in "$k/dkim-ed25519.pem" -outform DER | tail -c 32 | base64 -w0 \
			>"$k/dkim-ed25519.seed" || return 1
	chgrp postern "$k"/* 2>/dev/null
	chmod 0640 "$k"/*
}

# ------------------------------------------------------------------------------------- SMTP servers
# smtpd_start NAME IP:PORT [smtpd.py options] - start a receiving MTA for the current test; its
# messages land in $T/mail/NAME, its log in $T/log/NAME.log. Returns once the port accepts.
# TLS options are shorthand: --tls (STARTTLS with the good cert), --tls-as CERTNAME.
smtpd_start() {
	local name=$1 listen=$2 args=()
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) args+=(--tls-cert "$WORK/pki/server.chain.pem" --tls-key "$WORK/pki/server.key"
			--client-ca "$WORK/pki/ca/ca.pem") ;;
		--tls-as) args+=(--tls-cert "$WORK/pki/$2.chain.pem" --tls-key "$WORK/pki/$2.key"
			--client-ca "$WORK/pki/ca/ca.pem"); shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	mkdir -p "$T/mail/$name" "$T/log"
	"$PY" "$HERE/smtpd.py" --listen "$listen" --maildir "$T/mail/$name" \
		--log "$T/log/$name.log" "${args[@]}" >>"$T/log/$name.out" 2>&1 &
	echo $! >>"$T/pids"
	wait_for 10 port_open "$listen" || { echo "smtpd $name on $listen did not start" >&2; return 1; }
}

# faultsmtpd_start NAME IP:PORT [faultsmtpd.py modes] - like smtpd_start, with faultsmtpd.py (no
# TLS; --stall-dot N, --stall-354, --drop-data P, --drop-dot, --dot-4xx N, --no-8bitmime, --reply
# STEP=CODE[ TEXT], --drip S, --fast, --seed N): messages
# in $T/mail/NAME (N.eml, N.env, ids, connections), fault events in $T/log/NAME.log. Returns once
# the port accepts.
faultsmtpd_start() {
	local name=$1 listen=$2
	shift 2
	mkdir -p "$T/mail/$name" "$T/log"
	"$PY" "$HERE/faultsmtpd.py" --listen "$listen" --maildir "$T/mail/$name" \
		--log "$T/log/$name.log" "$@" >>"$T/log/$name.out" 2>&1 &
	echo $! >>"$T/pids"
	# it writes .listening once it listens: no probe connection, so `connections` counts clients only
	wait_for 10 test -e "$T/mail/$name/.listening" ||
		{ echo "faultsmtpd $name on $listen did not start" >&2; return 1; }
}

# ids_count NAME - how many messages faultsmtpd NAME accepted (lines in its ids file; --fast too).
ids_count() { if [ -f "$T/mail/$1/ids" ]; then wc -l <"$T/mail/$1/ids" | tr -d ' '; else echo 0; fi; }

# ids_dups NAME - extra deliveries at faultsmtpd NAME: accepted messages minus distinct Message-IDs.
ids_dups() { echo $(($(ids_count "$1") - $(cut -f1 "$T/mail/$1/ids" 2>/dev/null | sort -u | wc -l))); }

# smarthost_start - the smarthost: 127.0.0.20:587 (STARTTLS, AUTH required after TLS) and :465
# (implicit TLS, AUTH required); users in $T/smarthost.users ("user password" lines): postern/s3cret.
smarthost_start() {
	printf 'postern s3cret\n' >"$T/smarthost.users"
	smtpd_start smarthost587 127.0.0.20:587 --tls-as smarthost --auth-file "$T/smarthost.users" &&
		smtpd_start smarthost465 127.0.0.20:465 --tls-as smarthost --implicit-tls \
			--auth-file "$T/smarthost.users"
}

port_open() {
	timeout 1 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$1" 2>/dev/null
}

# mail_count NAME - how many messages server NAME stored.
mail_count() {
	local n=0 f
	for f in "$T/mail/$1"/*.eml; do [ -e "$f" ] && n=$((n + 1)); done
	echo "$n"
}

# mail_file NAME [N] - the path of message N (default 1) stored by server NAME.
mail_file() { echo "$T/mail/$1/${2:-1}.eml"; }

# env_get NAME N KEY - the first value of KEY in message N's envelope side file.
env_get() { sed -n "s/^$3: //p" "$T/mail/$1/$2.env" | head -n 1; }

# wait_mail NAME COUNT [SECONDS] - wait until server NAME stored COUNT messages.
wait_mail() { wait_for "${3:-10}" mail_count_is "$1" "$2"; }
mail_count_is() { [ "$(mail_count "$1")" -ge "$2" ]; }

# header MSGFILE FIELD - the (unfolded) value of the first header field FIELD in a stored message.
header() {
	sed -e 's/\r$//' -e '/^$/q' "$1" | awk -v f="$(echo "$2" | tr 'A-Z' 'a-z')" '
		/^[ \t]/ { if (on) v = v $0; next }
		{ if (on) { print v; done = 1; exit } ; split($0, a, ":"); if (tolower(a[1]) == f) { on = 1; v = substr($0, length(a[1]) + 2); sub(/^ /, "", v) } }
		END { if (on && !done) print v }'
}

# has_header MSGFILE FIELD - true if the header section has FIELD.
has_header() { sed -e 's/\r$//' -e '/^$/q' "$1" | grep -qi "^$2:"; }

# ------------------------------------------------------------------------------------ DKIM verifiers
# Each verifier returns 0 only if the message has at least one DKIM-Signature and EVERY signature
# verifies ("pass") -- except that Mail::DKIM skips ed25519 (see verify_maildkim). Output goes to
# stdout for the test log.

dkim_sig_count() { sed -e 's/\r$//' -e '/^$/q' "$1" | grep -ci '^dkim-signature:'; }

# verify_dkimpy FILE - /usr/bin/dkimverify (python3-dkim, dnspython: asks /etc/resolv.conf), once
# per signature index.
verify_dkimpy() {
	local n i
	n=$(dkim_sig_count "$1")
	[ "$n" -gt 0 ] || { echo "dkimpy: no signature"; return 1; }
	for i in $(seq 0 $((n - 1))); do
		/usr/bin/dkimverify --index "$i" <"$1" || { echo "dkimpy: signature $i failed"; return 1; }
	done
}

# verify_opendkim FILE - opendkim-testmsg (libopendkim, libc resolver: /etc/resolv.conf). It
# verifies when given no -d/-k/-s, prints nothing and exits 0 on success. It reports one result
# for the message, so each signature is checked alone: one copy of the message per signature,
# with the other DKIM-Signature fields removed (they are never in a signature's h= list).
verify_opendkim() {
	local n i tmp rc=0
	n=$(dkim_sig_count "$1")
	[ "$n" -gt 0 ] || { echo "opendkim: no signature"; return 1; }
	tmp=$(mktemp "$WORK/tmp.opendkim.XXXXXX")
	for i in $(seq 1 "$n"); do
		dkim_keep_one "$1" "$i" >"$tmp"
		opendkim-testmsg -t "$WORK" <"$tmp" || { echo "opendkim: signature $i failed"; rc=1; }
	done
	rm -f "$tmp"
	return $rc
}

# dkim_keep_one FILE I - the message with only its I-th DKIM-Signature field (1-based).
dkim_keep_one() {
	awk -v keep="$2" '
		hdr && /^\r?$/ { hdr = 0 }
		hdr && /^[ \t]/ { if (!drop) print; next }
		hdr { drop = 0; if (tolower($0) ~ /^dkim-signature:/) { k++; drop = (k != keep) } if (!drop) print; next }
		{ print }' hdr=1 "$1"
}

# verify_maildkim FILE - Mail::DKIM::Verifier (libmail-dkim-perl, Net::DNS: /etc/resolv.conf).
# Debian 12's Mail::DKIM has no ed25519: it judges the RSA signatures only (every one must pass, at
# least one must exist) and returns 2 when there is nothing it can judge.
verify_maildkim() { perl "$HERE/maildkim.pl" <"$1"; }

# verify_all FILE - all three verifiers must pass (so the message needs an RSA signature).
verify_all() { verify_dkimpy "$1" && verify_opendkim "$1" && verify_maildkim "$1"; }

# dkimpy_sign IN OUT rsa|ed25519 - sign a message with python3-dkim and the world's keys (self-test).
dkimpy_sign() {
	local key sel alg
	if [ "$3" = rsa ]; then
		key=$WORK/keys/dkim-rsa.pem sel=rsa2048 alg=rsa-sha256
	else
		key=$WORK/keys/dkim-ed25519.seed sel=ed25519 alg=ed25519-sha256
	fi
	"$PY" - "$1" "$2" "$key" "$sel" "$alg" <<-'EOF'
	import sys, dkim
	src, dst, key, sel, alg = sys.argv[1:]
	msg = open(src, "rb").read()
	sig = dkim.sign(msg, sel.encode(), b"postern.example", open(key, "rb").read().strip(),
	                canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=alg.encode(),
	                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
	open(dst, "wb").write(sig + msg)
	EOF
}

# tls_verified HOST PORT [starttls] - true if a TLS handshake with HOST:PORT verifies against the
# test CA AND the certificate matches HOST (swaks --tls-verify does not check the name).
tls_verified() {
	local st=
	[ "${3:-}" = starttls ] && st="-starttls smtp"
	timeout 10 openssl s_client -connect "$1:$2" $st -CAfile "$WORK/pki/ca/ca.pem" \
		-verify_hostname "$1" -verify_return_error </dev/null >"$T/s_client.out" 2>&1
}

# ---------------------------------------------------------------------------------------- utilities

# wait_for SECONDS CMD... - run CMD every 0.1 s until it succeeds; false after SECONDS.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# fail REASON - end the current test as failed with REASON (run.sh prints it).
fail() {
	printf '%s\n' "$*" | tr '\r\n\t' '^| ' | sed 's/|$//' >"$T/reason"	# one line, CR shown as ^
	echo "FAIL: $*" >&2
	exit 1
}

# skip REASON - end the test as skipped (something it needs is not installed): run.sh counts it.
skip() {
	printf '%s\n' "$*" | head -n 1 >"$T/reason"
	exit "$SKIP_RC"
}

# expect_eq WHAT WANT GOT
expect_eq() { [ "$2" = "$3" ] || fail "$1: want '$2', got '$3'"; }
