# t_30_certbot.sh - the certbot deploy hook (conf/certbot-deploy-hook), run exactly as certbot runs
# it: a lineage folder (live/NAME/*.pem symlinks into archive/NAME/) with certificates from the
# world's test CA, RENEWED_LINEAGE and RENEWED_DOMAINS in the environment, POSTERN_CONF pointing at
# the test's config. The installed pair starts as the world's client certificate; every refusal must
# leave it byte-identical, same inode, no temp file left, exit 1 with one line on stderr and one
# mail.err syslog line (a fake `logger` first in PATH records what would go to syslog). The hook asks
# the built postern ($BIN, or a stub that passes `config` on to it) for the configuration.

HOOK=$HERE/../../conf/certbot-deploy-hook
CB_NAME=mail.postern.example

# cb_leaf NAME SANS [STARTDATE ENDDATE [CA]] - $T/pki/NAME.key, NAME.pem, NAME.chain.pem (leaf + CA),
# signed by the world's test CA (or CA: untrusted-ca) with `openssl ca`, as world.sh's pki_leaf does.
cb_leaf() {
	local p=$T/pki/$1 ca=$WORK/pki/${5:-ca} cn dates=
	mkdir -p "$T/pki"
	cn=${2%%,*}; cn=${cn#DNS:}
	[ -n "${3:-}" ] && dates="-startdate $3 -enddate $4"
	printf 'subjectAltName=%s\nextendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' "$2" >"$p.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p.key" \
		-out "$p.csr" -subj "/CN=$cn" 2>>"$T/openssl.log" &&
		openssl ca -batch -notext -config "$ca/ca.cnf" -in "$p.csr" -out "$p.pem" \
			-extfile "$p.ext" $dates >>"$T/openssl.log" 2>&1 &&
		cat "$p.pem" "$ca/ca.pem" >"$p.chain.pem" || fail "cb_leaf $1: openssl failed"
}

# cb_setup [CONFIG LINE...] - the installed pair ($CERT, $KEY: the world's client certificate,
# root:postern 0644/0640) with a copy in $T/old, the config $CONF (hostname, tls_cert, tls_key,
# pidfile + the extra lines), and the fake logger.
cb_setup() {
	local l
	mkdir -p "$T/tls" "$T/old" "$T/fakebin"
	CERT=$T/tls/client.pem KEY=$T/tls/client.key CONF=$T/postern.conf PIDFILE=$T/postern.pid
	cp "$WORK/pki/client.chain.pem" "$CERT"
	cp "$WORK/pki/client.key" "$KEY"
	chown root:postern "$CERT" "$KEY"
	chmod 0644 "$CERT"
	chmod 0640 "$KEY"
	cp -p "$CERT" "$KEY" "$T/old/"
	OLDSTAT=$(cb_stat)
	{
		echo "# postern.conf for the certbot hook tests"
		echo "hostname $CB_NAME"
		echo "tls_cert $CERT"
		echo "tls_key $KEY"
		echo "pidfile $PIDFILE"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\n' "$T/syslog" >"$T/fakebin/logger"
	chmod 0755 "$T/fakebin/logger"
}

# cb_stat - inode, mtime, ctime, owner, mode of the installed files (proves them untouched).
cb_stat() { stat -c '%n %i %y %z %U:%G %a' "$CERT" "$KEY"; }

# cb_lineage DOMAIN LEAF [KEYLEAF] - certbot's layout for LEAF's certificate (key from KEYLEAF,
# default LEAF): archive/DOMAIN/{cert,chain,fullchain,privkey}1.pem, live/DOMAIN/*.pem symlinks.
cb_lineage() {
	local a=$T/le/archive/$1 l=$T/le/live/$1 f
	mkdir -p "$a" "$l"
	cp "$T/pki/$2.pem" "$a/cert1.pem"
	cp "$WORK/pki/ca/ca.pem" "$a/chain1.pem"
	cp "$T/pki/$2.chain.pem" "$a/fullchain1.pem"
	cp "$T/pki/${3:-$2}.key" "$a/privkey1.pem"
	chmod 0600 "$a/privkey1.pem"
	for f in cert chain fullchain privkey; do ln -sfn "../../archive/$1/${f}1.pem" "$l/$f.pem"; done
	LINEAGE=$l
}

# cb_hook DOMAINS - run the hook as certbot does; output in $T/hook.out and $T/hook.err; its status.
# POSTERN_BIN is the built postern unless CB_BIN names a stub.
cb_hook() {
	local rc
	env RENEWED_LINEAGE="$LINEAGE" RENEWED_DOMAINS="$1" POSTERN_CONF="$CONF" \
		POSTERN_BIN="${CB_BIN:-$BIN}" PATH="$T/fakebin:$PATH" \
		"$HOOK" >"$T/hook.out" 2>"$T/hook.err"
	rc=$?
	echo "hook($1) -> $rc: $(cat "$T/hook.out" "$T/hook.err")" >&2
	return $rc
}

# cb_expect_untouched - the old pair is in place: same bytes, same inode/times/owner/mode, no temp file.
cb_expect_untouched() {
	cmp -s "$T/old/client.pem" "$CERT" || fail "tls_cert changed"
	cmp -s "$T/old/client.key" "$KEY" || fail "tls_key changed"
	expect_eq "stat of the installed pair" "$OLDSTAT" "$(cb_stat)"
	expect_eq "files in the tls dir" "client.key client.pem" "$(ls -A "$T/tls" | tr '\n' ' ' | sed 's/ $//')"
}

# cb_expect_refused DOMAINS WHAT - the hook exits 1, says one line on stderr holding WHAT, logs it
# at mail.err, and leaves the old pair untouched.
cb_expect_refused() {
	local rc
	cb_hook "$1"
	rc=$?
	expect_eq "exit status" 1 "$rc"
	expect_eq "stderr lines" 1 "$(wc -l <"$T/hook.err")"
	grep -qF -- "$2" "$T/hook.err" || fail "stderr lacks '$2': $(cat "$T/hook.err")"
	grep -q '^postern-certbot-hook: .*old files kept$' "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	grep -qF -- "-t postern-certbot -p mail.err -- " "$T/syslog" || fail "no mail.err syslog line: $(cat "$T/syslog")"
	grep -qF -- "$2" "$T/syslog" || fail "syslog lacks '$2'"
	cb_expect_untouched
}

# cb_expect_installed - the lineage's fullchain/privkey are installed, root:postern 0644/0640.
cb_expect_installed() {
	cmp -s "$LINEAGE/fullchain.pem" "$CERT" || fail "tls_cert is not the lineage's fullchain.pem"
	cmp -s "$LINEAGE/privkey.pem" "$KEY" || fail "tls_key is not the lineage's privkey.pem"
	expect_eq "tls_cert owner/mode" "root:postern 644" "$(stat -c '%U:%G %a' "$CERT")"
	expect_eq "tls_key owner/mode" "root:postern 640" "$(stat -c '%U:%G %a' "$KEY")"
	[ -L "$CERT" ] || [ -L "$KEY" ] && fail "installed a symlink"
	expect_eq "files in the tls dir" "client.key client.pem" "$(ls -A "$T/tls" | tr '\n' ' ' | sed 's/ $//')"
}

# cb_runner [nolock] - a stand-in periodic runner: holds $PIDFILE open and flock'ed as the real one
# does (libbsd pidfile_open), writes its pid there, appends "hup" to $T/hups on SIGHUP (the trap is set
# before the pid is published). With "nolock": a process that merely has its pid in the file (what a
# stale pidfile names once the system reuses the pid).
cb_runner() {
	local lock='exec 9>>"$1"; flock -n 9 || exit 1;'
	[ "${1:-}" = nolock ] && lock=
	sh -c "$lock"' trap "echo hup >>\"$2\"" HUP; echo $$ >"$1"; while :; do sleep 0.1; done' _ "$PIDFILE" "$T/hups" &
	echo $! >>"$T/pids"
	wait_for 5 test -s "$PIDFILE" || fail "the stand-in runner did not start"
}

# cb_stub NAME RC - $T/NAME: a postern that passes `config` on to $BIN, and records any other call in
# $T/bin.calls and exits RC.
cb_stub() {
	printf '#!/bin/sh\n[ "$3" = config ] && exec "%s" "$@"\necho "$*" >>"%s"\nexit %s\n' "$BIN" "$T/bin.calls" "$2" >"$T/$1"
	chmod 0755 "$T/$1"
}

hup_count() { if [ -f "$T/hups" ]; then wc -l <"$T/hups"; else echo 0; fi; }
hups_at_least() { [ "$(hup_count)" -ge "$1" ]; }

test_certbot_installs() {
	cb_setup
	cb_leaf new "DNS:$CB_NAME,DNS:postern.example"
	cb_lineage "$CB_NAME" new
	cb_hook "postern.example $CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	[ -s "$T/hook.err" ] && fail "stderr not empty: $(cat "$T/hook.err")"
	grep -q "installed the certificate for $CB_NAME" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	grep -q "no periodic queue runner is running" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	grep -qF -- "-t postern-certbot -p mail.info -- installed the certificate" "$T/syslog" || fail "syslog: $(cat "$T/syslog")"
	# the new pair really is a pair: openssl loads them together
	openssl x509 -in "$CERT" -noout -pubkey | cmp -s - <(openssl pkey -in "$KEY" -pubout) || fail "installed pair mismatched"
}

test_certbot_key_only_changes() {	# certbot --reuse-key: the key file is not replaced
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cp "$T/pki/new.key" "$KEY"	# the installed key is already the new one
	chown root:postern "$KEY"; chmod 0640 "$KEY"
	local before; before=$(stat -c '%i %y' "$KEY")
	cb_lineage "$CB_NAME" new
	cb_hook "$CB_NAME" || fail "hook exited $?"
	cb_expect_installed
	expect_eq "the key file (inode, mtime)" "$before" "$(stat -c '%i %y' "$KEY")"
}

test_certbot_mismatched_key() {
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_leaf other "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new other
	cb_expect_refused "$CB_NAME" "does not match the certificate"
}

test_certbot_expired() {
	cb_setup
	cb_leaf old "DNS:$CB_NAME" 20200101000000Z 20200201000000Z
	cb_lineage "$CB_NAME" old
	cb_expect_refused "$CB_NAME" "certificate has expired"
}

test_certbot_not_yet_valid() {
	cb_setup
	cb_leaf future "DNS:$CB_NAME" 20990101000000Z 20990201000000Z
	cb_lineage "$CB_NAME" future
	cb_expect_refused "$CB_NAME" "certificate not valid before Jan  1 00:00:00 2099 GMT"
}

test_certbot_wrong_name() {	# the lineage claims the domain, the certificate names another host
	cb_setup
	cb_leaf wrong "DNS:other.postern.example,DNS:postern.example"
	cb_lineage "$CB_NAME" wrong
	cb_expect_refused "$CB_NAME postern.example" "certificate does not name $CB_NAME"
}

test_certbot_foreign_chain() {	# the chain's CA did not sign the leaf
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cat "$T/pki/new.pem" "$WORK/pki/untrusted-ca/ca.pem" >"$T/pki/new.chain.pem"
	cb_lineage "$CB_NAME" new
	cb_expect_refused "$CB_NAME" "the chain does not certify the certificate"
}

test_certbot_damaged_files() {	# truncated, empty, missing, garbage: each refused
	local n f
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	f=$T/le/archive/$CB_NAME/fullchain1.pem
	n=$(wc -c <"$f")
	head -c $((n - 100)) "$T/pki/new.chain.pem" >"$f"	# cut inside the CA certificate
	cb_expect_refused "$CB_NAME" "fullchain.pem: does not parse (truncated?)"
	head -c $((n - 20)) "$T/pki/new.chain.pem" >"$f"	# cut inside the last END line
	cb_expect_refused "$CB_NAME" "fullchain.pem: does not parse (truncated?)"
	head -c 300 "$T/pki/new.chain.pem" >"$f"		# cut inside the leaf
	cb_expect_refused "$CB_NAME" "fullchain.pem: does not parse (truncated?)"
	sed '3s/^./@/' "$T/pki/new.chain.pem" >"$f"		# a corrupted base64 line
	cb_expect_refused "$CB_NAME" "fullchain.pem: does not parse"
	: >"$f"
	cb_expect_refused "$CB_NAME" "fullchain.pem: missing or empty"
	printf 'not a certificate\n' >"$f"
	cb_expect_refused "$CB_NAME" "fullchain.pem: no certificate in it"
	cp "$T/pki/new.chain.pem" "$f"
	f=$T/le/archive/$CB_NAME/privkey1.pem
	head -c 100 "$T/pki/new.key" >"$f"
	cb_expect_refused "$CB_NAME" "privkey.pem: not a readable private key"
	rm -f "$f"	# a dangling live/ symlink
	cb_expect_refused "$CB_NAME" "privkey.pem: missing or empty"
}

test_certbot_other_domain() {	# a lineage for another domain: exit 0, nothing changes
	cb_setup
	cb_leaf www "DNS:www.postern.example"
	cb_lineage www.postern.example www
	cb_runner
	cb_hook "www.postern.example" || fail "hook exited $?"
	grep -q "does not cover $CB_NAME: nothing to do" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	[ -s "$T/hook.err" ] && fail "stderr: $(cat "$T/hook.err")"
	# near misses: a parent wildcard two labels up, a suffix, a prefix
	for d in "*.example" "ail.postern.example" "mail.postern.example.evil" "*.mail.postern.example" "*."; do
		cb_hook "$d" || fail "hook exited $? for $d"
		grep -q "nothing to do" "$T/hook.out" || fail "acted on '$d': $(cat "$T/hook.out")"
	done
	cb_expect_untouched
	sleep 0.3
	expect_eq "SIGHUPs" 0 "$(hup_count)"
}

test_certbot_wildcard() {	# *.postern.example covers mail.postern.example (case-insensitively)
	cb_setup
	cb_leaf wild "DNS:*.postern.example,DNS:postern.example"
	cb_lineage postern.example wild
	cb_hook "postern.example *.Postern.Example" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
}

test_certbot_twice() {	# the second run changes nothing and reloads nothing
	local after
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_runner
	cb_hook "$CB_NAME" || fail "first run exited $?"
	cb_expect_installed
	wait_for 5 hups_at_least 1 || fail "the first run did not reload"
	after=$(cb_stat)
	sleep 1.1	# so that a rewrite would show in the times
	cb_hook "$CB_NAME" || fail "second run exited $?"
	grep -q "already installed" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	expect_eq "stat after the second run" "$after" "$(cb_stat)"
	sleep 0.3
	expect_eq "SIGHUPs" 1 "$(hup_count)"
}

test_certbot_reload() {	# postern tls-reload signals the runner that holds the pidfile
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_runner
	cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	wait_for 5 hups_at_least 1 || fail "the runner got no SIGHUP"
	grep -q "the periodic queue runner (pid $(cat "$PIDFILE")) re-reads" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
}

test_certbot_reload_binary() {	# the hook signals through postern tls-reload only; its failure fails the hook
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_leaf new2 "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_runner
	cb_stub postern-ok 0
	cb_stub postern-fail 75
	CB_BIN=$T/postern-ok cb_hook "$CB_NAME" || fail "hook exited $?"
	expect_eq "binary calls" "-C $CONF tls-reload" "$(cat "$T/bin.calls")"	# its own config, passed on
	sleep 0.3
	expect_eq "SIGHUPs from the hook itself" 0 "$(hup_count)"
	cb_lineage "$CB_NAME" new2	# a renewal: new files, the binary now fails
	CB_BIN=$T/postern-fail cb_hook "$CB_NAME"
	expect_eq "exit status when tls-reload fails" 1 "$?"
	cb_expect_installed
	grep -q "installed, but $T/postern-fail tls-reload failed" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	expect_eq "binary calls" "-C $CONF tls-reload -C $CONF tls-reload" "$(tr '\n' ' ' <"$T/bin.calls" | sed 's/ $//')"
	sleep 0.3
	expect_eq "SIGHUPs (no signal of its own)" 0 "$(hup_count)"
}

test_certbot_stale_pidfile() {	# a pidfile naming no process: nothing to signal, exit 0
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	sh -c 'echo $$ >"$1"' _ "$PIDFILE"
	cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	grep -q "no periodic queue runner is running (stale $PIDFILE" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	printf '12x\n' >"$PIDFILE"	# garbage: reported, certbot shows the failure
	cb_leaf new2 "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new2
	cb_hook "$CB_NAME"
	expect_eq "exit on a garbage pidfile" 1 "$?"
	cb_expect_installed
	grep -q "does not hold a process id" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
}

test_certbot_stale_pid_reused() {	# the pidfile's pid now belongs to another process: never signalled
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_runner nolock
	cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	grep -q "stale $PIDFILE: pid $(cat "$PIDFILE") does not hold it" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	"$BIN" -C "$CONF" tls-reload >"$T/reload.out" 2>&1 || fail "tls-reload exited $?: $(cat "$T/reload.out")"
	grep -q "stale" "$T/reload.out" || fail "tls-reload: $(cat "$T/reload.out")"
	sleep 0.3
	expect_eq "SIGHUPs to the unrelated process" 0 "$(hup_count)"
}

test_certbot_config_comments() {	# trailing comments: the parser's values, not the line's rest
	cb_setup
	sed -i "s|^tls_key .*|tls_key $KEY   # renewed by certbot|" "$CONF"
	echo "tls_cert_name relay.postern.example # the relay's name" >>"$CONF"
	cb_leaf relay "DNS:relay.postern.example"
	cb_lineage relay.postern.example relay
	cb_hook "relay.postern.example" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	grep -q "as $CERT (key $KEY)" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
}

test_certbot_config_refused() {	# a config that does not load, a value with white space: exit 1, untouched
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	echo "no_such_key 1" >>"$CONF"
	cb_hook "$CB_NAME"
	expect_eq "exit with a bad config" 1 "$?"
	grep -q "cannot read tls_cert from $CONF: .*unknown key" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	cb_expect_untouched
	sed -i '/^no_such_key/d' "$CONF"
	printf '#!/bin/sh\n[ "$4" = tls_key ] && { echo "/x/key.pem # renewed"; exit 0; }\nexec "%s" "$@"\n' "$BIN" >"$T/postern-blank"
	chmod 0755 "$T/postern-blank"
	CB_BIN=$T/postern-blank cb_hook "$CB_NAME"
	expect_eq "exit with a blank in a path" 1 "$?"
	grep -q "tls_key in $CONF holds white space: refused" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	cb_expect_untouched
	CB_BIN=$T/no-such-postern cb_hook "$CB_NAME"
	expect_eq "exit without the postern binary" 1 "$?"
	cb_expect_untouched
}

test_certbot_not_configured() {	# no tls_cert/tls_key: nothing to do
	cb_setup
	sed -i '/^tls_/d' "$CONF"
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_hook "$CB_NAME" || fail "hook exited $?"
	grep -q "tls_cert/tls_key not configured in $CONF: nothing to do" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	cb_expect_untouched
}

test_certbot_cert_name() {	# tls_cert_name wins over hostname; without both, the system's name as postern takes it
	cb_setup "tls_cert_name relay.postern.example"
	cb_leaf relay "DNS:relay.postern.example"
	cb_lineage relay.postern.example relay
	cb_hook "$CB_NAME" || fail "hook exited $?"
	grep -q "does not cover relay.postern.example" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	cb_expect_untouched
	cb_hook "relay.postern.example" || fail "hook exited $?: $(cat "$T/hook.err")"
	cb_expect_installed
	# neither key: the system's name, as postern takes it (gethostname, here already fully qualified;
	# `hostname -f` would say localhost, the first name of 127.0.0.1 in the world's /etc/hosts)
	local sys; sys=$(hostname)
	sed -i '/^hostname /d; /^tls_cert_name /d' "$CONF"
	cb_leaf sys "DNS:$sys"
	cb_lineage "$sys" sys
	cb_hook "$sys" || fail "hook exited $? for hostname = $sys: $(cat "$T/hook.err")"
	cb_expect_installed
}

test_certbot_combined_file() {	# tls_cert == tls_key: one file, key + chain, one rename, 0640
	cb_setup
	sed -i "s|^tls_key .*|tls_key $CERT|" "$CONF"
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	cat "$LINEAGE/privkey.pem" "$LINEAGE/fullchain.pem" | cmp -s - "$CERT" || fail "combined file wrong"
	expect_eq "combined file owner/mode" "root:postern 640" "$(stat -c '%U:%G %a' "$CERT")"
	cb_hook "$CB_NAME" || fail "second run exited $?"
	grep -q "already installed" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
}

test_certbot_usage() {	# not run by certbot, or a config that is not there
	cb_setup
	env -u RENEWED_LINEAGE POSTERN_CONF="$CONF" PATH="$T/fakebin:$PATH" "$HOOK" >"$T/hook.out" 2>"$T/hook.err"
	expect_eq "exit without RENEWED_LINEAGE" 1 "$?"
	grep -q "RENEWED_LINEAGE is not set" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	CONF=$T/missing.conf cb_hook "$CB_NAME"
	expect_eq "exit with a missing config" 1 "$?"
	grep -q "config $T/missing.conf: no such file" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
	cb_expect_untouched
}

test_certbot_creates_dir() {	# the first installation: the folder is made, root:postern 0750
	cb_setup
	cb_leaf new "DNS:$CB_NAME"
	cb_lineage "$CB_NAME" new
	sed -i "s|^tls_cert .*|tls_cert $T/nodir/tls/client.pem|; s|^tls_key .*|tls_key $T/nodir/tls/client.key|" "$CONF"
	CERT=$T/nodir/tls/client.pem KEY=$T/nodir/tls/client.key
	cb_hook "$CB_NAME" || fail "hook exited $?: $(cat "$T/hook.err")"
	expect_eq "the new folder" "root:postern 750" "$(stat -c '%U:%G %a' "$T/nodir/tls")"
	cmp -s "$LINEAGE/fullchain.pem" "$CERT" || fail "tls_cert not installed"
	cmp -s "$LINEAGE/privkey.pem" "$KEY" || fail "tls_key not installed"
	grep -q "created $T/nodir/tls (root:postern 0750)" "$T/hook.out" || fail "stdout: $(cat "$T/hook.out")"
	# a folder that cannot be made (a file is in the way): exit 1
	: >"$T/file"
	sed -i "s|^tls_cert .*|tls_cert $T/file/client.pem|; s|^tls_key .*|tls_key $T/file/client.key|" "$CONF"
	cb_hook "$CB_NAME"
	expect_eq "exit when the folder cannot be made" 1 "$?"
	grep -q "cannot create the folder $T/file" "$T/hook.err" || fail "stderr: $(cat "$T/hook.err")"
}
