#!/usr/bin/env python3
"""The C code follows .clang-format: clang-format --dry-run --Werror over
every .c and .h file of the tree (product, tests, fuzzers). Prints the
files that differ and 'N passed, N failed'.

Usage: format.py SOURCE_ROOT"""
import os
import shutil
import subprocess
import sys

DIRS = ("common", "daemon", "hub", "modem", "rules", "tests", "bench")


def files(top):
    for d in DIRS:
        for root, _, names in os.walk(os.path.join(top, d)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.join(root, n)


def main():
    top = sys.argv[1]
    tool = shutil.which("clang-format")
    if not tool:
        print("clang-format is not installed (scripts/deps installs it)\n"
              "0 passed, 1 failed")
        return 1
    paths = list(files(top))
    # one run for all files; its warnings name the files that differ
    r = subprocess.run([tool, "--dry-run", "--Werror"] + paths,
                       capture_output=True, text=True, cwd=top)
    differ = {f for f in paths if f + ":" in r.stderr}
    if r.returncode and not differ:
        print(r.stderr[-2000:] + "\n0 passed, 1 failed")
        return 1
    for f in sorted(differ):
        rel = os.path.relpath(f, top)
        print(f"{rel}: not as .clang-format says (clang-format -i {rel})")
    good, bad = len(paths) - len(differ), len(differ)
    print(f"{good} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
