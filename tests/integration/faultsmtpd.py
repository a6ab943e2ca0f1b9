#!/usr/bin/python3
"""faultsmtpd.py - a raw-asyncio SMTP server that misbehaves on purpose, for tests and benchmarks.

Debian's python3 only (no aiosmtpd, no TLS), fast enough for thousands of messages per second, and
it handles pipelined input (RFC 2920): replies are written in command order, whatever the client
sent in one write. EHLO offers PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and SIZE
(and DSN with --dsn).

    faultsmtpd.py --listen IP:PORT --maildir DIR [--seed N] [--log FILE] [mode ...]

Each accepted message is stored as DIR/N.eml (the DATA bytes as received, dot-unstuffed, CRLF
kept, no final ".") and DIR/N.env (written first; the format smtpd.py writes: mail_from,
mail_options, rcpt_to per recipient, helo, peer, tls: no), N counting on from the highest N
already in DIR. Then one line is appended to DIR/ids, before the 250 reply:
    <Message-ID field value>\t<rcpt1>,<rcpt2>,...
("(none)" when the message has no Message-ID), so duplicates show with `cut -f1 ids | sort | uniq -d`.
DIR/connections gets one line per accepted TCP connection ("N IP:PORT"); DIR/peak holds the most
connections that were open at once (rewritten when it grows). DIR/.listening (the pid)
is written once the port listens, so a starter can wait for it without connecting.

Modes (combinable):
    --stall-dot N      never answer the final dot of the N-th DATA of the server's life (1-based;
                       every DATA command accepted in a transaction counts); that connection stays
                       open and silent (input is read and ignored); the message is not stored
    --drop-data P      for each DATA, with probability P (0..1; the draws come from --seed, one per
                       DATA, in order), reply 354, read one line of the data, close without a reply;
                       nothing is stored
    --drop-after N     --drop-data and --drop-dot spare the first N DATA transfers of the server's life
    --drop-dot         for each DATA, read the whole message up to the final dot, close without a
                       reply; nothing is stored (a reply lost after the dot)
    --stall-354        for each DATA, reply 354, then read nothing more and never reply (a small
                       body sits in the socket buffers, the client waits for the dot's reply; a
                       body larger than the buffers blocks the client mid-body); nothing is stored
    --dot-4xx N        answer the final dot of the first N DATA transfers of the server's life with
                       "451 4.3.0 ..." (nothing stored); later ones behave
    --no-8bitmime      do not offer 8BITMIME in EHLO (a 7-bit hop, RFC 6152)
    --reply STEP=CODE[ TEXT]   (repeatable) answer STEP (greeting, ehlo, mail, rcpt, data, dot) with
                       "CODE TEXT" instead of the normal reply, in every transaction. The server acts
                       on the reply it gave: mail/rcpt other than 2xx are refused; data other than
                       354 does not start the data phase (what follows is read as commands: so
                       --reply data=250 reads the message as commands); dot other than 2xx stores
                       nothing (--reply dot=354). greeting and ehlo replies change nothing else.
    --drip SECONDS     wait SECONDS before every reply (the greeting too)
    --fast             store no .eml/.env, only the ids line (bench)
    --dsn              also offer DSN (RFC 3461; parameters are taken as sent, not checked), and
                       add to N.env, per accepted recipient in order, "rcpt_options: ADDR [OPTS]"
                       (OPTS as sent, case kept; mail_options is always as sent)
    --seed N           the random seed for --drop-data (default 0: runs are reproducible)
"""
import argparse
import asyncio
import os
import random
import re
import sys

LINE_MAX = 1 << 20              # the longest command or data line read
SIZE_MAX = 100 * 1024 * 1024    # advertised with SIZE
STEPS = ("greeting", "ehlo", "mail", "rcpt", "data", "dot")
UNSTUFF = re.compile(rb"(?m)^\.")
PATH = re.compile(r"^\s*<([^>]*)>\s*(.*)$")


def parse_reply(spec):
    """parse_reply - "STEP=CODE[ TEXT]" -> (step, "CODE TEXT")."""
    step, sep, reply = spec.partition("=")
    step = step.strip().lower()
    if not sep or step not in STEPS or not re.match(r"^[0-9][0-9][0-9]( |$)", reply):
        raise argparse.ArgumentTypeError("--reply wants STEP=CODE[ TEXT], STEP one of "
                                         + ", ".join(STEPS) + ": " + spec)
    if len(reply) == 3:
        reply += " fault reply (faultsmtpd)"
    return step, reply


def probability(s):
    p = float(s)
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError("a probability is between 0 and 1: " + s)
    return p


def message_id(data):
    """message_id - the unfolded, trimmed value of the first Message-ID field of the header."""
    head = data.split(b"\r\n\r\n", 1)[0]
    value = None
    for line in head.split(b"\r\n"):
        if value is not None:
            if line[:1] in (b" ", b"\t"):
                value += line
                continue
            break
        name, sep, rest = line.partition(b":")
        if sep and name.strip().lower() == b"message-id":
            value = rest
    if value is None:
        return "(none)"
    return " ".join(value.decode("utf-8", "replace").split())


def split_path(arg, prefix):
    """split_path - "FROM:<a@b> OPTS" -> ("a@b", "OPTS"), or None when malformed."""
    if arg[:len(prefix)].upper() != prefix:
        return None
    m = PATH.match(arg[len(prefix):])
    if m is None:
        return None
    return (m.group(1) or "<>"), m.group(2).strip()


class Server:
    """Server - the counters and files one process shares between its connections."""

    def __init__(self, o):
        self.o = o
        self.rng = random.Random(o.seed)
        self.replies = dict(o.reply or ())
        self.data_seen = 0      # DATA commands accepted, server-wide (for --stall-dot)
        self.conns = 0
        self.open_now = 0       # connections open at this moment
        self.peak = 0           # the most open at once (DIR/peak)
        self.stored = 0
        for name in os.listdir(o.maildir):
            if name.endswith(".eml") and name[:-4].isdigit():
                self.stored = max(self.stored, int(name[:-4]))
        self.ids = open(os.path.join(o.maildir, "ids"), "ab", buffering=0)
        self.connlog = open(os.path.join(o.maildir, "connections"), "ab", buffering=0)
        self.log = open(o.log, "a", buffering=1) if o.log else None
        self.stalled = []

    def note(self, text):
        if self.log is not None:
            self.log.write(text + "\n")

    def store(self, sess, data):
        """store - write N.env and N.eml (unless --fast) and the ids line; return N."""
        self.stored += 1
        n = self.stored
        if not self.o.fast:
            env = ["mail_from: %s" % sess.mail_from, "mail_options: %s" % sess.mail_options]
            env += ["rcpt_to: %s" % r for r in sess.rcpts]
            if self.o.dsn:
                env += ["rcpt_options: %s" % r for r in sess.rcpt_options]
            env += ["helo: %s" % sess.helo, "peer: %s" % sess.peer, "tls: no"]
            base = os.path.join(self.o.maildir, "%d" % n)
            for path, body in ((base + ".env", ("\n".join(env) + "\n").encode()),
                               (base + ".eml", data)):
                with open(path + ".tmp", "wb") as f:
                    f.write(body)
                os.rename(path + ".tmp", path)
        line = "%s\t%s\n" % (message_id(data), ",".join(sess.rcpts))
        self.ids.write(line.encode("utf-8", "replace"))
        return n

    async def serve(self, reader, writer):
        self.conns += 1
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.connlog.write(("%d %s:%d\n" % (self.conns, peer[0], peer[1])).encode())
        self.open_now += 1
        if self.open_now > self.peak:
            self.peak = self.open_now
            with open(os.path.join(self.o.maildir, "peak.tmp"), "w") as f:
                f.write("%d\n" % self.peak)
            os.rename(os.path.join(self.o.maildir, "peak.tmp"), os.path.join(self.o.maildir, "peak"))
        sess = Session(self, reader, writer, peer[0])
        try:
            await sess.run()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


class Session:
    """Session - one SMTP connection."""

    def __init__(self, srv, reader, writer, peer):
        self.srv, self.r, self.w, self.peer = srv, reader, writer, peer
        self.helo = ""
        self.reset()

    def reset(self):
        self.mail_from = None
        self.mail_options = ""
        self.rcpts = []
        self.rcpt_options = []

    async def reply(self, step, normal):
        """reply - send the normal reply or STEP's --reply; return the reply sent."""
        text = self.srv.replies.get(step, normal) if step else normal
        if self.srv.o.drip > 0:
            await asyncio.sleep(self.srv.o.drip)
        self.w.write(text.encode() + b"\r\n")
        await self.w.drain()
        return text

    async def run(self):
        host = self.srv.o.hostname
        await self.reply("greeting", "220 %s ESMTP faultsmtpd" % host)
        while True:
            line = await self.r.readuntil(b"\n")
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = cmd.partition(" ")
            verb = verb.upper()
            handler = getattr(self, "smtp_" + verb, None)
            if handler is None:
                await self.reply(None, "500 5.5.2 command not recognized")
            elif await handler(arg) is False:
                return

    async def smtp_EHLO(self, arg):
        self.helo = arg.strip()
        self.reset()
        host = self.srv.o.hostname
        await self.reply("ehlo", "250-%s\r\n250-PIPELINING\r\n%s250-SMTPUTF8\r\n%s"
                         "250-ENHANCEDSTATUSCODES\r\n250 SIZE %d"
                         % (host, "" if self.srv.o.no_8bitmime else "250-8BITMIME\r\n",
                            "250-DSN\r\n" if self.srv.o.dsn else "", SIZE_MAX))

    async def smtp_HELO(self, arg):
        self.helo = arg.strip()
        self.reset()
        await self.reply("ehlo", "250 %s" % self.srv.o.hostname)

    async def smtp_MAIL(self, arg):
        p = split_path(arg, "FROM:")
        if p is None:
            return await self.reply(None, "501 5.5.4 syntax: MAIL FROM:<address>")
        if self.mail_from is not None:
            return await self.reply(None, "503 5.5.1 nested MAIL command")
        if (await self.reply("mail", "250 2.1.0 OK")).startswith("2"):
            self.mail_from, self.mail_options = p

    async def smtp_RCPT(self, arg):
        p = split_path(arg, "TO:")
        if p is None:
            return await self.reply(None, "501 5.5.4 syntax: RCPT TO:<address>")
        if self.mail_from is None:
            return await self.reply(None, "503 5.5.1 need MAIL before RCPT")
        if (await self.reply("rcpt", "250 2.1.5 OK")).startswith("2"):
            self.rcpts.append(p[0])
            self.rcpt_options.append((p[0] + " " + p[1]).rstrip())

    async def smtp_DATA(self, arg):
        srv = self.srv
        if not self.rcpts:
            return await self.reply(None, "503 5.5.1 need RCPT before DATA")
        srv.data_seen += 1
        nth = srv.data_seen
        drop = srv.rng.random() < srv.o.drop_data if srv.o.drop_data > 0 else False
        drop = drop and nth > srv.o.drop_after
        if not (await self.reply("data", "354 end data with <CR><LF>.<CR><LF>")).startswith("354"):
            return None
        if nth == srv.o.stall_dot:
            await self.read_data()
            srv.note("stall: DATA %d read, the dot stays unanswered" % nth)
            srv.stalled.append(self.w)
            while await self.r.read(65536):
                pass
            return False
        if srv.o.stall_354:
            srv.note("stall: DATA %d gets 354 and nothing more" % nth)
            self.w.transport.pause_reading()
            srv.stalled.append(self.w)
            await asyncio.Event().wait()    # until the client goes (the server's end closes it)
        if drop:
            await self.r.readuntil(b"\n")
            srv.note("drop: DATA %d dropped after 354 and one line" % nth)
            return False
        data = await self.read_data()
        if srv.o.drop_dot and nth > srv.o.drop_after:
            srv.note("drop: DATA %d read, closed before the reply to the dot" % nth)
            return False
        if nth <= srv.o.dot_4xx:
            srv.note("4xx: DATA %d refused at the dot" % nth)
            await self.reply(None, "451 4.3.0 DATA %d refused at the dot (faultsmtpd)" % nth)
            self.reset()
            return None
        if srv.replies.get("dot", "2").startswith("2"):
            n = srv.store(self, data)
            await self.reply("dot", "250 2.0.0 OK stored as %d" % n)
        else:
            await self.reply("dot", "")
        self.reset()

    async def read_data(self):
        """read_data - the message up to the final dot, dot-unstuffed, with its last CRLF."""
        lines = []
        while True:
            line = await self.r.readuntil(b"\n")
            if line == b".\r\n" or line == b".\n":
                break
            lines.append(line)
        return UNSTUFF.sub(b"", b"".join(lines))

    async def smtp_RSET(self, arg):
        self.reset()
        await self.reply(None, "250 2.0.0 OK")

    async def smtp_NOOP(self, arg):
        await self.reply(None, "250 2.0.0 OK")

    async def smtp_VRFY(self, arg):
        await self.reply(None, "252 2.5.2 cannot VRFY")

    async def smtp_QUIT(self, arg):
        await self.reply(None, "221 2.0.0 bye")
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True, help="IP:PORT")
    p.add_argument("--maildir", required=True)
    p.add_argument("--hostname", default=None)
    p.add_argument("--log", default=None, help="append fault events here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stall-dot", type=int, default=0, metavar="N")
    p.add_argument("--drop-data", type=probability, default=0.0, metavar="P")
    p.add_argument("--drop-after", type=int, default=0, metavar="N")
    p.add_argument("--reply", type=parse_reply, action="append", metavar="STEP=CODE[ TEXT]")
    p.add_argument("--drip", type=float, default=0.0, metavar="SECONDS")
    p.add_argument("--fast", action="store_true")
    p.add_argument("--dsn", action="store_true")
    p.add_argument("--drop-dot", action="store_true")
    p.add_argument("--stall-354", action="store_true")
    p.add_argument("--dot-4xx", type=int, default=0, metavar="N")
    p.add_argument("--no-8bitmime", action="store_true")
    o = p.parse_args()
    host, _, port = o.listen.rpartition(":")
    o.hostname = o.hostname or host
    os.makedirs(o.maildir, exist_ok=True)
    try:
        os.unlink(os.path.join(o.maildir, ".listening"))
    except FileNotFoundError:
        pass
    srv = Server(o)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(asyncio.start_server(
        srv.serve, host=host, port=int(port), reuse_address=True, backlog=1024, limit=LINE_MAX))
    srv.note("listening on %s" % o.listen)
    with open(os.path.join(o.maildir, ".listening"), "w") as f:
        f.write("%d\n" % os.getpid())
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
