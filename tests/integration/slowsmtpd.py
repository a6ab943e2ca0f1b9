#!/usr/bin/python3
"""slowsmtpd.py - smtpd.py with a slow DATA phase, for tests that must act while a delivery is in
progress (SIGTERM to the periodic runner mid-transaction).

Usage: slowsmtpd.py --data-delay SECONDS [every smtpd.py option]

For each message, after the final dot has been received and before the reply, it appends a line
"data N" to MAILDIR/.data-started (N counts DATA commands seen), sleeps SECONDS, then stores the
message exactly as smtpd.py does (N.eml, N.env) and replies 250. smtpd.py is loaded from its path
under another module name (the standard library has a module called smtpd), and its Handler is
replaced by a subclass before its main() runs; nothing in smtpd.py changes.
"""
import asyncio
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_smtpd():
    spec = importlib.util.spec_from_file_location("postern_test_smtpd", os.path.join(HERE, "smtpd.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def take_delay(argv):
    """take_delay - remove --data-delay S from argv; return (seconds, the rest)."""
    delay, rest, i = 0.0, [], 0
    while i < len(argv):
        if argv[i] == "--data-delay" and i + 1 < len(argv):
            delay = float(argv[i + 1])
            i += 2
            continue
        rest.append(argv[i])
        i += 1
    return delay, rest


def main():
    delay, rest = take_delay(sys.argv[1:])
    mod = load_smtpd()
    base = mod.Handler

    class SlowHandler(base):
        async def handle_DATA(self, server, session, envelope):
            n = mod.bump(self.o.state, "data_started")
            with open(os.path.join(self.o.maildir, ".data-started"), "a") as f:
                f.write("data %d\n" % n)
            await asyncio.sleep(delay)
            return await base.handle_DATA(self, server, session, envelope)

    mod.Handler = SlowHandler
    sys.argv = [sys.argv[0]] + rest
    return mod.main()


if __name__ == "__main__":
    sys.exit(main())
