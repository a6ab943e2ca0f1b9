#!/bin/sh
# run.sh BUILD - postern's integration tests: the built programs (BUILD/sendmail, the front door, and
# BUILD/postern, the queue side) against a real world.
#
# THE WORLD. run.sh re-executes itself inside `unshare --net --mount --uts --pid --fork --mount-proc`
# (must run as root), so nothing leaves the namespace and every process dies with it:
#   - network: only loopback, brought up; all of 127.0.0.0/8 is local.
#   - /etc/resolv.conf is bind-mounted from the work dir: "nameserver 127.0.0.53", attempts:1
#     timeout:1; /etc/hosts too; /etc/passwd and /etc/group get the world's own `postern` user and
#     group (the runner drops to it) in place of any the system has; the host's /etc/postern, if
#     any, is hidden under an empty tmpfs. The UTS hostname is mail.postern.example.
#   - the two programs where each looks for the other (lib/rerun.h; BUILD/paths, written by make,
#     names those paths: /usr/sbin/postern and /usr/sbin/sendmail by default): an overlay over that
#     folder, private to the namespace, holds links to BUILD/postern and BUILD/sendmail, so that
#     sendmail -q, the run after a submission and the runner's bounces use the build, never a
#     postern or sendmail the host may have installed.
#   - DNS: NSD (Debian's nsd), authoritative on 127.0.0.53:53, zones generated at start (world.sh):
#       example.            parent zone; nxdomain.example is absent (NXDOMAIN)
#       mx-pref.example     MX 10 mx1 (127.0.0.11), MX 20 mx2 (127.0.0.12)
#       implicit.example    no MX, A 127.0.0.13
#       nullmx.example      MX 0 . (RFC 7505), A 127.0.0.13
#       fallback.example    MX 10 bad.fallback.example (127.0.0.14), MX 20 mx1.mx-pref.example
#       badcert.example     MX 10 mx.badcert.example (127.0.0.16)
#       smarthost.example   A 127.0.0.20
#       postern.example     the sender: MX mx.postern.example (127.0.0.15, where bounces land),
#                           mail A 127.0.0.1 (and SPF), myip A 127.0.0.1 (for postern check),
#                           SPF, _dmarc, DKIM keys rsa2048._domainkey and
#                           ed25519._domainkey (generated at start with openssl)
#       127.in-addr.arpa    PTR for every address above (127.0.0.1 = mail.postern.example)
#     dns_add ZONE "NAME TTL TYPE DATA" publishes more (SIGHUP to NSD, waits for the new serial).
#   - PKI ($WORK/pki, openssl): a test CA (pki/ca/ca.pem) and leaf certs: server (every MX name),
#     server-wrongname, server-untrusted (other CA), server-expired (2020), smarthost, client
#     (mail.postern.example, clientAuth). DKIM keys in $WORK/keys (root:postern 0640).
#   - MTAs: smtpd.py (aiosmtpd, Debian's python3), started PER TEST with the behaviour it needs
#     (smtpd_start NAME IP:PORT [--tls] [--greet-421|--stall|--rcpt-4xx N|--rcpt-5xx GLOB|
#     --drop-mid-data|...]); messages land byte-exact in $T/mail/NAME/N.eml with N.env (envelope,
#     TLS, client cert, AUTH user). smarthost_start: 127.0.0.20:587 STARTTLS+AUTH, :465 TLS+AUTH.
#     Nothing listening on an address = a refusing server.
#   - DKIM verifiers: verify_dkimpy (dkimverify), verify_opendkim (opendkim-testmsg),
#     verify_maildkim (Mail::DKIM); each passes only if every signature passes.
#
# FILES: run.sh (this harness), world.sh (DNS, PKI, servers, verifiers, helpers), smtpd.py (the
# MTA), slowsmtpd.py (smtpd.py with a slow DATA phase), faultsmtpd.py (a fast server that misbehaves
# on purpose), faultfs.c (an LD_PRELOAD shim: storage failures on demand), maildkim.pl (Mail::DKIM
# verifier), maildmarc.pl (Mail::DMARC on a message's signatures), mimebody.py (a message's decoded
# body), postern.sh (postern_env, pm, queue_run, expect_*), dkim.sh (message shapes and verifiers for
# t_50_dkim.sh), t_00_world.sh (self-tests of the world: must always pass), then t_NN_*.sh, one file
# per area (each opens with what it covers). The front door runs as `$T/bin/sendmail -C $T/postern.conf`
# ($SM is BUILD/sendmail); the queue side as $BIN (BUILD/postern) or $T/bin/postern.
#
# TESTS are functions test_NAME in tests/integration/t_*.sh (files in order, functions in order).
# Each runs in its own process (bash run.sh --test NAME) with $T = a fresh directory, under a
# timeout (TEST_TIMEOUT, default 120 s: it catches a hang, it times nothing); the servers it started
# are killed when it ends. It prints
# `ok - NAME`, `not ok - NAME: reason` (reason from `fail`), or `ok - NAME # SKIP reason` when it
# called `skip` (something optional it needs, such as spamassassin, is missing). Environment:
#   INTEGRATION_SKIP="glob ..."  skip tests whose NAME matches (printed as "ok - NAME # SKIP")
#   INTEGRATION_ONLY="glob ..."  run only these          KEEP=1  keep the work dir (path printed)
#   VERBOSE=1  show each failed test's output            TEST_TIMEOUT=seconds
# The last line is always `integration: N passed, N failed` (", N skipped" when tests skipped); the
# exit status is non-zero on failure.
# Run by a normal user, nothing can run: `integration: 0 passed, 0 failed, N skipped`, exit 0.
#
# Debian packages: nsd bind9-dnsutils python3-aiosmtpd python3-dkim python3-dnspython opendkim-tools
# libmail-dkim-perl libnet-dns-perl libcryptx-perl openssl swaks iproute2 util-linux coreutils;
# spamassassin (optional: the test that scores postern's mail is skipped without it).

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

HERE=$(cd "$(dirname "$0")" && pwd)
SKIP_RC=77	# a test's exit status for "skipped" (world.sh's skip; automake's convention)
export SKIP_RC

summary_fail() {	# summary_fail REASON - the world could not run at all
	echo "integration: $*" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
}

# outer BINARY - checks, the work dir, the namespace, the summary, the clean-up.
outer() {
	local build=${1:-} work rc summary
	[ -n "$build" ] || summary_fail "usage: run.sh BUILD"
	if [ "$(id -u)" -ne 0 ]; then	# a normal user: every test is skipped, none failed
		echo "# SKIP the integration world needs root (private network and mount namespaces)"
		echo "integration: 0 passed, 0 failed, $(list_tests | wc -l) skipped"
		return 0
	fi
	for c in unshare ip nsd nsd-checkconf dig openssl swaks timeout opendkim-testmsg perl \
		/usr/bin/python3 /usr/bin/dkimverify; do
		command -v "$c" >/dev/null || summary_fail "missing command $c (run tests/deps.sh)"
	done
	case $build in /*) ;; *) build=$PWD/$build ;; esac
	[ -x "$build/sendmail" ] && [ -x "$build/postern" ] || summary_fail "no $build/sendmail and $build/postern (make all)"
	work=$(mktemp -d /tmp/postern-it.XXXXXX) || summary_fail "mktemp failed"
	chmod 0755 "$work"	# the runner, as user postern, must reach the spools inside
	unshare --net --mount --uts --pid --fork --mount-proc --propagation private \
		bash "$HERE/run.sh" --inside "$build" "$work"
	rc=$?
	summary=$(cat "$work/summary" 2>/dev/null)
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# work dir kept: $work"
	else
		rm -rf "$work"
	fi
	[ -n "$summary" ] || { echo "# the namespace exited with $rc before a summary" >&2; summary="integration: 0 passed, 1 failed"; }
	echo "$summary"
	case $summary in *" 0 failed" | *" 0 failed, "*" skipped") [ "$rc" -eq 0 ] ;; *) return 1 ;; esac
}

# inside BUILD WORK - in the namespaces: set up the host side, start the world, run every test.
inside() {
	export BUILD=$1 BIN=$1/postern SM=$1/sendmail WORK=$2 HERE
	local t0 pass=0 failed=0 skipped=0 name reason rc
	cd "$WORK" || exit 1
	. "$HERE/world.sh"
	if ! world_host_setup >"$WORK/setup.log" 2>&1; then
		echo "not ok - world: host setup failed: $(tail -n 1 "$WORK/setup.log")"
		echo "integration: 0 passed, 1 failed" >"$WORK/summary"
		exit 1
	fi
	t0=$EPOCHREALTIME
	if ! { pki_dkim_keys && pki_start && dns_start; } >>"$WORK/setup.log" 2>&1; then
		echo "not ok - world: start failed (see setup.log): $(tail -n 1 "$WORK/setup.log")"
		echo "integration: 0 passed, 1 failed" >"$WORK/summary"
		exit 1
	fi
	echo "# world up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; work dir $WORK"
	for name in $(list_tests); do
		if skipped "$name"; then
			echo "ok - $name # SKIP"
			continue
		fi
		mkdir -p "$WORK/t/$name"
		chmod 0755 "$WORK/t" "$WORK/t/$name"
		timeout -k 5 "${TEST_TIMEOUT:-120}" bash "$HERE/run.sh" --test "$name" \
			>"$WORK/t/$name/out" 2>&1 </dev/null
		rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "ok - $name"
			pass=$((pass + 1))
			continue
		fi
		if [ "$rc" -eq "$SKIP_RC" ]; then	# the test said `skip REASON`: counted, not failed
			echo "ok - $name # SKIP $(head -n 1 "$WORK/t/$name/reason" 2>/dev/null)"
			skipped=$((skipped + 1))
			continue
		fi
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			reason="timed out after ${TEST_TIMEOUT:-120} s"
		elif [ -s "$WORK/t/$name/reason" ]; then
			reason=$(head -n 1 "$WORK/t/$name/reason")
		else
			reason="exit $rc: $(grep -v '^+' "$WORK/t/$name/out" | tail -n 1)"
		fi
		echo "not ok - $name: $reason"
		[ "${VERBOSE:-0}" = 1 ] && sed 's/^/#   /' "$WORK/t/$name/out" | tail -n 40
		failed=$((failed + 1))
	done
	kill "$(cat "$WORK/dns/nsd.ppid")" 2>/dev/null
	if [ "$skipped" -gt 0 ]; then
		echo "integration: $pass passed, $failed failed, $skipped skipped" >"$WORK/summary"
	else
		echo "integration: $pass passed, $failed failed" >"$WORK/summary"
	fi
	[ "$failed" -eq 0 ]
}

# world_host_setup - loopback, hostname, resolv.conf, hosts, passwd/group (all private mounts).
world_host_setup() {
	set -e
	mount --make-rprivate /
	ip link set lo up
	hostname mail.postern.example
	mkdir -p "$WORK/etc"
	printf 'nameserver 127.0.0.53\noptions attempts:1 timeout:1\n' >"$WORK/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost mail.postern.example\n' >"$WORK/etc/hosts"
	# our own postern user and group, whatever the host has (a postern group without the user once
	# made the runner's primary group differ from the spool's): the host's lines are dropped, ours
	# get one id free as uid and gid in both files
	grep -v '^postern:' /etc/passwd >"$WORK/etc/passwd" || :
	grep -v '^postern:' /etc/group >"$WORK/etc/group" || :
	local id=990
	while cut -d: -f3 "$WORK/etc/passwd" "$WORK/etc/group" | grep -qx "$id"; do id=$((id + 1)); done
	echo "postern:x:$id:" >>"$WORK/etc/group"
	echo "postern:x:$id:$id:postern test:/nonexistent:/usr/sbin/nologin" >>"$WORK/etc/passwd"
	chmod 0644 "$WORK"/etc/*
	for f in resolv.conf hosts passwd group; do
		[ -e "/etc/$f" ] || { rm -f "/etc/$f"; : >"/etc/$f"; }	# a dangling symlink
		mount --bind "$WORK/etc/$f" "/etc/$f"
	done
	# the host's postern configuration (aliases, keys) must not leak in: an empty folder over it
	if [ -d /etc/postern ]; then mount -t tmpfs -o mode=0755,size=1m tmpfs /etc/postern; fi
	world_programs
	set +e
}

# world_programs - BUILD/postern and BUILD/sendmail at the paths compiled into them (BUILD/paths:
# "POSTERN_PATH SENDMAIL_PATH"), through an overlay over each path's folder (its upper layer in the
# work dir), so that the rest of the folder (ip, nsd, ...) stays as the host has it.
world_programs() {
	local paths p dir n=0 target
	paths=$(cat "$BUILD/paths" 2>/dev/null) || paths="/usr/sbin/postern /usr/sbin/sendmail"
	target=$BIN
	for p in $paths; do
		dir=$(dirname "$p")
		if ! findmnt -n -t overlay "$dir" >/dev/null; then
			n=$((n + 1))
			mkdir -p "$WORK/ovl$n/upper" "$WORK/ovl$n/work"
			mount -t overlay overlay -o "lowerdir=$dir,upperdir=$WORK/ovl$n/upper,workdir=$WORK/ovl$n/work" "$dir"
		fi
		ln -sfn "$target" "$p"
		target=$SM	# (the first path is postern's, the second sendmail's)
	done
}

# list_tests - test names, in file order then definition order.
list_tests() {
	local f
	for f in "$HERE"/t_*.sh; do
		sed -n 's/^test_\([A-Za-z0-9_]*\)[ ]*()[ ]*{.*/\1/p' "$f"
	done
}

# skipped NAME - true if INTEGRATION_SKIP matches NAME or INTEGRATION_ONLY does not.
skipped() {
	local g
	if [ -n "${INTEGRATION_ONLY:-}" ]; then
		for g in $INTEGRATION_ONLY; do
			# shellcheck disable=SC2053
			[[ $1 == $g ]] && break
			g=
		done
		[ -n "$g" ] || return 0
	fi
	for g in ${INTEGRATION_SKIP:-}; do
		# shellcheck disable=SC2053
		[[ $1 == $g ]] && return 0
	done
	return 1
}

# one_test NAME - the child process running one test (inside the world, under timeout).
one_test() {
	local f
	T=$WORK/t/$1
	export T
	. "$HERE/world.sh"
	. "$HERE/postern.sh"
	for f in "$HERE"/t_*.sh; do . "$f"; done
	cd "$T" || exit 1
	trap test_cleanup EXIT
	# the last command of a pipeline runs in this shell, so `printf ... | submit` failing fails the test
	shopt -s lastpipe
	set -x
	"test_$1"
}

# test_cleanup - kill this test's servers.
test_cleanup() {
	local rc=$? p
	set +x
	if [ -f "$T/pids" ]; then
		while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
		while read -r p; do wait "$p" 2>/dev/null; done <"$T/pids"
	fi
	exit $rc
}

case ${1:-} in
--inside) shift; inside "$@" ;;
--test) shift; one_test "$1" ;;
*) outer "$@" ;;
esac
