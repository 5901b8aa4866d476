#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The agent's sources depend on each other one way only.

Reads every #include "..." of the C sources under agent/, common/,
policy/, bpf/ and authsrv/, and checks two things (TAP, one case each):

1. no include cycle among the agent's modules (a module is a .c file and
   its .h: a.c including b.h and b.c including a.h is a cycle);
2. no file of the daemon includes a header of a layer above its own. The
   layers, top down: the top (main.c, control.c, daemon.h, report/),
   inputs/, lifecycle/, decide/, correlate/, enforce/, then the libraries
   (agent/lib/*, common/, policy/, bpf/, authsrv/).
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
DIRS = ["agent", "common", "policy", "bpf", "authsrv"]
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

LAYERS = [  # (path prefix under ROOT, rank: higher may include lower)
    ("agent/daemon/report/", 6),
    ("agent/daemon/inputs/", 5),
    ("agent/daemon/lifecycle/", 4),
    ("agent/daemon/decide/", 3),
    ("agent/daemon/correlate/", 2),
    ("agent/daemon/enforce/", 1),
    ("agent/daemon/", 6),  # main.c, control.c, daemon.h
    ("agent/lib/", 0), ("agent/xcrsctl/", 7), ("agent/terminal/", 7),
    ("common/", 0), ("policy/", 0), ("bpf/", 0), ("authsrv/", 0),
]


def rank(path):
    for prefix, r in LAYERS:
        if path.startswith(prefix):
            return r
    return None


files = {}  # relative path -> [included names]
where = {}  # header basename -> relative path
for d in DIRS:
    for dp, _, fns in os.walk(os.path.join(ROOT, d)):
        for fn in fns:
            if not fn.endswith((".c", ".h")):
                continue
            full = os.path.join(dp, fn)
            rel = os.path.relpath(full, ROOT)
            with open(full, encoding="utf-8", errors="replace") as f:
                files[rel] = INC.findall(f.read())
            if fn.endswith(".h"):
                where.setdefault(fn, rel)


def module(rel):
    """a.c, a.h and a-internal.h are one module"""
    m = os.path.splitext(rel)[0]
    return m[:-len("-internal")] if m.endswith("-internal") else m


# module graph of the agent
graph = {}
for rel, incs in files.items():
    if not rel.startswith("agent/"):
        continue
    m = module(rel)
    graph.setdefault(m, set())
    for h in incs:
        target = where.get(os.path.basename(h))
        if target and target.startswith("agent/") and module(target) != m:
            graph[m].add(module(target))

cycles = []
state = {}


def visit(m, stack):
    state[m] = 1
    stack.append(m)
    for n in sorted(graph.get(m, ())):
        if state.get(n) == 1:
            cycles.append(stack[stack.index(n):] + [n])
        elif not state.get(n):
            visit(n, stack)
    stack.pop()
    state[m] = 2


for m in sorted(graph):
    if not state.get(m):
        visit(m, [])

ups = []
for rel, incs in sorted(files.items()):
    r = rank(rel)
    if r is None or not rel.startswith("agent/daemon/"):
        continue
    for h in incs:
        target = where.get(os.path.basename(h))
        tr = rank(target) if target else None
        if tr is not None and tr > r:
            ups.append(f"{rel} includes {h} ({target}), a layer above")

print("TAP version 13")
print("1..2")
if cycles:
    print("not ok 1 - no include cycle among the agent's modules")
    for c in cycles:
        print("#   " + " -> ".join(c))
else:
    print("ok 1 - no include cycle among the agent's modules "
          f"({len(graph)} modules)")
if ups:
    print("not ok 2 - no daemon file includes a layer above its own")
    for u in ups:
        print("#   " + u)
else:
    print("ok 2 - no daemon file includes a layer above its own")
sys.exit(1 if cycles or ups else 0)
