#!/usr/bin/env python3
"""The rules of the house (doc/architecture.md), checked from the source.

Reads the #include "..." lines of the product code and fails on:
  1. a circle between modules (a module is a file pair x.c + x.h);
  2. a circle between the folders of daemon/ (daemon/core, daemon/sms, ...);
  3. a floor that includes a floor above it: common/ includes nothing of
     ours; modem/ and rules/ only common/; the simulator only modem/ and
     common/; core/ of daemon/ nothing of daemon/ but itself; no folder of
     daemon/ includes main.c's features except main.c and ops/;
  4. a .c file of product code over 1,000 lines;
  5. a header name that two folders both have (includes are by name).

Prints one line per finding and ends with 'N passed, N failed' (one check
per rule). Usage: check.py [TOP]
"""
import os
import re
import sys

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", ".."))
PRODUCT = ["common", "modem", "rules", "daemon", "hub"]
MAX_LINES = 1000
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Which floors a folder may include (besides itself). A folder not listed
# under daemon/ is a feature: it may include the libraries, core, store,
# inbox and anything else that does not make a circle.
LIBS = {"common", "modem", "rules"}
ALLOWED = {
    "common": set(),
    "modem": {"common"},
    "rules": {"common"},
    "modem/sim": {"modem", "common"},
    "daemon/core": LIBS,
    "daemon/store": LIBS | {"daemon/core"},
    "daemon/inbox": LIBS | {"daemon/core", "daemon/store"},
}


def sources():
    for top in PRODUCT:
        root = os.path.join(TOP, top)
        for d, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), TOP)


def folder(path):
    return os.path.dirname(path)


def main():
    files = list(sources())
    by_name = {}
    for f in files:
        if f.endswith(".h"):
            by_name.setdefault(os.path.basename(f), []).append(f)
    findings = {1: [], 2: [], 3: [], 4: [], 5: []}
    for name, where in sorted(by_name.items()):
        if len(where) > 1:
            findings[5].append(f"header {name} in {', '.join(where)}")

    def module(f):
        # A private header x_int.h belongs to module x (its .c files
        # share it); every other file pair is its own module.
        m = os.path.splitext(f)[0]
        if m.endswith("_int") and not os.path.exists(
                os.path.join(TOP, m + ".c")):
            m = m[:-4]
        return m

    mod_edges = {}
    fold_edges = {}
    for f in files:
        with open(os.path.join(TOP, f), errors="replace") as fh:
            text = fh.read()
        if f.endswith(".c") and text.count("\n") > MAX_LINES:
            findings[4].append(f"{f}: {text.count(chr(10))} lines "
                               f"(at most {MAX_LINES}; split it by job)")
        for inc in INC.findall(text):
            target = by_name.get(os.path.basename(inc))
            if not target:
                continue  # generated (simpul-config.h) or system
            t = target[0]
            a, b = module(f), module(t)
            if a != b:
                mod_edges.setdefault(a, set()).add(b)
            fa, fb = folder(f), folder(t)
            if fa != fb:
                fold_edges.setdefault(fa, set()).add((fb, f, inc))
                allowed = ALLOWED.get(fa)
                if not fa.startswith("daemon") and fb.startswith("daemon"):
                    findings[3].append(f"{f} includes {inc} from {fb}/ "
                                       "(libraries know nothing of the "
                                       "daemon)")
                elif allowed is not None and fb not in allowed:
                    findings[3].append(
                        f"{f} includes {inc} from {fb}/ ({fa}/ may "
                        "include only "
                        f"{', '.join(sorted(allowed)) or 'nothing of ours'})")
    for cyc in cycles({k: set(v) for k, v in mod_edges.items()}):
        findings[1].append("module circle: " + " -> ".join(cyc + [cyc[0]]))
    fold_graph = {k: {b for b, _, _ in v} for k, v in fold_edges.items()}
    for cyc in cycles(fold_graph):
        why = []
        for i, a in enumerate(cyc):
            b = cyc[(i + 1) % len(cyc)]
            ex = next((f"{f} -> {inc}" for t, f, inc in fold_edges[a]
                       if t == b), "")
            why.append(ex)
        findings[2].append("folder circle: " + " -> ".join(cyc + [cyc[0]])
                           + " (" + "; ".join(why) + ")")
    names = {1: "no circle between modules",
             2: "no circle between daemon/ folders",
             3: "floors include only the floors below",
             4: f"no product .c over {MAX_LINES} lines",
             5: "header names unique"}
    passed = failed = 0
    for k in sorted(names):
        if findings[k]:
            failed += 1
            print(f"FAIL {names[k]}:")
            for line in findings[k]:
                print(f"  {line}")
        else:
            passed += 1
            print(f"ok   {names[k]}")
    print(f"{len(files)} files read")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan),
    each as a list in a readable order."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    nodes = set(graph) | {b for v in graph.values() for b in v}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
