"""Tests of the test runners themselves (tests/run, .ci/run,
tests/valgrind): each builds a tiny fake tree (fake test files, a fake
'meson' that writes a chosen testlog.json, fake CI steps) and checks that
the runner does not report a pass it did not see.

SIMPUL_RUNNER_TOP=/path/to/another/checkout runs these tests against that
tree's runners (e.g. an old commit, to see them fail there)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import harness  # noqa: E402

SRC = os.environ.get("SIMPUL_RUNNER_TOP") or os.path.dirname(
    os.path.dirname(HERE))

FAKE_MESON = r'''#!/usr/bin/env python3
import json, os, sys
a = sys.argv[1:]
assert a[0] == "test", a
build, suite, names, i = ".", None, [], 1
while i < len(a):
    if a[i] in ("-C", "--num-processes", "--suite"):
        if a[i] == "-C":
            build = a[i + 1]
        if a[i] == "--suite":
            suite = a[i + 1]
        i += 2
        continue
    if not a[i].startswith("-"):
        names.append(a[i])
    i += 1
listed = [l for l in os.environ.get("FAKE_MESON_LIST", "").split(",") if l]
sel = [l for l in listed
       if (suite is None or suite in l.split(" / ")[0].split(":", 1)[-1])
       and (not names or l.split(" / ")[-1] in names)]
if "--list" in a:
    print("\n".join(sel))
    sys.exit(0)
if not sel:
    print("No suitable tests defined.")
    sys.exit(0)
if os.environ.get("FAKE_MESON_NOLOG"):
    sys.exit(0)
res = json.loads(os.environ.get("FAKE_MESON_RESULTS", "{}"))
os.makedirs(os.path.join(build, "meson-logs"), exist_ok=True)
rc = 0
with open(os.path.join(build, "meson-logs", "testlog.json"), "w") as f:
    for l in sel:
        r = res.get(l.split(" / ")[-1], "OK")
        rc |= r == "FAIL"
        f.write(json.dumps({"name": l, "result": r, "stdout": ""}) + "\n")
sys.exit(rc)
'''

ONE_PASS = "import unittest\nclass T(unittest.TestCase):\n" \
           "    def test_a(self):\n        self.assertEqual(1, 1)\n"


class Tree:
    """A fake checkout: the runners under test copied from SRC, fake
    tests and fake tools on PATH."""

    def __init__(self, case):
        self.top = tempfile.mkdtemp(prefix="simpul-runner-")
        case.addCleanup(shutil.rmtree, self.top, True)
        self.bin = os.path.join(self.top, "fakebin")
        self.build = os.path.join(self.top, "build")
        for d in ("tests/integration", "build/meson-logs", "fakebin", ".ci",
                  "scripts", "packaging", "tests/fuzz"):
            os.makedirs(os.path.join(self.top, d), exist_ok=True)
        for p in ("tests/run", "tests/integration/harness.py", ".ci/run",
                  "tests/valgrind"):
            shutil.copy(os.path.join(SRC, p), os.path.join(self.top, p))
        # harness.py reads the office calendar from etc/
        shutil.copytree(os.path.join(SRC, "etc"), os.path.join(self.top,
                                                               "etc"))
        self.script("fakebin/meson", FAKE_MESON)
        self.env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"],
                        FAKE_MESON_LIST="simpul:core / store,"
                                        "simpul:rules / hours")
        self.env.pop("CI", None)
        self.env.pop("SIMPUL_WRAP", None)

    def script(self, rel, text):
        p = os.path.join(self.top, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)

    def test_file(self, name, text):
        header = ("import sys, os\nsys.path.insert(0, os.path.dirname("
                  "os.path.abspath(__file__)))\nimport harness\n")
        self.script(f"tests/integration/{name}",
                    header + textwrap.dedent(text))

    def run(self, *args, prog="tests/run", **env):
        e = dict(self.env, **env)
        r = subprocess.run([os.path.join(self.top, prog), *args], cwd=self.top,
                           env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        return r.returncode, r.stdout

    def stale_log(self, n=152):
        with open(os.path.join(self.build, "meson-logs", "testlog.json"),
                  "w") as f:
            for i in range(n):
                f.write(json.dumps({"name": f"old{i}", "result": "OK",
                                    "stdout": ""}) + "\n")


class RunnerTests(unittest.TestCase):
    def test_only_matching_nothing_is_a_failure(self):
        # the issue: '--only rules' became '--suite rules', meson found
        # nothing and the previous testlog.json said 152 passed.
        t = Tree(self)
        t.env["FAKE_MESON_LIST"] = "simpul:core / store"
        t.stale_log()
        rc, out = t.run("--build", t.build, "--only", "rules",
                        "--no-integration")
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn("152 passed", out)
        self.assertRegex(out, r"0 passed, [1-9]\d* failed")

    def test_stale_log_is_not_counted_again(self):
        t = Tree(self)
        t.stale_log()
        rc, out = t.run("--build", t.build, "--no-integration",
                        FAKE_MESON_NOLOG="1")
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn("152 passed", out)

    def test_fewer_results_than_tests_listed_is_a_failure(self):
        t = Tree(self)
        t.script("fakebin/meson", FAKE_MESON.replace(
            "    for l in sel:", "    for l in sel[:1]:"))
        rc, out = t.run("--build", t.build, "--no-integration")
        self.assertNotEqual(rc, 0, out)

    def test_file_that_runs_nothing_is_a_failure(self):
        t = Tree(self)
        t.test_file("test_empty.py", """\
            if __name__ == "__main__":
                print("0 passed, 0 failed")
            """)
        rc, out = t.run("--build", t.build)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"test_empty.py: 0 passed, [1-9]")

    def test_file_that_prints_no_count_is_a_failure(self):
        t = Tree(self)
        t.test_file("test_silent.py", "pass\n")
        rc, out = t.run("--build", t.build)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"test_silent.py: 0 passed, [1-9]")

    def test_meson_skip_is_a_skip_not_a_pass(self):
        t = Tree(self)
        t.env["FAKE_MESON_RESULTS"] = json.dumps({"hours": "SKIP"})
        rc, out = t.run("--build", t.build, "--no-integration")
        self.assertEqual(rc, 0, out)
        self.assertIn("1 passed, 0 failed, 1 skipped", out.splitlines()[-1])
        rc, out = t.run("--build", t.build, "--no-integration", CI="true")
        self.assertNotEqual(rc, 0, out)

    def test_python_skip_is_a_skip_and_fails_in_ci(self):
        # test_modemsim_gammu.py: a class skipped without gammu was
        # counted as passed.
        t = Tree(self)
        t.test_file("test_skips.py", ONE_PASS + textwrap.dedent("""\
            class S(unittest.TestCase):
                @unittest.skip("gammu is not installed")
                def test_b(self):
                    pass
            if __name__ == "__main__":
                harness.main()
            """))
        rc, out = t.run("--build", t.build, "--no-unit")
        self.assertEqual(rc, 0, out)
        self.assertEqual("1 passed, 0 failed, 1 skipped",
                         out.splitlines()[-1])
        rc, out = t.run("--build", t.build, "--no-unit", CI="true")
        self.assertNotEqual(rc, 0, out)

    def test_ci_step_that_prints_no_count_is_a_failure(self):
        # the fuzz step printed no count and .ci/run took it as 0 failed
        t = Tree(self)
        ok = "#!/bin/sh\necho '3 passed, 0 failed'\n"
        for p in ("scripts/deps", "packaging/check", "tests/sanitize",
                  "tests/valgrind", "tests/mutate", "tests/arm"):
            t.script(p, ok if p != "scripts/deps" else "#!/bin/sh\n")
        t.script("scripts/test", ok)
        t.script("tests/fuzz/run-short", "#!/bin/sh\necho fuzz: done\n")
        rc, out = t.run(prog=".ci/run")
        self.assertNotEqual(rc, 0, out)
        t.script("tests/fuzz/run-short", ok)
        rc, out = t.run(prog=".ci/run")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines()[-1].split(",")[0], "21 passed")

    def test_valgrind_log_without_summary_is_a_failure(self):
        # A simpuld that died under valgrind without its summary was
        # taken as clean; only one the tests SIGKILLed on purpose may.
        t = Tree(self)
        for tool in ("valgrind", "ninja"):
            t.script("fakebin/" + tool, "#!/bin/sh\nexit 0\n")
        os.makedirs(os.path.join(t.top, "build-vg"))
        open(os.path.join(t.top, "build-vg", "build.ninja"), "w").close()
        logs = os.path.join(t.top, "build-vg", "valgrind")
        t.script("tests/run", textwrap.dedent(f"""\
            #!/bin/sh
            printf '==7== Memcheck\\n==7== ERROR SUMMARY: 0 errors\\n' \\
                > {logs}/vg-7.log
            printf '==8== Memcheck, a memory error detector\\n' \\
                > {logs}/vg-8.log
            [ -n "$KILLED" ] && echo 8 >> {logs}/killed
            echo '2 passed, 0 failed, 0 skipped'
            """))
        rc, out = t.run(prog="tests/valgrind")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("vg-8.log", out)
        rc, out = t.run(prog="tests/valgrind", KILLED="1")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
