#!/usr/bin/env python3
"""simpuld and simpulctl on the command line: --help and --version answer
on stdout with exit 0, the usage names every command of the man page, and
a usage error exits 2 as the man pages say."""
import os
import re
import subprocess

import harness
from harness import Case


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=30 * harness.TIMEOUT_SCALE)


def man_commands():
    """The commands of simpulctl(1): the first word after each .TP of
    COMMANDS."""
    text = open(os.path.join(harness.TOP, "doc", "simpulctl.1")).read()
    sec = text.split(".SH COMMANDS", 1)[1].split("\n.SH ", 1)[0]
    names = set()
    for item in sec.split(".TP\n")[1:]:
        first = item.split("\n", 1)[0]
        m = re.match(r'\.B[IR]?\s+"?([a-z]+)', first)
        if m:
            names.add(m.group(1))
    return names


class Cli(Case):
    def test_help_and_version_exit_0(self):
        for prog in (harness.SIMPULD, harness.SIMPULCTL):
            for opt in ("--help", "-h"):
                r = run(prog, opt)
                self.assertEqual(r.returncode, 0, (prog, opt, r.stderr))
                self.assertIn("usage:", r.stdout)
                self.assertIn("--version", r.stdout)
            r = run(prog, "--version")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^simpul(d|ctl) \d+\.\d+\.\d+\n$")

    def test_usage_names_every_command_of_the_man_page(self):
        names = man_commands()
        self.assertIn("user", names)
        self.assertGreaterEqual(len(names), 10)
        usage = run(harness.SIMPULCTL, "--help").stdout
        listed = set(re.findall(r"^  ([a-z]+)", usage, re.M))
        self.assertEqual(names - listed, set(), usage)

    def test_usage_errors_exit_2(self):
        for args in ([harness.SIMPULD, "--bogus"], [harness.SIMPULD, "x"],
                     [harness.SIMPULCTL, "--bogus"], [harness.SIMPULCTL]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn("usage:", r.stderr)


if __name__ == "__main__":
    harness.main()
