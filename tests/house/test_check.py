#!/usr/bin/env python3
"""The house check can fail: each rule is broken on purpose in a small
tree of its own, and check.py must name it. Ends 'N passed, N failed'."""
import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check.py")


def tree(files):
    d = tempfile.mkdtemp(prefix="house-")
    for path, text in files.items():
        p = os.path.join(d, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as fh:
            fh.write(text)
    return d


def run(files):
    r = subprocess.run([sys.executable, CHECK, tree(files)],
                       stdout=subprocess.PIPE, text=True)
    return r.returncode, r.stdout


CLEAN = {"common/a.c": '#include "a.h"\n', "common/a.h": "",
         "daemon/core/log.c": '#include "log.h"\n#include "a.h"\n',
         "daemon/core/log.h": "",
         "daemon/sms/sms.c": '#include "sms.h"\n#include "log.h"\n',
         "daemon/sms/sms.h": ""}

CASES = [
    ("clean tree passes", {}, None),
    ("module circle", {"daemon/sms/x.c": '#include "y.h"\n',
                       "daemon/sms/x.h": "",
                       "daemon/sms/y.c": '#include "x.h"\n',
                       "daemon/sms/y.h": ""}, "module circle"),
    ("folder circle", {"daemon/web/api.c": '#include "sms.h"\n',
                       "daemon/web/api.h": "",
                       "daemon/sms/sms.c": '#include "api.h"\n'},
     "folder circle"),
    ("library includes daemon", {"modem/m.c": '#include "log.h"\n'},
     "libraries know nothing of the daemon"),
    ("core includes a feature", {"daemon/core/log.c": '#include "sms.h"\n'},
     "daemon/core/ may include only"),
    ("long file", {"rules/big.c": "int x;\n" * 1001}, "1001 lines"),
    ("header twice", {"daemon/web/log.h": ""}, "header log.h in"),
]


def main():
    passed = failed = 0
    for name, extra, want in CASES:
        rc, out = run({**CLEAN, **extra})
        ok = (rc == 0) if want is None else (rc != 0 and want in out)
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            print(out)
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
