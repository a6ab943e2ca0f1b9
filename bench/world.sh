# world.sh - the benchmark world (bash, sourced by run.sh): the peers from Debian's packages in
# private roots, the mount overlays that give them their compiled-in paths, the SMTP sink, the
# messages, the DKIM keys and the configs. Every path lives under $WORK or bench/.cache; the host's
# /etc, /usr and /var/spool are only ever changed inside run.sh's private mount namespace.
#
# Peers (Debian bookworm): dma and nullmailer are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into bench/.cache/root/PKG (never installed: both ship /usr/sbin/sendmail or want
# /etc/dma, and they conflict with each other and with postern). msmtp is the installed package.
# The sink is postfix's smtp-sink, unpacked the same way from the postfix .deb and run from there.

PEER_PKGS="dma nullmailer postfix"

# peers_fetch CACHE - download and unpack the peers' .debs once (needs the network: call it outside
# the namespace). Prints one line per package it fetched.
peers_fetch() {
	local cache=$1 p deb
	mkdir -p "$cache/debs" "$cache/root"
	for p in $PEER_PKGS; do
		deb=$(ls "$cache/debs/${p}_"*.deb 2>/dev/null | head -n 1)
		if [ -z "$deb" ]; then
			echo "bench: apt-get download $p" >&2
			(cd "$cache/debs" && apt-get download "$p" >/dev/null 2>&1) ||
				{ echo "bench: apt-get download $p failed" >&2; return 1; }
			deb=$(ls "$cache/debs/${p}_"*.deb | head -n 1)
		fi
		if [ ! -d "$cache/root/$p/usr" ]; then
			rm -rf "$cache/root/$p"
			mkdir -p "$cache/root/$p"
			dpkg-deb -x "$deb" "$cache/root/$p" || return 1
		fi
	done
}

# peer_version PKG - the version of a fetched or installed package.
peer_version() {
	local deb
	deb=$(ls "$CACHE/debs/${1}_"*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ]; then
		dpkg-deb -f "$deb" Version
	else
		dpkg-query -W -f='${Version}' "$1" 2>/dev/null
	fi
}

# ------------------------------------------------------------------------------------ the namespace
# world_mounts - inside the namespace: loopback up, and the overlays:
#   /etc       read-only overlay, $WORK/etc on top of the host's /etc: /etc/dma/dma.conf,
#              /etc/nullmailer/*, /etc/mailname, and passwd/group with a postern user and group.
#   /usr       read-only overlay, nullmailer's and dma's unpacked /usr on top of the host's /usr
#              (nullmailer execs /usr/sbin/nullmailer-queue and /usr/lib/nullmailer/smtp by path).
#   /var/spool bind mount of $WORK/var-spool (nullmailer's compiled-in /var/spool/nullmailer).
# The overlays cost every process alike (postern included: its libc comes through /usr).
world_mounts() {
	ip link set lo up || return 1
	hostname mail.postern.example
	mount -t overlay overlay -o "lowerdir=$WORK/etc:/etc" /etc || return 1
	mount -t overlay overlay \
		-o "lowerdir=$CACHE/root/nullmailer/usr:$CACHE/root/dma/usr:/usr" /usr || return 1
	mount --bind "$WORK/var-spool" /var/spool || return 1
}

# world_etc - the staged /etc layer and the spools (before world_mounts).
world_etc() {
	local e=$WORK/etc
	mkdir -p "$e/dma" "$e/nullmailer" "$WORK/var-spool"
	cp /etc/passwd /etc/group "$e/"
	local id=999
	while cut -d: -f3 /etc/passwd /etc/group | grep -qx "$id"; do id=$((id - 1)); done
	grep -q '^postern:' /etc/group || echo "postern:x:$id:" >>"$e/group"
	grep -q '^postern:' /etc/passwd ||
		echo "postern:x:$id:$(grep '^postern:' "$e/group" | cut -d: -f3):postern:/nonexistent:/usr/sbin/nologin" >>"$e/passwd"
	echo mail.postern.example >"$e/mailname"
	# dma: smarthost = the sink; DEFER = submission only queues, `dma -q` delivers.
	cat >"$e/dma/dma.conf" <<-EOF
	SMARTHOST 127.0.0.1
	PORT 25
	SPOOLDIR $WORK/dma-spool
	ALIASES $WORK/etc/aliases
	MAILNAME mail.postern.example
	NULLCLIENT
	DEFER
	EOF
	: >"$e/aliases"
	: >"$e/dma/auth.conf"
	# nullmailer: the sink as its remote; pausetime 0 = nullmailer-send exits after one pass.
	echo "127.0.0.1 smtp port=25" >"$e/nullmailer/remotes"
	echo postern.example >"$e/nullmailer/defaultdomain"
	echo 0 >"$e/nullmailer/pausetime"
	chmod 0644 "$e/nullmailer/"* "$e/dma/dma.conf" "$e/mailname"
	# msmtp: synchronous delivery to the sink.
	cat >"$WORK/msmtprc" <<-EOF
	account default
	host 127.0.0.1
	port 25
	auth off
	tls off
	domain mail.postern.example
	from sender@postern.example
	EOF
	chmod 0600 "$WORK/msmtprc"
}

# spools_reset - empty spools for every queueing peer (dma, nullmailer, postern).
spools_reset() {
	local s=$WORK/postern-spool n=$WORK/var-spool/nullmailer
	rm -rf "$WORK/dma-spool" "$s" "$n"
	mkdir -p "$WORK/dma-spool" "$s/tmp" "$s/new" "$s/deferred" "$s/data"
	chown root:mail "$WORK/dma-spool"
	chmod 2775 "$WORK/dma-spool"
	chown -R root:postern "$s"
	chmod 0770 "$s" "$s"/*
	mkdir -p "$n/queue" "$n/tmp" "$n/failed"
	mkfifo "$n/trigger"
	chown -R mail:mail "$n"
	chmod 0700 "$n/queue" "$n/tmp" "$n/failed"
	chmod 0600 "$n/trigger"
	sync
}

# queue_count PEER - messages waiting in PEER's spool.
queue_count() {
	case $1 in
	postern*) find "$WORK/postern-spool/new" "$WORK/postern-spool/deferred" -type f | wc -l ;;
	dma) find "$WORK/dma-spool" -type f -name 'M*' | wc -l ;;
	nullmailer) find "$WORK/var-spool/nullmailer/queue" -type f | wc -l ;;
	*) echo 0 ;;
	esac
}

# ------------------------------------------------------------------------------------------ the sink
# postfix's smtp-sink on 127.0.0.1:25: accepts and discards; -c prints running counters
# (sess= quit= mesg=) to its stdout, which sink_count reads. Run as `nobody`.
sink_start() {
	local bin=$CACHE/root/postfix/usr/sbin/smtp-sink
	LD_LIBRARY_PATH=$CACHE/root/postfix/usr/lib/postfix \
		"$bin" -u nobody -h sink.bench.example -c 127.0.0.1:25 1024 >"$WORK/sink.out" 2>"$WORK/sink.err" &
	SINK_PID=$!
	local i
	for i in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: smtp-sink did not start: $(cat "$WORK/sink.err")" >&2
	return 1
}

# sink_count - messages the sink has accepted so far.
sink_count() {
	local n
	n=$(tail -c 200 "$WORK/sink.out" 2>/dev/null | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n 1)
	echo "${n#mesg=}" | grep -E '^[0-9]+$' || echo 0
}

# sink_wait N STALL - wait until the sink has accepted N messages in all; 1 when its count has not
# moved for STALL seconds. (Polls every 20 ms: call it after a foreground runner has exited, so the
# polling does not compete with the runner for the CPUs.)
sink_wait() {
	local want=$1 stall=$2 c last=-1 since=$SECONDS
	while c=$(sink_count) && [ "$c" -lt "$want" ]; do
		if [ "$c" -ne "$last" ]; then
			last=$c
			since=$SECONDS
		elif [ $((SECONDS - since)) -ge "$stall" ]; then
			return 1
		fi
		sleep 0.02
	done
}

# smtp_source ARGS... - postfix's load generator (used to measure the sink's ceiling).
smtp_source() {
	LD_LIBRARY_PATH=$CACHE/root/postfix/usr/lib/postfix "$CACHE/root/postfix/usr/sbin/smtp-source" "$@"
}

# ------------------------------------------------------------------------------------- the messages
# msg_make FILE SIZE - a plain-text message of about SIZE bytes (LF line ends, as local callers send).
msg_make() {
	{
		echo "From: Bench Sender <sender@postern.example>"
		echo "To: Bench Rcpt <rcpt@sink.bench.example>"
		echo "Subject: postern benchmark message"
		echo "Date: $(date -R)"
		echo "Message-ID: <bench.$$.$RANDOM@postern.example>"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=us-ascii"
		echo
		local i=0
		while :; do
			printf 'Line %04d of the benchmark body: the quick brown fox jumps over the lazy dog.\n' $i
			i=$((i + 1))
		done | head -c "$(($2 - 320))"
		echo
	} >"$1"
}

# msg_make_big FILE MIB - a MIME message: a short text part and MIB MiB of base64 random data in
# 76-character lines.
msg_make_big() {
	local raw=$(($2 * 1048576 * 57 / 77))
	{
		echo "From: Bench Sender <sender@postern.example>"
		echo "To: Bench Rcpt <rcpt@sink.bench.example>"
		echo "Subject: postern benchmark: $2 MiB attachment"
		echo "Date: $(date -R)"
		echo "Message-ID: <bench.big.$$.$RANDOM@postern.example>"
		echo "MIME-Version: 1.0"
		echo 'Content-Type: multipart/mixed; boundary="=-bench-boundary"'
		echo
		echo "--=-bench-boundary"
		echo "Content-Type: text/plain; charset=us-ascii"
		echo
		echo "A large attachment follows."
		echo
		echo "--=-bench-boundary"
		echo "Content-Type: application/octet-stream"
		echo "Content-Transfer-Encoding: base64"
		echo 'Content-Disposition: attachment; filename="random.bin"'
		echo
		head -c "$raw" /dev/urandom | base64 -w 76
		echo
		echo "--=-bench-boundary--"
	} >"$1"
}

# ----------------------------------------------------------------------------------------- postern
# bench_install POSTERN DIR - DIR/sendmail (POSTERN's sibling, root:postern 2755) and DIR/postern
# (0755, with DIR/runq), when POSTERN is built.
bench_install() {
	local sm
	[ -n "$1" ] && [ -f "$1" ] || return 0
	sm=$(dirname "$1")/sendmail
	mkdir -p "$2"
	cp "$1" "$2/postern"
	chmod 0755 "$2/postern"
	ln -sf postern "$2/runq"
	cp "$sm" "$2/sendmail"
	chown root:postern "$2/sendmail"
	chmod 2755 "$2/sendmail"
}
# postern_setup - DKIM keys (generated now, root:postern 0640) and four configs:
# $WORK/postern-plain.conf, -rsa.conf (RSA-2048), -ed25519.conf, -both.conf (both keys). Delivery
# goes to the sink as a smarthost without TLS; submission only queues (deliver queue, and -odq on the command line).
postern_setup() {
	local k=$WORK/keys v
	# Installed as a real install would be (DESIGN.md): the front door (sendmail, next to $POSTERN)
	# root:postern 2755, so the spool files it makes belong to group postern and the runner (which
	# drops to user postern) can read them; postern (the queue side) 0755, called as runq for the
	# queue runs (what sendmail -q execs from /usr/sbin, which here is nullmailer's overlay).
	mkdir -p "$k" "$WORK/bin"
	bench_install "$POSTERN" "$WORK/bin"
	# POSTERN_STATIC: the same tree built with `make OPENSSL=static` (default: build-static/postern if
	# it exists), measured as an extra latency row (OpenSSL is postern's only: the front door has none)
	POSTERN_STATIC=${POSTERN_STATIC-$REPO/build-static/postern}
	bench_install "$POSTERN_STATIC" "$WORK/bin-static"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/rsa.pem" 2>/dev/null
	openssl genpkey -algorithm ed25519 -out "$k/ed25519.pem" 2>/dev/null
	chown root:postern "$k" "$k"/*.pem
	chmod 0750 "$k"
	chmod 0640 "$k"/*.pem
	for v in plain rsa ed25519 both; do
		{
			echo "hostname mail.postern.example"
			echo "domain postern.example"
			echo "spool $WORK/postern-spool"
			echo "deliver queue"
			echo "max_size 0"	# the big message is 50 MiB, over the 50 MB default; the peers have no limit
			echo "smarthost 127.0.0.1:25"
			echo "smarthost_tls none"
			# the sink is one destination: let all max_connections (4) go to it, as dma's
			# parallel deliveries do (the default, 2, is for receivers with connection limits)
			echo "max_per_destination 4"
			echo "tls none"
			case $v in
			rsa) echo "dkim postern.example rsa2048 $k/rsa.pem" ;;
			ed25519) echo "dkim postern.example ed25519 $k/ed25519.pem" ;;
			both)
				echo "dkim postern.example rsa2048 $k/rsa.pem"
				echo "dkim postern.example ed25519 $k/ed25519.pem" ;;
			esac
		} >"$WORK/postern-$v.conf"
		chmod 0644 "$WORK/postern-$v.conf"
	done
}

# postern_probe - does $POSTERN queue a message? Sets POSTERN_OK=1, or POSTERN_WHY to the reason.
postern_probe() {
	POSTERN_OK=0
	if [ -z "$POSTERN" ] || [ ! -x "$POSTERN" ]; then
		POSTERN_WHY="no postern binary at ${POSTERN:-(unset)}"
		return 0
	fi
	spools_reset
	local v out
	for v in plain rsa ed25519; do
		if ! out=$("$WORK/bin/sendmail" -C "$WORK/postern-$v.conf" -odq -t -f sender@postern.example \
			<"$WORK/msg-2k.eml" 2>&1); then
			POSTERN_WHY="'sendmail -C postern-$v.conf -odq -t' failed: $(echo "$out" | head -n 1)"
			return 0
		fi
	done
	if [ "$(queue_count postern)" -ne 3 ]; then
		POSTERN_WHY="postern exited 0 but queued $(queue_count postern) of 3 probe messages"
		return 0
	fi
	POSTERN_OK=1
}

# ------------------------------------------------------------------------------------------- peers
# submit_cmd PEER [VARIANT] - the shell command that submits one message read from stdin, queue
# only (msmtp: synchronous delivery to the sink).
submit_cmd() {
	local f="-f sender@postern.example"
	case $1 in
	postern) echo "$WORK/bin/sendmail -C $WORK/postern-${2:-plain}.conf -odq -t $f" ;;
	postern-signs|postern-signed) echo "$WORK/bin/sendmail -C $WORK/postern-both.conf -odq -t $f" ;;
	postern-static) echo "$WORK/bin-static/sendmail -C $WORK/postern-${2:-plain}.conf -odq -t $f" ;;
	dma) echo "/usr/sbin/dma -t $f" ;;
	nullmailer) echo "/usr/sbin/sendmail -t $f" ;;
	msmtp) echo "/usr/bin/msmtp -C $WORK/msmtprc -t $f" ;;
	esac
}

# runq_cmd PEER - the command that delivers the whole queue once, to the sink.
runq_cmd() {
	case $1 in
	postern) echo "$WORK/bin/runq -C $WORK/postern-plain.conf" ;;
	postern-signs|postern-signed) echo "$WORK/bin/runq -C $WORK/postern-both.conf" ;;
	dma) echo "/usr/sbin/dma -D -q" ;;
	nullmailer) echo "/usr/sbin/nullmailer-send" ;;	# pausetime 0: one pass, then exit
	esac
}
