#!/usr/bin/env python3
"""simpul-modemsim talked to directly: AT over its pty, faults and SMS
injection over its control socket."""
import os
import re
import select
import sys
import tempfile
import termios
import time
import tty
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TIMEOUT_SCALE, Sim, wait_for  # noqa: E402

# "Hello" to +6281311112222, SMS-SUBMIT, GSM-7, default SMSC ("00").
FINAL = re.compile(rb"\r\n(OK|ERROR|\+CM[ES] ERROR: \d+)\r\n")
SUBMIT_HELLO = "0011000D91261813112122F20000FF05C8329BFD06"


class Port:
    """The client side of the pty, raw, with a line reader."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.buf = b""

    def close(self):
        os.close(self.fd)

    def write(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def read_until(self, pred, timeout=5.0):
        end = time.monotonic() + timeout * TIMEOUT_SCALE
        while not pred(self.buf):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timeout; got {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.buf += os.read(self.fd, 4096)
        out, self.buf = self.buf, b""
        return out.decode(errors="replace")

    def cmd(self, line, timeout=5.0):
        self.write(line + "\r")
        return self.read_until(lambda b: FINAL.search(b), timeout)

    def urc(self, text, timeout=5.0):
        return self.read_until(lambda b: text.encode() in b, timeout)


class SimCase(unittest.TestCase):
    profile = "sim800"
    args = ()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simpul-sim-")
        self.sim = Sim(self.tmp, self.profile, self.args)
        self.port = Port(self.sim.pty)
        if self.profile == "sim800" and "--pin" not in self.args:
            # SIM800 refuses SMS commands until it says "SMS Ready".
            wait_for(lambda: "302" not in self.port.cmd("AT+CMEE=1")
                     and "302" not in self.port.cmd("AT+CPMS?"),
                     what="SMS Ready")
        self.port.cmd("ATE0")
        self.port.cmd("AT+CMEE=1")

    def tearDown(self):
        self.port.close()
        self.sim.stop()


class TestSim800(SimCase):
    def test_identify(self):
        self.assertIn("OK", self.port.cmd("AT"))
        self.assertIn("SIMCOM_Ltd", self.port.cmd("AT+CGMI"))
        self.assertIn("SIM800", self.port.cmd("AT+CGMM"))
        self.assertRegex(self.port.cmd("AT+CGSN"), r"\d{15}")
        self.assertIn("510101234567890", self.port.cmd("AT+CIMI"))
        self.assertIn("+CPIN: READY", self.port.cmd("AT+CPIN?"))
        self.assertIn("+CSQ: 18,99", self.port.cmd("AT+CSQ"))
        self.assertIn("+CREG: 0,1", self.port.cmd("AT+CREG?"))
        self.assertIn("TELKOMSEL", self.port.cmd("AT+COPS?"))
        self.assertIn("+CME ERROR", self.port.cmd("AT+FOOBAR"))
        self.port.cmd("AT+CMEE=0")
        self.assertEqual(self.port.cmd("AT+FOOBAR").strip(), "ERROR")

    def test_echo(self):
        out = self.port.cmd("ATE1")
        out = self.port.cmd("AT+CGMI")
        self.assertTrue(out.startswith("AT+CGMI\r"), out)

    def test_inject_list_read_delete(self):
        self.assertEqual(self.sim.sms("+6281311112222", "Halo Pak RT"), "1")
        self.assertIn('+CMTI: "SM",1', self.port.urc("+CMTI"))
        stored = self.sim.stored()
        self.assertEqual(len(stored), 1)
        pdu = stored[0]["pdu"]
        out = self.port.cmd("AT+CMGL=4")
        self.assertIn("+CMGL: 1,0,,", out)
        self.assertIn(pdu, out)
        # Listing marked it read: the unread filter is now empty.
        self.assertNotIn("+CMGL:", self.port.cmd("AT+CMGL=0"))
        self.assertIn("+CMGL: 1,1,,", self.port.cmd("AT+CMGL=1"))
        self.assertIn(pdu, self.port.cmd("AT+CMGR=1"))
        self.assertIn("OK", self.port.cmd("AT+CMGD=1"))
        self.assertEqual(self.sim.stored(), [])
        self.assertIn("+CPMS: \"SM\",0,30", self.port.cmd("AT+CPMS?"))
        stats = self.sim.ctl("stats")
        self.assertIn('"deletes":1', stats)

    def test_delete_flags(self):
        for i in range(3):
            self.sim.sms("+62813111122%02d" % i, "pesan %d" % i)
        self.port.cmd("AT+CMGR=2")  # read one
        self.port.cmd("AT+CMGD=0,1")  # delete all read
        self.assertEqual(len(self.sim.stored()), 2)
        self.port.cmd("AT+CMGD=0,4")  # delete all
        self.assertEqual(self.sim.stored(), [])

    def test_send_with_prompt(self):
        n = (len(SUBMIT_HELLO) - 2) // 2
        self.port.write(f"AT+CMGS={n}\r")
        # The prompt has no line ending after it.
        self.port.read_until(lambda b: b.endswith(b"> "))
        self.port.write(SUBMIT_HELLO + "\x1a")
        out = self.port.read_until(lambda b: b"OK\r\n" in b)
        self.assertRegex(out, r"\+CMGS: \d+")
        sent = self.sim.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["to"], "+6281311112222")
        self.assertEqual(sent[0]["text"], "Hello")
        self.assertEqual(sent[0]["pdus"], [SUBMIT_HELLO])

    def test_send_escape_aborts(self):
        self.port.write("AT+CMGS=20\r")
        self.port.read_until(lambda b: b.endswith(b"> "))
        self.port.write("0011\x1b")
        self.assertIn("OK", self.port.read_until(lambda b: b"OK" in b))
        self.assertEqual(self.sim.sent(), [])

    def test_send_bad_length_is_cms_304(self):
        self.port.write("AT+CMGS=5\r")
        out = self.port.read_until(lambda b: b"ERROR" in b or b"> " in b)
        if "> " in out:
            self.port.write(SUBMIT_HELLO + "\x1a")
            out = self.port.read_until(lambda b: b"ERROR" in b)
        self.assertIn("+CMS ERROR: 304", out)

    def test_fault_cms(self):
        self.sim.ctl("fault cms 500 1")
        n = (len(SUBMIT_HELLO) - 2) // 2
        for want in ("+CMS ERROR: 500", "+CMGS:"):
            self.port.write(f"AT+CMGS={n}\r")
            self.port.read_until(lambda b: b.endswith(b"> "))
            self.port.write(SUBMIT_HELLO + "\x1a")
            out = self.port.read_until(
                lambda b: b"OK\r\n" in b or b"ERROR" in b)
            self.assertIn(want, out)
        self.assertEqual(len(self.sim.sent()), 1)

    def test_cusd_balance(self):
        self.assertIn("OK", self.port.cmd('AT+CUSD=1,"*888#",15'))
        out = self.port.urc("+CUSD: 0", timeout=5)
        self.assertIn("Sisa pulsa Anda Rp 12.500", self.port.urc(",15")
                      if ",15" not in out else out)
        self.sim.ctl("credit 30.000")
        self.port.cmd('AT+CUSD=1,"*888#",15')
        self.assertIn("Rp 30.000", self.port.urc(",15"))

    def test_fault_hang(self):
        # Input during a hang is lost: ask until the modem answers again;
        # of all the commands sent, only the last gets an answer.
        self.sim.ctl("fault hang 2")
        self.port.write("AT\r")
        tries, out = 0, ""
        end = time.monotonic() + 20
        while "OK" not in out and time.monotonic() < end:
            tries += 1
            self.port.write("ATI\r")
            try:
                out = self.port.read_until(lambda b: b"OK" in b, 0.5)
            except AssertionError:
                pass
        self.assertGreater(tries, 1, "the hang did not hold any command")
        self.assertEqual(out.count("OK"), 1, out)

    def test_fault_unplug_new_path(self):
        old = self.sim.pty
        self.assertEqual(os.path.realpath(self.sim.link), old)
        self.sim.ctl("fault unplug 1")
        new = self.sim.proc.stdout.readline().strip()
        self.assertTrue(new.startswith("/dev/"))
        self.assertNotEqual(new, old)
        self.assertEqual(os.path.realpath(self.sim.link), new)
        self.port.close()
        self.port = Port(self.sim.link)
        # A re-plugged SIM800 boots again: RDY ... SMS Ready.
        self.port.urc("SMS Ready")
        self.assertIn("OK", self.port.cmd("AT"))

    def test_storage_full_waits_at_smsc(self):
        self.sim.ctl("fault full")
        out = self.sim.sms("+6281311112222", "tunggu")
        self.assertIn("waiting at the SMSC", out)
        self.assertEqual(self.sim.stored(), [])
        self.sim.ctl("fault clear")
        self.assertIn("+CMTI", self.port.urc("+CMTI"))
        self.assertEqual(len(self.sim.stored()), 1)

    def test_parts_order(self):
        text = "".join("kalimat nomor %03d. " % i for i in range(20))
        self.assertEqual(self.sim.ctl(f"parts +6281311112222 77 3,1,2,2 {text}"),
                         "4")
        self.assertEqual(len(self.sim.stored()), 4)
        self.assertIn("ERR", self._raw_ctl(f"parts +628 5 9 {text}"))

    def _raw_ctl(self, line):
        try:
            return self.sim.ctl(line)
        except RuntimeError as e:
            return "ERR " + str(e)

    def test_reboot_not_ready(self):
        self.sim.ctl("fault reboot")
        out = self.port.urc("RDY")
        self.port.cmd("AT+CMEE=1")
        self.assertIn("+CMS ERROR: 302", self.port.cmd("AT+CMGL=4"))
        self.port.urc("SMS Ready")
        self.assertIn("OK", self.port.cmd("AT+CMGL=4"))
        del out

    def test_status_report(self):
        # SUBMIT_HELLO with TP-SRR (first octet 31).
        pdu = "0031" + SUBMIT_HELLO[4:]
        self.port.cmd("AT+CNMI=2,1,0,2,0")
        n = (len(pdu) - 2) // 2
        self.port.write(f"AT+CMGS={n}\r")
        self.port.read_until(lambda b: b.endswith(b"> "))
        self.port.write(pdu + "\x1a")
        self.port.read_until(lambda b: b"OK\r\n" in b)
        self.assertIn('+CDSI: "SM",1', self.port.urc("+CDSI"))


class TestSim800Pin(SimCase):
    args = ("--pin", "1234")

    def test_pin_flow(self):
        self.assertIn("SIM PIN", self.port.cmd("AT+CPIN?"))
        self.assertIn("+CMS ERROR: 311", self.port.cmd("AT+CMGL=4"))
        self.assertIn("+CME ERROR: 16", self.port.cmd('AT+CPIN="0000"'))
        self.assertIn("OK", self.port.cmd('AT+CPIN="1234"'))
        self.assertIn("READY", self.port.cmd("AT+CPIN?"))


class TestE3531(SimCase):
    profile = "e3531"

    def test_noise_until_curc0(self):
        self.assertIn("^", self.port.urc("^", timeout=5))
        self.port.cmd("AT^CURC=0")
        # the noise also lands between the entries of a listing (see
        # test_noise_inside_listing): a listing after CURC=0 proves the
        # modem had its chance to send some and did not
        for i in range(3):
            self.sim.sms("+62813111133%02d" % i, "pesan %d" % i)
        self.port.cmd('AT+CPMS="ME","ME","ME"')
        out = self.port.cmd("AT+CMGL=4")
        self.assertEqual(out.count("+CMGL:"), 3, out)
        self.assertNotIn("^", out)

    def test_cnmi_fallback(self):
        self.assertIn("ERROR", self.port.cmd("AT+CNMI=2,1,0,2,0"))
        self.assertIn("OK", self.port.cmd("AT+CNMI=2,1,2,2,0"))

    def test_zero_based_me_indices(self):
        self.port.cmd("AT^CURC=0")
        self.sim.sms("+6281311112222", "satu")
        self.assertIn('+CMTI: "ME",0', self.port.urc("+CMTI"))
        self.port.cmd('AT+CPMS="ME","ME","ME"')
        self.assertIn("+CMGL: 0,0,,", self.port.cmd("AT+CMGL=4"))
        self.port.cmd("AT+CMGD=0")
        self.assertEqual(self.sim.stored(), [])

    def test_noise_inside_listing(self):
        for i in range(3):
            self.sim.sms("+62813111122%02d" % i, "pesan %d" % i)
        self.port.cmd('AT+CPMS="ME","ME","ME"')
        out = self.port.cmd("AT+CMGL=4")
        body = out[out.index("+CMGL:"):out.rindex("+CMGL:")]
        self.assertIn("^", body)


if __name__ == "__main__":
    harness.main()
