#!/bin/sh
# tests/deb/run.sh - the Debian package in a fresh Debian 12 root (make deb-check; needs root and the
# Debian mirror that apt uses). Not part of make check: it builds the package twice and installs
# packages from the mirror, which takes minutes.
#
# usage: sh tests/deb/run.sh --deps        install what the test and make deb need (as root)
#        sh tests/deb/run.sh POSTERN.deb   the test; ends with "deb: N passed, N failed"
#
# The world: a minbase bookworm root made by mmdebstrap from the mirror in /etc/apt/sources.list*
# (POSTERN_DEB_MIRROR overrides it), cached as a tarball in POSTERN_DEB_CACHE
# (/var/cache/postern-deb-check; delete it to start afresh, it is remade after a week) together with
# the packages apt downloads into it. Each run unpacks the tarball into a new folder and works in it
# through chroot, in its own mount and UTS namespaces, under the host name mail.postern.example.
# Services are not started there (policy-rc.d), and the submission runs without a network, so the
# message stays queued. The steps: exim4-daemon-light and bsd-mailx; the postern package replaces
# exim4 and keeps bsd-mailx; mail(1) queues a message; mailutils does not bring exim4 back; an upgrade
# to a package rebuilt from this tree with a higher version (built in the root with only what
# apt-get build-dep installs, which checks Build-Depends) keeps the message and a local
# dpkg-statoverride; remove keeps the spool and the configuration; purge with mail in the spool keeps
# the spool and its user; purge with an empty spool leaves nothing of postern's behind. lintian too.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

if [ "${1:-}" = --deps ]; then
	pkgs="dpkg-dev debhelper fakeroot lintian mmdebstrap pkg-config musl-tools libssl-dev libbsd-dev libcriterion-dev"
	missing=
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deb: missing packages; run as root: apt-get install -y$missing" >&2
		exit 1
	fi
	echo "deb: installing$missing"
	apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "deb: apt-get install failed" >&2; exit 1; }
	exit 0
fi

[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 --deps | $0 POSTERN.deb" >&2; exit 64; }
[ "$(id -u)" -eq 0 ] || { echo "deb: needs root (chroot, namespaces)" >&2; exit 77; }
deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

# a private mount and UTS namespace: every mount below goes away with it, the host name is ours
if [ -z "${POSTERN_DEB_NS:-}" ]; then
	POSTERN_DEB_NS=1 exec unshare --mount --uts --propagation private sh "$0" "$deb"
fi
hostname mail.postern.example

cache=${POSTERN_DEB_CACHE:-/var/cache/postern-deb-check}
suite=bookworm
mirror=${POSTERN_DEB_MIRROR:-$(sed -n \
	-e 's,^URIs:[[:space:]]*\([^[:space:]]*/debian\)/\{0,1\}[[:space:]]*$,\1,p' \
	-e 's,^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*/debian\)/\{0,1\}[[:space:]]\{1,\}bookworm[[:space:]].*,\2,p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/postern-deb.XXXXXX)
root=$work/root
# cleanup - unmount, then remove the folder; never through a mount that is still there (the host's /dev)
cleanup() {
	for m in var/cache/apt/archives dev proc; do
		mountpoint -q "$root/$m" && umount -R "$root/$m"
	done
	if grep -q " $work/" /proc/self/mountinfo; then
		echo "deb: $work: still mounted, left in place" >&2
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }
# t NAME CODE - a check: ok when the shell code CODE succeeds (its output is shown when it fails)
t() { if out=$(eval "$2" 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi; }
finish() { echo "deb: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
# c CMD... - CMD in the root
c() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"; }
# apt ARGS... - apt-get in the root, its output kept in $work/apt.log
apt() { c apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >"$work/apt.log" 2>&1 ||
	{ tail -n 20 "$work/apt.log" | sed 's/^/#   /'; return 1; }; }
installed() { c dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
gone() { ! installed "$1"; }
mode() { [ "$(c stat -c '%U:%G %a' "$1" 2>&1)" = "$2" ] || { c stat -c '%n is %U:%G %a' "$1" 2>&1; return 1; }; }
# link_to LINK - where the symbolic link LINK of the root points, as an absolute path in the root
link_to() { local l; l=$(readlink "$root$1") || return 1; case $l in /*) echo "$l" ;; *) realpath -ms "$(dirname "$1")/$l" ;; esac; }
queued() { c mailq 2>&1 | grep -q "in $1 Request" || { c mailq 2>&1; return 1; }; }
absent() { for f; do if [ -e "$root$f" ] || [ -L "$root$f" ]; then echo "$f is still there"; return 1; fi; done; }
present() { for f; do [ -e "$root$f" ] || { echo "$f is missing"; return 1; }; done; }
# nothing_left - no file, user or group of postern's outside dpkg's and apt's own records
nothing_left() {
	left=$(cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/lib/dpkg \
		-o -path ./var/cache -o -path ./var/log -o -path ./var/lib/apt \) -prune -o -print | grep -i postern)
	users=$(grep -h '^postern:' "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" "$root/etc/gshadow" 2>/dev/null)
	so=$(c dpkg-statoverride --list | grep postern)
	[ -z "$left$users$so" ] || { printf '%s\n' "$left" "$users" "$so"; return 1; }
}

# the root: the cached tarball (made once a week), unpacked afresh
mkdir -p "$cache/archives/partial"
tarball=$cache/$suite-minbase.tar
if [ -z "$(find "$tarball" -mtime -7 2>/dev/null)" ]; then
	echo "# mmdebstrap $suite from $mirror into $tarball"
	mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
		"$suite" "$tarball.new" "deb $mirror $suite main" "deb $mirror $suite-updates main" >"$work/mmdebstrap.log" 2>&1 &&
		mv "$tarball.new" "$tarball" ||
		{ tail -n 20 "$work/mmdebstrap.log"; rm -f "$tarball.new"; not_ok "mmdebstrap $suite"; finish; }
fi
mkdir "$root"
tar -C "$root" -xf "$tarball" || { not_ok "unpack $tarball"; finish; }
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1 localhost\n127.0.1.1 mail.postern.example mail\n' >"$root/etc/hosts"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"
apt update || { not_ok "apt-get update in the root"; finish; }

# 1. the MTA Debian installs by default, and a mail client that needs one
t "exim4-daemon-light and bsd-mailx install" 'apt install exim4-daemon-light bsd-mailx'
t "/usr/sbin/sendmail is exim4's" 'readlink "$root/usr/sbin/sendmail" | grep -q exim4'

# 2. postern replaces it
cp "$deb" "$root/tmp/"
t "postern installs over exim4" 'apt install "/tmp/$(basename "$deb")"'
t "exim4-daemon-light is removed" 'gone exim4-daemon-light'
t "bsd-mailx stays" 'installed bsd-mailx'
t "/usr/sbin/sendmail is root:postern 2755" 'mode /usr/sbin/sendmail "root:postern 2755"'
t "/usr/sbin/sendmail is postern's" 'c dpkg -S /usr/sbin/sendmail | grep -q "^postern:"'
t "the mode is a dpkg-statoverride" 'c dpkg-statoverride --list /usr/sbin/sendmail | grep -qx "root postern 2755 /usr/sbin/sendmail"'
t "/usr/sbin/postern is root:root 0755 (not set-id)" 'mode /usr/sbin/postern "root:root 755"'
# (dh_link makes the links relative, as policy 10.5 asks: resolved inside the root, not on the host)
t "runq is postern, mailq and newaliases are sendmail" 'test "$(link_to /usr/sbin/runq)" = /usr/sbin/postern &&
	test "$(link_to /usr/bin/mailq)" = /usr/sbin/sendmail && test "$(link_to /usr/bin/newaliases)" = /usr/sbin/sendmail'
t "the installed sendmail links no OpenSSL (postern does)" 'sh "$top/tests/frontdoor.sh" "$root/usr/sbin/sendmail" "$root/usr/sbin/postern"'
t "postern is a system user and group" 'c getent passwd postern | grep -q ":/var/spool/postern:/usr/sbin/nologin$" && c getent group postern'
t "the spool is root:postern 2770" 'for d in "" /tmp /new /deferred /data; do mode "/var/spool/postern$d" "root:postern 2770" || exit 1; done'
t "postern.conf names the host (first install)" 'grep -qx "hostname *mail.postern.example" "$root/etc/postern/postern.conf"'
t "postern.conf and aliases are conffiles" 'cf=$(c dpkg-query -W -f="\${Conffiles}" postern); echo "$cf" | grep -q /etc/postern/postern.conf && echo "$cf" | grep -q /etc/postern/aliases'
t "postern-runq.timer is enabled" 'test -L "$root/etc/systemd/system/timers.target.wants/postern-runq.timer"'
t "an upgrade try-restarts a running postern-queue.service" 'grep -q "try-restart .*postern-queue.service" "$root/var/lib/dpkg/info/postern.postinst"'
t "postern-queue.service is not enabled" 'test ! -e "$root/etc/systemd/system/multi-user.target.wants/postern-queue.service"'

# 3. mail(1) hands a message to postern; no network in there, so it stays queued
t "echo x | mail -s t root" 'unshare --net chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	sh -c "echo x | mail -s t root"'
sleep 1
t "the message is queued" 'queued 1'
id=$(c mailq 2>/dev/null | sed -n 's/^\([0-9A-Za-z]\{6,\}\)[*!]\{0,1\} .*/\1/p' | head -n 1)
t "mailq names its queue id" 'test -n "$id"'

# 4. another package that wants an MTA: postern is one
t "mailutils installs" 'apt install mailutils'
t "exim4 does not come back" '! grep -E "^(Unpacking|Setting up) exim4" "$work/apt.log" && gone exim4-daemon-light'
t "/usr/sbin/sendmail is still postern's" 'mode /usr/sbin/sendmail "root:postern 2755"'

# 5. an upgrade to a package rebuilt from this tree with a higher version, built in the root with
# only the Build-Depends apt-get build-dep installs there (so they are checked to be enough); a local
# override on sendmail's mode must survive the upgrade, and the queued message too
version=$(dpkg-deb -f "$deb" Version)
t "the package's version is VERSION's" 'test "$version" = "$(cat "$top/VERSION")"'
new=$version+debcheck1
src=$root/build/postern
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$src" -xf -
echo "$new" >"$src/VERSION"
{ printf 'postern (%s) unstable; urgency=medium\n\n  * Rebuilt by tests/deb/run.sh.\n\n -- %s  %s\n\n' \
	"$new" "$(dpkg-parsechangelog -l "$src/debian/changelog" -SMaintainer)" "$(date -R)"
	cat "$src/debian/changelog"; } >"$src/debian/changelog.new" && mv "$src/debian/changelog.new" "$src/debian/changelog"
t "apt-get build-dep installs the Build-Depends" 'apt build-dep /build/postern'
if c sh -c 'cd /build/postern && DEB_BUILD_OPTIONS="nocheck noddebs" dpkg-buildpackage -us -uc -b' >"$work/rebuild.log" 2>&1; then
	ok "rebuild as $new in the root"
else
	not_ok "rebuild as $new in the root" "$(tail -n 20 "$work/rebuild.log")"
fi
cp "$root"/build/postern_"$new"_*.deb "$root/tmp/" 2>/dev/null
rm -rf "$root/build"
c dpkg-statoverride --update --remove /usr/sbin/sendmail >/dev/null 2>&1
c dpkg-statoverride --update --add root postern 2750 /usr/sbin/sendmail
t "the upgrade installs" 'apt install "/tmp/$(cd "$root/tmp" && ls postern_"$new"_*.deb 2>/dev/null | head -n 1)"'
t "postern is at $new" 'test "$(c dpkg-query -W -f='\''${Version}'\'' postern)" = "$new"'
t "the queued message is still there" 'queued 1 && c mailq | grep -q "^$id"'
t "the local override survives (2750)" 'mode /usr/sbin/sendmail "root:postern 2750"'
t "postern.conf names the host once" 'test "$(grep -c "^hostname" "$root/etc/postern/postern.conf")" = 1'
c dpkg-statoverride --update --remove /usr/sbin/sendmail >/dev/null 2>&1
c dpkg-statoverride --update --add root postern 2755 /usr/sbin/sendmail

# 6. remove: the spool, its mail and the configuration stay; the override on the path goes
t "apt-get remove postern" 'apt remove postern'
t "remove: sendmail is gone" 'absent /usr/sbin/sendmail /usr/bin/mailq /usr/sbin/postern'
t "remove: config and queued mail stay" 'present /etc/postern/postern.conf && c find /var/spool/postern -type f | grep -q .'
t "remove: the kept certbot hook does nothing" 'c env RENEWED_LINEAGE=/etc/letsencrypt/live/x RENEWED_DOMAINS=x /etc/letsencrypt/renewal-hooks/deploy/postern'
t "remove: no dpkg-statoverride left on the path" '! c dpkg-statoverride --list /usr/sbin/sendmail'

# 7. purge with mail in the spool: the spool (and the user and group owning it) stay, with a warning
t "apt-get purge postern (mail queued)" 'apt purge postern'
t "purge: the kept spool is named" 'grep -q "kept /var/spool/postern" "$work/apt.log"'
t "purge: the spool and its owner stay" 'c find /var/spool/postern -type f | grep -q . && c getent group postern'
t "purge: the configuration is gone" 'absent /etc/postern /etc/letsencrypt/renewal-hooks/deploy/postern'

# 8. installed again, the message deleted, purged: nothing of postern's is left
t "postern installs again" 'apt install "/tmp/$(basename "$deb")"'
t "the old message is still queued" 'queued 1'
t "postern queue delete" 'c postern queue delete "$id"'
t "apt-get purge postern (empty spool)" 'apt purge postern'
t "purge: nothing of postern's is left" 'nothing_left'
t "purge: the timer is no longer enabled" 'absent /etc/systemd/system/timers.target.wants/postern-runq.timer'

# 9. lintian: no errors (warnings are fixed or overridden in debian/)
if command -v lintian >/dev/null; then
	t "lintian: no errors" 'lintian --fail-on error "$deb"'
else
	not_ok "lintian: not installed (sh tests/deb/run.sh --deps)"
fi
finish
