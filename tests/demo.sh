#!/bin/sh
# demo.sh BUILD - postern's main job end to end, on a private spool and configuration, touching
# nothing system-wide and needing no root: make a DKIM key, submit a message as PHP's mail() does,
# list the queue, deliver it through a real receiving SMTP server (Debian's aiosmtpd) on loopback,
# and verify the DKIM signature of what arrived (python3-dkim).
set -eu
BUILD=$(readlink -f "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
sh "$HERE/deps.sh" demo

T=$(mktemp -d /tmp/postern-demo.XXXXXX)
SMTPD_PID=
cleanup() {
	[ -n "$SMTPD_PID" ] && kill "$SMTPD_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mkdir -p "$T/bin" "$T/spool/tmp" "$T/spool/new" "$T/spool/deferred" "$T/spool/data" "$T/inbox"
chmod 0770 "$T/spool" "$T/spool"/*
# as root on a host where postern is installed, the queue runner gives up root for the user postern
# (postern(8), SECURITY): let it reach the demo's spool and key as it would the installed ones
AS_POSTERN=
if [ "$(id -u)" -eq 0 ] && id postern >/dev/null 2>&1; then
	AS_POSTERN=1
	chmod 0711 "$T"
	chgrp -R postern "$T/spool"
	chmod 2770 "$T/spool" "$T/spool"/*
fi
for n in sendmail mailq; do ln -s "$BUILD/sendmail" "$T/bin/$n"; done
for n in postern runq; do ln -s "$BUILD/postern" "$T/bin/$n"; done
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

step "a receiving SMTP server on 127.0.0.1:$PORT (aiosmtpd)"
/usr/bin/python3 "$HERE/integration/smtpd.py" --listen "127.0.0.1:$PORT" --maildir "$T/inbox" \
	--hostname mx.example.net >"$T/smtpd.log" 2>&1 &
SMTPD_PID=$!
i=0
until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "demo: the SMTP server did not start" >&2; cat "$T/smtpd.log"; exit 1; }
	sleep 0.1
done

# (postern needs a fully qualified host name: the demo's configuration names one, so the demo does
# not depend on this machine's name)
cat >"$T/postern.conf" <<CONF
hostname mail.example.org
domain   example.org
spool    $T/spool
deliver  queue
smarthost 127.0.0.1:$PORT
smarthost_tls none
CONF
step "postern dkim-keygen example.org demo --type ed25519"
"$T/bin/postern" -C "$T/postern.conf" dkim-keygen example.org demo --type ed25519 --out "$T/demo.key"
[ -z "$AS_POSTERN" ] || { chgrp postern "$T/demo.key" && chmod 0640 "$T/demo.key"; }
echo "dkim     example.org demo $T/demo.key" >>"$T/postern.conf"
step "configuration ($T/postern.conf)"
cat "$T/postern.conf"

step "submit as PHP's mail() does: sendmail -t -i -fwebmaster@example.org"
printf 'To: Alice <alice@example.net>\nBcc: audit@example.net\nSubject: Hello from postern\n\nThis message was queued, signed and delivered by postern.\n' |
	"$T/bin/sendmail" -C "$T/postern.conf" -t -i -fwebmaster@example.org
echo "exit status $?"

step "mailq"
"$T/bin/mailq" -C "$T/postern.conf"

# (runq is what sendmail -q runs: installed, sendmail finds postern in /usr/sbin; the demo installs
# nothing, so it calls the queue side by its name here)
step "runq -v (deliver; installed, sendmail -q -v does the same)"
"$T/bin/runq" -C "$T/postern.conf" -v 2>&1 | sed 's/^/  /'

step "mailq"
"$T/bin/mailq" -C "$T/postern.conf"

step "what arrived"
f=$(ls "$T/inbox"/*.eml 2>/dev/null | head -n 1)
[ -n "$f" ] || { echo "demo: nothing arrived" >&2; exit 1; }
cat "$T/inbox"/*.env | sed 's/^/  envelope: /'
tr -d '\r' <"$f" | sed 's/^/  | /'

step "DKIM verification (python3-dkim, with the record postern dkim-record prints)"
"$T/bin/postern" -C "$T/postern.conf" dkim-record example.org demo | tee "$T/record" | sed -n 's/^  Value: /  published: /p'
REC=$(sed -n 's/^  Value: //p' "$T/record")
/usr/bin/python3 - "$f" "$REC" <<'PY'
import sys, dkim
msg = open(sys.argv[1], "rb").read()
rec = sys.argv[2].encode()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec if name.startswith(b"demo._domainkey.example.org") else None)
print("  DKIM signature:", "pass" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
step "done: submitted, queued, signed, delivered, verified"
