#!/usr/bin/env python3
"""Fidelity: Debian's stock gammu, knowing nothing of the simulator, must
identify it and read injected messages as it would from a real modem."""
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Sim  # noqa: E402

TEXTS = {
    "+6281311110001": "Selamat pagi, kantor buka jam berapa?",
    "+6281311110002": "Harga \u20ac5 [a] {b} ~c ^d \\e |f",
    "+6281311110003": "Terima kasih Bu \U0001F64F\U0001F60A sudah dibantu",
}
LONG = " ".join("Mohon surat pengantar nomor %02d untuk KTP." % i
                for i in range(9))


def gammu(tmp, device, *args):
    rc = os.path.join(tmp, "gammurc")
    with open(rc, "w") as f:
        f.write(f"[gammu]\ndevice = {device}\nconnection = at\n"
                f"logformat = textall\nlogfile = {tmp}/gammu.log\n")
    return subprocess.run(["gammu", "-c", rc, *args], capture_output=True,
                          text=True, timeout=120)


def wait_urc(pty, text, timeout=20):
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    try:
        got, end = b"", time.monotonic() + timeout
        while text not in got:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} from the modem: {got!r}")
            if select.select([fd], [], [], left)[0]:
                got += os.read(fd, 4096)
    finally:
        os.close(fd)


@unittest.skipUnless(shutil.which("gammu"), "gammu is not installed")
class GammuCase(unittest.TestCase):
    profile = "sim800"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simpul-gammu-")
        self.sim = Sim(self.tmp, self.profile)
        # the end of the boot: SIM800 refuses SMS commands until its
        # "SMS Ready" URC; the E3531 reports its SIM with ^SIMST
        wait_urc(self.sim.pty, {"sim800": b"SMS Ready",
                                "e3531": b"^SIMST"}[self.profile])

    def tearDown(self):
        self.sim.stop()

    def test_identify(self):
        r = gammu(self.tmp, self.sim.link, "identify")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("510101234567890", r.stdout)
        self.assertIn("IMEI", r.stdout)

    def test_getallsms_decodes_injected(self):
        for sender, text in TEXTS.items():
            self.assertEqual(self.sim.sms(sender, text), "1")
        self.assertEqual(self.sim.sms("+6281311110004", LONG), "3")
        r = gammu(self.tmp, self.sim.link, "getallsms")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for sender, text in TEXTS.items():
            self.assertIn(f'"{sender}"', r.stdout)
            self.assertIn("\n" + text + "\n", r.stdout)
        self.assertIn("6 SMS parts in 6 SMS sequences", r.stdout)
        self.assertEqual(r.stdout.count("part 1 of 3"), 1)
        self.assertEqual(r.stdout.count("part 3 of 3"), 1)
        # The three parts, in order, make the original text.
        bodies = []
        for block in r.stdout.split("Location ")[1:]:
            if "of 3" in block:
                bodies.append(block.split("\n\n", 2)[1])
        self.assertEqual("".join(bodies), LONG)


class GammuE3531(GammuCase):
    profile = "e3531"


if __name__ == "__main__":
    harness.main()
