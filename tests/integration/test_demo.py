#!/usr/bin/env python3
"""The README's demo (scripts/demo.py): it works when port 8080 is taken,
an SMS sent into it reaches the inbox, and Ctrl-C, SIGTERM or a port
error leave no process behind and print no traceback."""
import os
import re
import signal
import socket
import subprocess
import sys

import harness
from harness import Case, wait_for

DEMO = os.path.join(harness.TOP, "scripts", "demo.py")


def descendants(pid):
    """Every process below pid, from /proc/PID/task/*/children."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                kids = []
            out += kids
            stack += kids
    return out


def alive(pid):
    """True while pid runs (a zombie has finished)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def using(path):
    """Processes whose command line names path (the demo's directory)."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if path.encode() in f.read() and alive(int(d)):
                        found.append(int(d))
            except OSError:
                pass
    return found


class Demo(Case):
    def setUp(self):
        super().setUp()
        # Hold 8080 (if someone else already does, it is taken all the same).
        self.blocker = socket.socket()
        self.blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.blocker.bind(("127.0.0.1", 8080))
            self.blocker.listen(1)
        except OSError:
            pass
        self.addCleanup(self.blocker.close)
        self.procs_seen = []

    def start_demo(self, *args):
        self.out = open(os.path.join(self.tmp, "demo.out"), "w+")
        p = subprocess.Popen([sys.executable, DEMO, "--dir", self.tmp, *args],
                             stdout=self.out, stderr=subprocess.STDOUT,
                             env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.addCleanup(self.reap, p)
        return p

    def reap(self, p):
        if p.poll() is None:
            p.kill()
            p.wait()
        for pid in self.procs_seen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def output(self):
        self.out.seek(0)
        return self.out.read()

    def wait_running(self, p):
        wait_for(lambda: "Ctrl-C stops the demo" in self.output()
                 or p.poll() is not None, timeout=120, what="the demo")
        self.assertIsNone(p.poll(), self.output())
        self.procs_seen = descendants(p.pid)
        return self.output()

    def stop_and_check(self, p, sig):
        kids = descendants(p.pid)
        self.assertGreaterEqual(len(kids), 3, "sim, fake Graph, simpuld")
        p.send_signal(sig)
        # simpuld may wait up to 15 s for a send in flight (README), and
        # each program gets its own bounded stop: 120 s is generous.
        rc = p.wait(120 * harness.TIMEOUT_SCALE)
        self.assertEqual(rc, 0, self.output())
        wait_for(lambda: not [k for k in kids if alive(k)], timeout=10,
                 what="no process of the demo left")
        self.assertEqual(using(self.tmp), [])
        self.assertNotIn("Traceback", self.output())

    def test_port_8080_taken_picks_another_and_sigterm_stops_all(self):
        p = self.start_demo()
        out = self.wait_running(p)
        m = re.search(r"Port 8080 is taken: the demo uses port (\d+)", out)
        self.assertTrue(m, out)
        port = int(m.group(1))
        st, body = harness.http("GET", f"http://127.0.0.1:{port}/healthz")
        self.assertEqual(st, 200, body)
        # The line it prints for a test SMS works as printed.
        line = re.search(r"Send a test SMS: scripts/demo (sms \S+ '[^']+')",
                         out)
        self.assertTrue(line, out)
        text = "Halo, mau tanya syarat KK"
        r = subprocess.run([sys.executable, DEMO, "--dir", self.tmp, "sms",
                            "081234567890", text], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = os.path.join(self.tmp, "simpul.ini")
        wait_for(lambda: text in subprocess.run(
            [harness.SIMPULCTL, "-c", conf, "inbox"], capture_output=True,
            text=True).stdout, timeout=30, what="the test SMS in the inbox")
        self.stop_and_check(p, signal.SIGTERM)

    def test_ctrl_c_stops_all_and_rt_head_is_known(self):
        p = self.start_demo("--port", str(harness.free_port()))
        self.wait_running(p)
        conf = os.path.join(self.tmp, "simpul.ini")
        # The sample "urus KTP, saya warga RT 03" asked the demo's Ketua RT.
        r = subprocess.run([harness.SIMPULCTL, "-c", conf, "rt", "list",
                            "--all"], capture_output=True, text=True)
        self.assertRegex(r.stdout, r"menunggu +RT 03 \+6281299990001",
                         r.stdout + r.stderr)
        self.stop_and_check(p, signal.SIGINT)

    def test_sigterm_while_starting_leaves_nothing(self):
        p = self.start_demo("--port", str(harness.free_port()))
        # The simulator is up; the daemon may or may not be.
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "sim.ctl"))
                 or p.poll() is not None, what="the simulator started")
        p.send_signal(signal.SIGTERM)
        # simpuld may wait up to 15 s for a send in flight (README), and
        # each program gets its own bounded stop: 120 s is generous.
        rc = p.wait(120 * harness.TIMEOUT_SCALE)
        self.assertEqual(rc, 0, self.output())
        wait_for(lambda: not using(self.tmp), timeout=10,
                 what="no process of the demo left")
        self.assertNotIn("Traceback", self.output())

    def test_taken_port_asked_for_is_an_error_without_traceback(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        p = self.start_demo("--port", str(s.getsockname()[1]))
        # simpuld may wait up to 15 s for a send in flight (README), and
        # each program gets its own bounded stop: 120 s is generous.
        rc = p.wait(120 * harness.TIMEOUT_SCALE)
        self.assertEqual(rc, 1)
        self.assertIn("is taken", self.output())
        self.assertNotIn("Traceback", self.output())
        self.assertEqual(using(self.tmp), [])


if __name__ == "__main__":
    harness.main()
