"""Test harness: the real simpuld, simpulctl and simpul-modemsim from the
build directory, in a temporary directory of their own."""
import configparser
import datetime
import hashlib
import hmac
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zoneinfo

TOP = os.environ.get("SIMPUL_TOP") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SIMPUL_BUILD") or os.path.join(TOP, "build")
SIMPULD = os.path.join(BUILD, "daemon", "simpuld")
SIMPULCTL = os.path.join(BUILD, "daemon", "simpulctl")
MODEMSIM = os.path.join(BUILD, "modem", "sim", "simpul-modemsim")
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
PHONE_ID = "1234567890"
# Under emulation (tests/arm runs the ARM binaries under qemu-user) every
# program is several times slower: SIMPUL_TIMEOUT_SCALE stretches the time
# limits of waits, never what is checked.
TIMEOUT_SCALE = float(os.environ.get("SIMPUL_TIMEOUT_SCALE") or "1")


# ---- the pinned clock ------------------------------------------------
# Every daemon and modem simulator runs at a pinned instant: harness
# writes, into <tmp>/clock, the seconds to add to the real clock
# (SIMPUL_FAKE_CLOCK_FILE, daemon/clock.c and the simulator's wall_now),
# so a test gives the same result at 10.00 and at 22.00. The named
# moments are found in the shipped office hours (etc/rules.d/00-office.ini)
# and holidays (etc/holidays.ini), not written down by hand, so they stay
# right when those files change.

OFFICE_INI = os.path.join(TOP, "etc", "rules.d", "00-office.ini")
HOLIDAYS_INI = os.path.join(TOP, "etc", "holidays.ini")
DAYS = ["senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"]
ANCHOR = datetime.date(2026, 11, 30)  # moments are searched from here


def _ini(path):
    c = configparser.ConfigParser(strict=False, interpolation=None,
                                  comment_prefixes=(";", "#"))
    c.read(path)
    return c


def _intervals(text):
    """'08.00-11.30, 13.30-16.00' -> [(480, 690), (810, 960)] minutes."""
    out = []
    if text.strip() == "tutup":
        return out
    for part in text.split(","):
        a, b = part.strip().split("-")
        out.append(tuple(int(x[:2]) * 60 + int(x[3:5]) for x in (a, b)))
    return out


class Calendar:
    """The office calendar of the shipped rules: weekday hours, holidays,
    closures and dated overrides."""

    def __init__(self):
        o = _ini(OFFICE_INI)
        self.tz = zoneinfo.ZoneInfo(o["office"]["timezone"])
        self.hours = [_intervals(o["office"][d]) for d in DAYS]
        self.special = set()  # days whose hours are not the weekly ones
        for sec in o.sections():
            if sec.startswith("closed "):
                self.special.add(datetime.date.fromisoformat(sec[7:]))
            if sec.startswith("override "):
                a = datetime.date.fromisoformat(o[sec]["from"])
                b = datetime.date.fromisoformat(o[sec]["to"])
                while a <= b:
                    self.special.add(a)
                    a += datetime.timedelta(days=1)
        h = _ini(HOLIDAYS_INI)
        self.holidays = {datetime.date.fromisoformat(k): v
                         for sec in h.sections() for k, v in h[sec].items()}

    def day_hours(self, day):
        """Opening intervals of a date (minutes), [] when closed; None for
        a day with special hours (override, closure)."""
        if day in self.holidays:
            return []
        if day in self.special:
            return None
        return self.hours[day.weekday()]

    def normal_day(self, day):
        return day not in self.holidays and day not in self.special and \
            self.hours[day.weekday()]

    def at(self, day, minute):
        t = datetime.datetime.combine(day, datetime.time(minute // 60,
                                                         minute % 60),
                                      self.tz)
        return int(t.timestamp())

    def local(self, epoch):
        return datetime.datetime.fromtimestamp(epoch, self.tz)

    def is_open(self, epoch):
        t = self.local(epoch)
        m = t.hour * 60 + t.minute
        return any(a <= m < b for a, b in self.day_hours(t.date()) or [])

    def next_open(self, epoch):
        """The next opening after epoch as (weekday name, 'HH.MM')."""
        t = self.local(epoch)
        day, m = t.date(), t.hour * 60 + t.minute
        for _ in range(60):
            for a, _b in self.day_hours(day) or []:
                if a > m:
                    return DAYS[day.weekday()].capitalize(), \
                        f"{a // 60:02d}.{a % 60:02d}"
            day, m = day + datetime.timedelta(days=1), -1
        raise AssertionError("the office never opens")

    def work_after(self, epoch, hours):
        """The instant after that many hours of opening time from epoch
        (how the RT reminder and expiry are due, README 'Ketua RT')."""
        left = hours * 3600
        t = self.local(epoch)
        day, sec = t.date(), t.hour * 3600 + t.minute * 60 + t.second
        for _ in range(400):
            hrs = self.day_hours(day)
            assert hrs is not None, f"{day} has special hours"
            for a, b in hrs:
                s, e = max(a * 60, sec), b * 60
                if e <= s:
                    continue
                if e - s >= left:
                    return self.at(day, 0) + s + left
                left -= e - s
            day, sec = day + datetime.timedelta(days=1), 0
        raise AssertionError("the office never opens")

    def working_days_after(self, epoch, n):
        """The date n working days after epoch's date."""
        day = self.local(epoch).date()
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.day_hours(day):
                n -= 1
        return day

    def _find(self, pred):
        day = ANCHOR
        for _ in range(400):
            if pred(day):
                return day
            day += datetime.timedelta(days=1)
        raise AssertionError("no such day in the calendar")

    def moments(self):
        wk = self._find(lambda d: d.weekday() < 4 and self.normal_day(d))
        fri = self._find(lambda d: d.weekday() == 4 and self.normal_day(d)
                         and len(self.hours[4]) > 1)
        hol = self._find(lambda d: d in self.holidays and d.weekday() < 5
                         and self.hours[d.weekday()])
        first, last = self.hours[wk.weekday()][0], \
            self.hours[wk.weekday()][-1]
        brk = (self.hours[4][0][1] + self.hours[4][1][0]) // 2
        m = {
            # two hours after opening on an ordinary Monday-Thursday
            "open_weekday": self.at(wk, first[0] + 120),
            # the middle of the Friday prayer break
            "friday_break": self.at(fri, brk),
            # four hours after closing on that same ordinary weekday
            "closed_evening": self.at(wk, last[1] + 240),
            # mid-morning on a national holiday that falls on a weekday
            "holiday": self.at(hol, first[0] + 120),
        }
        assert self.is_open(m["open_weekday"])
        for k in ("friday_break", "closed_evening", "holiday"):
            assert not self.is_open(m[k]), k
        return m


CALENDAR = Calendar()
MOMENTS = CALENDAR.moments()
_clock_offset = 0


def pin(tmp, when):
    """Pins the clock of every process started in tmp to when (a name of
    MOMENTS or epoch seconds); they keep ticking from there. Returns the
    clock file."""
    global _clock_offset
    epoch = MOMENTS[when] if isinstance(when, str) else when
    _clock_offset = int(epoch - time.time())
    path = os.path.join(tmp, "clock")
    with open(path + ".new", "w") as f:
        f.write(f"{_clock_offset}\n")
    os.replace(path + ".new", path)  # never a half-written file
    return path


def now():
    """The pinned clock's now, in epoch seconds (what simpuld sees)."""
    return time.time() + _clock_offset


def clock_env(tmp, clock=None):
    return dict(os.environ,
                SIMPUL_FAKE_CLOCK_FILE=clock or os.path.join(tmp, "clock"))


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    end = time.monotonic() + timeout * TIMEOUT_SCALE
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Sim:
    """simpul-modemsim on a pseudo-terminal, with a control socket."""

    def __init__(self, tmp, profile="sim800", args=()):
        self.tmp = tmp
        self.ctl_path = os.path.join(tmp, "sim.ctl")
        self.link = os.path.join(tmp, "modem")
        self.proc = subprocess.Popen(
            [MODEMSIM, "--profile", profile, "--control", self.ctl_path,
             "--link", self.link, *args],
            env=clock_env(tmp), stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "sim.log"), "w"),
            text=True)
        self.pty = self.proc.stdout.readline().strip()
        if not self.pty:
            raise RuntimeError("modem simulator did not start")
        wait_for(lambda: os.path.exists(self.ctl_path), what="sim control")

    def ctl(self, line, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout * TIMEOUT_SCALE)
        s.connect(self.ctl_path)
        s.sendall((line + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        reply = data.decode().strip()
        if not reply.startswith("OK"):
            raise RuntimeError(f"sim: {line!r}: {reply}")
        return reply[2:].strip()

    def sms(self, sender, text):
        return self.ctl(f"sms {sender} " + text.replace("\n", "\\n"))

    def sent(self):
        return json.loads(self.ctl("sent"))

    def pdu(self, hexpdu):
        return self.ctl(f"pdu {hexpdu}")

    def stored(self):
        return json.loads(self.ctl("stored"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def gsm7_pack(text):
    """GSM-7 septets packed into octets (TS 23.038 6.1.2.1.1); letters,
    digits and space are the same as ASCII in the default alphabet."""
    bits = acc = 0
    out = bytearray()
    for ch in text.encode("ascii"):
        acc |= ch << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        out.append(acc)
    return bytes(out)


def deliver_pdu(sender, text, alnum=True, scts="62118200000082"):
    """An SMS-DELIVER (SMSC octet 00, TS 23.040 9.2.2.1) from sender; with
    alnum the TP-OA has type of number 101 (TS 23.040 9.1.2.5), whatever
    its characters."""
    if alnum:
        packed = gsm7_pack(sender)
        oa = bytes([(len(sender) * 7 + 3) // 4, 0xD0]) + packed
    else:
        digits = sender.lstrip("+")
        sw = "".join(b + a for a, b in zip(digits[0::2], (digits + "F")[1::2]))
        oa = bytes([len(digits), 0x91]) + bytes.fromhex(sw)
    ud = gsm7_pack(text)
    tpdu = (bytes([0x04]) + oa + bytes([0x00, 0x00]) + bytes.fromhex(scts)
            + bytes([len(text)]) + ud)
    return "00" + tpdu.hex().upper()


class Daemon:
    """simpuld with a config in its own temporary directory."""

    def __init__(self, tmp, modem_device=None, graph_url=None, extra=None,
                 rules_dir=None, clock=None):
        self.tmp = tmp
        # clock: another clock file than the test's (a daemon whose clock
        # is off from the network's)
        self.env = clock_env(tmp, clock)
        self.port = free_port()
        self.sock = os.path.join(tmp, "simpul.sock")
        self.db = os.path.join(tmp, "simpul.db")
        self.conf = os.path.join(tmp, "simpul.ini")
        self.log = os.path.join(tmp, "simpuld.log")
        self.proc = None
        sections = {
            "general": {"own_number": "+6281100000000", "log_level": "debug"},
            "modem": {"enabled": "yes" if modem_device else "no",
                      "device": modem_device or "auto",
                      "command_timeout": "3000",
                      # the simulator takes an SMS at once; its 'hang' fault
                      # is a +CMGS never answered ('slow' up to 20 s)
                      "send_timeout": "25000"},
            "store": {"path": self.db,
                      "media_dir": os.path.join(tmp, "media")},
            "http": {"listen": f"127.0.0.1:{self.port}",
                     "socket": self.sock,
                     "web_root": os.path.join(TOP, "daemon", "web", "ui")},
            "whatsapp": {"enabled": "yes" if graph_url else "no",
                         "verify_token": VERIFY_TOKEN,
                         "app_secret": APP_SECRET,
                         "access_token": ACCESS_TOKEN,
                         "phone_number_id": PHONE_ID,
                         "graph_url": graph_url or "http://127.0.0.1:9"},
            "rules": {"dir": rules_dir or os.path.join(TOP, "etc", "rules.d"),
                      "holidays": os.path.join(TOP, "etc", "holidays.ini")},
            "rt": {"file": os.path.join(TOP, "etc", "rt.ini")},
            "outbox": {"sms_interval_ms": "0", "retry_base_ms": "300"},
        }
        for sec, kv in (extra or {}).items():
            sections.setdefault(sec, {}).update(kv)
        self.write_config(sections)

    def write_config(self, sections):
        with open(self.conf, "w") as f:
            for sec, kv in sections.items():
                f.write(f"[{sec}]\n")
                for k, v in kv.items():
                    f.write(f"{k} = {v}\n")
                f.write("\n")
        self.sections = sections

    def start(self, wait=True):
        self.logf = open(self.log, "a")
        # SIMPUL_WRAP="valgrind ..." runs simpuld under a tool
        # (tests/valgrind); the wrapper reports through its own log files.
        wrap = shlex.split(os.environ.get("SIMPUL_WRAP", ""))
        self.proc = subprocess.Popen(wrap + [SIMPULD, "-f", "-c", self.conf],
                                     env=self.env, stdout=self.logf,
                                     stderr=self.logf)
        if wait:
            wait_for(lambda: self.alive_socket(), what="simpuld socket")
        return self

    def alive_socket(self):
        if self.proc.poll() is not None:
            raise AssertionError("simpuld exited:\n" + self.read_log())
        if not os.path.exists(self.sock):
            return False
        r = subprocess.run([SIMPULCTL, "-c", self.conf, "status"],
                           env=self.env, capture_output=True, text=True)
        return r.returncode == 0

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, check=True):
        r = subprocess.run([SIMPULCTL, "-c", self.conf, *args],
                           env=self.env, capture_output=True, text=True,
                           timeout=60 * TIMEOUT_SCALE)
        if check and r.returncode != 0:
            raise AssertionError(f"simpulctl {args}: rc={r.returncode}\n"
                                 f"{r.stdout}{r.stderr}")
        return r

    def inbox(self, limit=10000):
        return json.loads(self.ctl("inbox", "--json", "--limit",
                                   str(limit)).stdout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def kill(self):
        # tests/valgrind: a SIGKILLed simpuld writes no valgrind summary;
        # listing its pid tells that check it was killed on purpose.
        killed = os.environ.get("SIMPUL_KILLED_LOG")
        if killed:
            with open(killed, "a") as f:
                f.write(f"{self.proc.pid}\n")
        self.proc.kill()
        self.proc.wait()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def sign(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def unix_request(sock_path, method, path, obj=None):
    """A request over simpuld's local socket (trusted, like simpulctl).
    Returns (status, body bytes)."""
    import http.client

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(30)
            self.sock.connect(sock_path)
    c = Conn("localhost")
    body = json.dumps(obj).encode() if obj is not None else None
    c.request(method, path, body=body,
              headers={"Content-Type": "application/json"} if body else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def post_webhook(d, payload, secret=APP_SECRET, signature=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    h = {"Content-Type": "application/json"}
    sig = signature if signature is not None else sign(body, secret)
    if sig:
        h["X-Hub-Signature-256"] = sig
    return http("POST", d.url("/webhook/whatsapp"), body, h)


def wa_text(wamid, frm, text, name="Warga", ts=None):
    """A webhook payload with one text message (Meta's documented shape)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281100000000",
                         "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": frm}],
            "messages": [{"from": frm, "id": wamid,
                          "timestamp": str(ts or int(now())),
                          "type": "text", "text": {"body": text}}]}}]}]}


class FakeGraph:
    def __init__(self, tmp):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TOP, "tests", "fakegraph.py"),
             "--port", "0", "--token", ACCESS_TOKEN, "--phone-id", PHONE_ID],
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "graph.log"), "w"),
            text=True)
        self.url = self.proc.stdout.readline().strip()

    def requests(self):
        return json.loads(http("GET", self.url + "/_control/requests")[1])

    def script(self, **kw):
        return http("POST", self.url + "/_control/script",
                    json.dumps(kw).encode(),
                    {"Content-Type": "application/json"})

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:  # a stalled server: no hang
            self.proc.kill()
            self.proc.wait()


class Case(unittest.TestCase):
    """Gives each test a temporary directory, stopped processes after."""

    # the instant every test starts at, unless it pins another
    moment = "open_weekday"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simpul-test-")
        self.procs = []
        self.clock = pin(self.tmp, self.moment)

    def pin(self, when):
        """Moves the daemon's and the simulator's clock to when (a name of
        MOMENTS or epoch seconds); they tick on from there."""
        return pin(self.tmp, when)

    def tearDown(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:
                pass
        failed = any(e for _, e in getattr(self._outcome, "errors", []) if e) \
            if hasattr(self._outcome, "errors") else False
        if os.environ.get("SIMPUL_KEEP") or failed:
            print(f"(kept {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def sim(self, **kw):
        s = Sim(self.tmp, **kw)
        self.procs.append(s)
        return s

    def daemon(self, **kw):
        d = Daemon(self.tmp, **kw)
        self.procs.append(d)
        return d

    def graph(self):
        g = FakeGraph(self.tmp)
        self.procs.append(g)
        return g


def main():
    # Test names on the command line (Class.test_name) run only those.
    mod = sys.modules["__main__"]
    names = [a for a in sys.argv[1:] if not a.startswith("-")]
    loader = unittest.defaultTestLoader
    suite = (loader.loadTestsFromNames(names, mod) if names
             else loader.loadTestsFromModule(mod))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    sys.exit(report(res))


def report(res):
    """Prints the count line tests/run reads; skips are not passes, and
    a file that ran nothing fails. Returns the exit status."""
    failed = len(res.failures) + len(res.errors) + \
        len(getattr(res, "unexpectedSuccesses", []))
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or res.testsRun == 0 else 0
