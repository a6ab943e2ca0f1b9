#!/bin/sh
# install.sh - install postern (called by `make install`).
#
# usage: sh conf/install.sh BUILD DESTDIR SBINDIR SYSCONFDIR SPOOLDIR MANDIR LIBEXECDIR BINDIR
#
# BUILD/sendmail (the front door) becomes SBINDIR/sendmail, root:postern 2755 (setgid: it writes into
# the spool); mailq and newaliases are symlinks to it. BUILD/postern (the queue side) becomes
# SBINDIR/postern, root:root 0755, not set-id; runq is a symlink to it. Each program has the other's
# path compiled in (make's SBINDIR), so SBINDIR here must be the one they were built with. The spool
# is root:postern 2770. An existing
# postern.conf or aliases file is never overwritten. The postern user and group are created only for
# a real install (empty DESTDIR) by root; staged installs (DESTDIR set) leave that to the package.
set -e
umask 022

[ $# -eq 8 ] || { echo "usage: $0 BUILD DESTDIR SBINDIR SYSCONFDIR SPOOLDIR MANDIR LIBEXECDIR BINDIR" >&2; exit 64; }
build=$1 destdir=$2 sbindir=$3 sysconfdir=$4 spooldir=$5 mandir=$6 libexecdir=$7 bindir=$8
top=$(cd "$(dirname "$0")/.." && pwd)
: "$libexecdir"	# reserved: postern installs no helper programs yet

for f in "$build/sendmail" "$build/postern"; do
	[ -f "$f" ] || { echo "install: $f: not built (run make)" >&2; exit 66; }
done
for d in "$sbindir" "$sysconfdir" "$spooldir" "$mandir" "$bindir"; do
	case $d in /*) ;; *) echo "install: $d: not an absolute path" >&2; exit 64 ;; esac
done

root=no
[ "$(id -u)" -eq 0 ] && root=yes

# the postern user and group
if [ -z "$destdir" ] && [ $root = yes ]; then
	if ! getent group postern >/dev/null; then
		groupadd --system postern
		echo "install: created group postern"
	fi
	if ! getent passwd postern >/dev/null; then
		useradd --system --gid postern --home-dir "$spooldir" --shell /usr/sbin/nologin \
			--no-create-home postern
		echo "install: created user postern"
	fi
else
	echo "install: note: not creating the postern user and group (DESTDIR set or not root);" \
		"create them with: groupadd --system postern; useradd --system --gid postern" \
		"--home-dir $spooldir --shell /usr/sbin/nologin --no-create-home postern"
fi

owner=no
if [ $root = yes ] && getent group postern >/dev/null; then
	owner=yes
else
	echo "install: note: files keep the current owner (not root, or no postern group):" \
		"chown root:postern the binary and the spool before use"
fi

# own FILE - root:postern when we can
own() {
	[ $owner = yes ] && chown root:postern "$@"
	return 0
}

# the programs, each replaced atomically (mv replaces a link left by an older install that had one
# program, where cp would write through it); chown before chmod (chown clears the setgid bit)
sendmail=$destdir$sbindir/sendmail postern=$destdir$sbindir/postern
install -d -m 0755 "$destdir$sbindir" "$destdir$bindir"
if [ -e "$sendmail" ] && ! grep -q postern "$sendmail" 2>/dev/null; then
	echo "install: note: replacing $sendmail (another MTA's sendmail?)"
fi
cp "$build/sendmail" "$sendmail.new"
own "$sendmail.new"
chmod 2755 "$sendmail.new"
mv -f "$sendmail.new" "$sendmail"
echo "install: $sendmail (mode 2755$([ $owner = yes ] && echo ", root:postern"))"
cp "$build/postern" "$postern.new"
[ $root = yes ] && chown root:root "$postern.new"
chmod 0755 "$postern.new"
mv -f "$postern.new" "$postern"
echo "install: $postern (mode 0755)"

for l in "$bindir/mailq" "$bindir/newaliases"; do
	ln -sfn "$sbindir/sendmail" "$destdir$l"
done
ln -sfn "$sbindir/postern" "$destdir$sbindir/runq"

# the spool
for d in "" /tmp /new /deferred /data; do
	install -d -m 2770 "$destdir$spooldir$d"
	own "$destdir$spooldir$d"
	chmod 2770 "$destdir$spooldir$d"	# setgid: files keep group postern whoever writes them
done

# configuration: never overwrite what the administrator has
etc=$destdir$sysconfdir/postern
install -d -m 0755 "$etc"
if [ -e "$etc/postern.conf" ]; then
	echo "install: kept the existing $etc/postern.conf"
else
	install -m 0644 "$top/conf/postern.conf" "$etc/postern.conf"
	# hostname from the machine's fully qualified name: postern refuses to run without one
	# (postern.conf(5)); a single label, localhost or an address is not one
	fqdn= ok=
	for n in "$(hostname -f 2>/dev/null)" "$(hostname 2>/dev/null)"; do
		n=$(printf '%s' "$n" | tr 'A-Z' 'a-z')
		[ -n "$fqdn" ] || fqdn=$n
		if [ ${#n} -le 253 ] && printf '%s\n' "$n" | grep -Eqx '([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?' &&
			! printf '%s\n' "$n" | grep -Eqx '(.*\.)?[0-9]+|localhost|.*\.localhost|.*\.localdomain'; then
			fqdn=$n ok=yes
			break
		fi
	done
	if [ "${ok:-}" = yes ]; then
		sed -i "s/^# hostname .*/&\nhostname        $fqdn/" "$etc/postern.conf"
		echo "install: $etc/postern.conf: hostname $fqdn (this machine's fully qualified name)"
	else
		echo "install: note: this machine has no fully qualified name (\"${fqdn:-none}\"): set hostname" \
			"in $etc/postern.conf to the name mail should come from; postern refuses to run until then"
	fi
fi
if [ ! -e "$etc/aliases" ]; then
	printf '# %s - see postern.conf(5): "name: address, ..."; run newaliases to check.\n' \
		"$sysconfdir/postern/aliases" > "$etc/aliases"
	chmod 0644 "$etc/aliases"
fi

# manual pages, whatever exists
for s in 5 8; do
	for f in "$top"/man/*."$s"; do
		[ -f "$f" ] || continue
		install -d -m 0755 "$destdir$mandir/man$s"
		install -m 0644 "$f" "$destdir$mandir/man$s/"
	done
done

# certbot deploy hook and systemd units, when present
if [ -f "$top/conf/certbot-deploy-hook" ]; then
	install -d -m 0755 "$destdir$sysconfdir/letsencrypt/renewal-hooks/deploy"
	install -m 0755 "$top/conf/certbot-deploy-hook" "$destdir$sysconfdir/letsencrypt/renewal-hooks/deploy/postern"
fi
for f in "$top"/conf/postern-*.service "$top"/conf/postern-*.timer; do
	[ -f "$f" ] || continue
	install -d -m 0755 "$destdir/lib/systemd/system"
	install -m 0644 "$f" "$destdir/lib/systemd/system/"
done
echo "install: done. Queue runs: systemctl enable --now postern-runq.timer (or see $top/conf/postern.cron)"
