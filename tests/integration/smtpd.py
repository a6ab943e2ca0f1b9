#!/usr/bin/python3
"""smtpd.py - a receiving MTA for postern's integration world, built on Debian's aiosmtpd.

The SMTP protocol is aiosmtpd's (an independent implementation); this file only configures it and
adds the misbehaviours the tests need. One process serves one address:port.

Every accepted message is stored in --maildir as N.eml (the DATA bytes exactly as received, after
dot-unstuffing, CRLF line ends kept, no trailing ".") next to N.env, written first, with one
"key: value" per line:
    mail_from: ADDR        ("<>" for the null sender)
    mail_options: BODY=8BITMIME SMTPUTF8 ...
    rcpt_to: ADDR          (one line per recipient)
    helo: NAME
    peer: IP
    tls: yes|no            tls_version: TLSv1.3   cipher: NAME   tls_mode: starttls|implicit
    peer_cert: yes|no      peer_cert_subject: CN=...   (+ N.peer.pem when a client cert was shown)
    auth_user: USER        (when the client authenticated)

Behaviours (attempt counters live in --state, a JSON file, so they survive a restart):
    --greet-421          answer every connection with "421" and close
    --stall              accept TCP and never say anything
    --rcpt-4xx N         the first N transactions get 451 for every RCPT, later ones are accepted
    --rcpt-5xx GLOB      550 5.1.1 for recipients matching GLOB (fnmatch, case-insensitive)
    --rcpt-451 GLOB      451 4.2.0 for recipients matching GLOB, every time (the others are accepted)
    --rcpt-550-text TEXT for --rcpt-5xx: answer "550 TEXT" instead (a reputation refusal, say)
    --drop-mid-data      first DATA: 354, read 2 lines, close without a reply; later ones behave
    --drop-after-data    first DATA: read it all, close without a reply (nothing stored)
    --no-starttls        do not offer STARTTLS even if a certificate is given
    --no-8bitmime        do not advertise 8BITMIME      --no-smtputf8    do not advertise SMTPUTF8
aiosmtpd notes: decode_data=False is required for exact bytes (and is what makes it advertise
8BITMIME); SMTPUTF8 is advertised only with enable_SMTPUTF8=True (on by default here).
"""
import argparse
import asyncio
import fnmatch
import json
import logging
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def load_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def bump(path, key):
    """bump - increment counter `key` in the state file, return the new value."""
    st = load_state(path)
    st[key] = st.get(key, 0) + 1
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, path)
    return st[key]


def tls_info(server):
    t = server.transport
    obj = t.get_extra_info("ssl_object") if t is not None else None
    return obj


class Handler:
    def __init__(self, opts):
        self.o = opts

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        drop = set()
        if self.o.no_8bitmime:
            drop.add("8BITMIME")
        if self.o.no_smtputf8:
            drop.add("SMTPUTF8")
        return [r for r in responses if r[4:].split(" ")[0] not in drop]

    async def handle_MAIL(self, server, session, envelope, address, options):
        n = bump(self.o.state, "mail")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        envelope.x_reject_rcpt = self.o.rcpt_4xx is not None and n <= self.o.rcpt_4xx
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if getattr(envelope, "x_reject_rcpt", False):
            return "451 4.3.0 try again later (test world)"
        if self.o.rcpt_451 and fnmatch.fnmatch(address.lower(), self.o.rcpt_451.lower()):
            return "451 4.2.0 mailbox busy here, try another MX (test world)"
        if self.o.rcpt_5xx and fnmatch.fnmatch(address.lower(), self.o.rcpt_5xx.lower()):
            if self.o.rcpt_550_text:
                return "550 " + self.o.rcpt_550_text
            return "550 5.1.1 no such user (test world)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.o.drop_after_data and bump(self.o.state, "drop_after_data") == 1:
            server.transport.close()
            return "421 not sent"  # never reaches the client: the transport is closed
        n = bump(self.o.state, "stored")
        base = os.path.join(self.o.maildir, "%d" % n)
        lines = ["mail_from: %s" % envelope.mail_from,
                 "mail_options: %s" % " ".join(envelope.mail_options)]
        lines += ["rcpt_to: %s" % r for r in envelope.rcpt_tos]
        lines += ["helo: %s" % (session.host_name or ""), "peer: %s" % session.peer[0]]
        obj = tls_info(server)
        if obj is not None:
            lines += ["tls: yes", "tls_version: %s" % obj.version(),
                      "cipher: %s" % obj.cipher()[0],
                      "tls_mode: %s" % ("implicit" if self.o.implicit_tls else "starttls")]
            der = obj.getpeercert(binary_form=True)
            if der:
                lines.append("peer_cert: yes")
                info = obj.getpeercert() or {}
                subj = ",".join("%s=%s" % kv for rdn in info.get("subject", ()) for kv in rdn)
                lines.append("peer_cert_subject: %s" % subj)
                with open(base + ".peer.pem", "w") as f:
                    f.write(ssl.DER_cert_to_PEM_cert(der))
            else:
                lines.append("peer_cert: no")
        else:
            lines.append("tls: no")
        if session.authenticated:
            user = session.auth_data
            if isinstance(user, LoginPassword):
                user = user.login.decode("utf-8", "replace")
            lines.append("auth_user: %s" % user)
        for path, data in ((base + ".env", ("\n".join(lines) + "\n").encode()),
                           (base + ".eml", envelope.original_content)):
            with open(path + ".tmp", "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(path + ".tmp", path)
        return "250 2.0.0 OK stored as %d" % n


class TestSMTP(SMTP):
    """aiosmtpd's SMTP with one misbehaviour that needs the protocol's insides: dropping mid-DATA."""
    x_opts = None

    async def smtp_DATA(self, arg):
        o = self.x_opts
        if (o.drop_mid_data and self.envelope.rcpt_tos and not arg and self.session.host_name
                and bump(o.state, "drop_mid_data") == 1):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            for _ in range(2):
                await self._reader.readuntil(b"\r\n")
            self.transport.close()
            return
        return await super().smtp_DATA(arg)


class Greet421(asyncio.Protocol):
    def connection_made(self, transport):
        transport.write(b"421 4.3.2 mx busy (test world)\r\n")
        transport.close()


class Stall(asyncio.Protocol):
    held = []

    def connection_made(self, transport):
        Stall.held.append(transport)  # keep it open, say nothing


def make_authenticator(path):
    users = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                users[parts[0]] = parts[1]

    def auth(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = users.get(user) == auth_data.password.decode("utf-8", "replace")
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)
    return auth


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True, help="IP:PORT")
    p.add_argument("--hostname", default=None)
    p.add_argument("--maildir", required=True)
    p.add_argument("--state", default=None)
    p.add_argument("--log", default=None)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="ask for (optional) client certificates signed by this CA")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth-file")
    p.add_argument("--greet-421", action="store_true")
    p.add_argument("--stall", action="store_true")
    p.add_argument("--rcpt-4xx", type=int, default=None, metavar="N")
    p.add_argument("--rcpt-5xx", default=None, metavar="GLOB")
    p.add_argument("--rcpt-451", default=None, metavar="GLOB")
    p.add_argument("--rcpt-550-text", default=None, metavar="TEXT")
    p.add_argument("--drop-mid-data", action="store_true")
    p.add_argument("--drop-after-data", action="store_true")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--no-smtputf8", action="store_true")
    o = p.parse_args()

    host, _, port = o.listen.rpartition(":")
    os.makedirs(o.maildir, exist_ok=True)
    o.state = o.state or os.path.join(o.maildir, ".state.json")
    logging.basicConfig(filename=o.log, level=logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")

    ctx = None
    if o.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(o.tls_cert, o.tls_key)
        if o.client_ca:
            ctx.load_verify_locations(o.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if o.greet_421:
        factory = Greet421
    elif o.stall:
        factory = Stall
    else:
        TestSMTP.x_opts = o
        handler = Handler(o)
        kw = dict(decode_data=False, enable_SMTPUTF8=not o.no_smtputf8,
                  hostname=o.hostname or host, ident="aiosmtpd (postern test world)",
                  data_size_limit=0, timeout=60)
        if o.auth_file:
            # implicit TLS is TLS too, but aiosmtpd only knows about STARTTLS
            kw.update(auth_required=True, auth_require_tls=not o.implicit_tls,
                      authenticator=make_authenticator(o.auth_file))
        else:
            kw.update(auth_require_tls=False)
        if ctx is not None and not o.implicit_tls and not o.no_starttls:
            kw["tls_context"] = ctx

        def factory():
            return TestSMTP(handler, loop=loop, **kw)
    server = loop.run_until_complete(loop.create_server(
        factory, host=host, port=int(port), ssl=ctx if o.implicit_tls else None,
        reuse_address=True))
    logging.getLogger("smtpd").info("listening on %s", o.listen)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
