#!/usr/bin/python3
"""includes.py [--selftest] [ROOT] - the include rules of STYLE.md and issue 10: no include goes from a
lower room to a higher one (lib < conf < queue < sendmail; inside queue/, its families store < wire <
run, so the store and the wire never call the run family), every file of queue/ is in one of its
families, and no two modules include each other, directly or round a circle. A module is a .c and its .h (a private header NAME_int.h or NAME_priv.h
belongs to NAME). Prints each offence and exits 1; with --selftest, checks itself first on
tests/lint/includes/bad (every kind of offence found) and good (none)."""
import os
import re
import sys

ROOMS = ("lib", "conf", "queue/store", "queue/wire", "queue/run", "sendmail")
FAMILIES_OF = "queue"	# a room whose files must all sit in one of its sub-rooms
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z]+(?:/[a-z]+)?)/([A-Za-z0-9_]+)\.h"', re.M)


def module(room, base):
    """module - the module a file or header belongs to."""
    return "%s/%s" % (room, re.sub(r"_(int|priv)$", "", base))


def graph(root):
    """graph - (edges: module -> set of modules it includes, offences: upward includes)."""
    edges, bad = {}, []
    d = os.path.join(root, FAMILIES_OF)
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                bad.append("%s/%s is in no family of %s/ (%s)" % (FAMILIES_OF, name, FAMILIES_OF, ", ".join(
                    r for r in ROOMS if r.startswith(FAMILIES_OF + "/"))))
    for room in ROOMS:
        d = os.path.join(root, room)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            me = module(room, name[:-2])
            for to_room, base in INCLUDE.findall(text):
                if to_room not in ROOMS:
                    if to_room == FAMILIES_OF:
                        bad.append("%s/%s includes %s/%s.h: not in a family" % (room, name, to_room, base))
                    continue
                if ROOMS.index(to_room) > ROOMS.index(room):
                    bad.append("%s/%s includes %s/%s.h: %s is above %s" % (room, name, to_room, base,
                                                                       to_room, room))
                other = module(to_room, base)
                if other != me:
                    edges.setdefault(me, set()).add(other)
    return edges, bad


def circles(edges):
    """circles - the strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def offences(root):
    edges, bad = graph(root)
    return bad + ["include circle: %s" % " <-> ".join(c) for c in circles(edges)]


def main(argv):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lint", "includes")
    args = [a for a in argv if a != "--selftest"]
    if "--selftest" in argv:
        got = offences(os.path.join(here, "bad"))
        kinds = (any("is above" in o for o in got), any(o.startswith("include circle") for o in got),
                 any("in no family" in o for o in got))
        if not all(kinds) or offences(os.path.join(here, "good")):
            print("lint: includes self-test: bad/ gave %r, good/ gave %r" %
                  (got, offences(os.path.join(here, "good"))), file=sys.stderr)
            return 1
    found = offences(args[0] if args else ".")
    for o in found:
        print("lint: %s" % o, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
