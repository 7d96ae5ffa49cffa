"""Test harness: the real simpuld, simpulctl and simpul-modemsim from the
build directory, in a temporary directory of their own."""
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


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    end = time.monotonic() + timeout
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
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "sim.log"), "w"),
            text=True)
        self.pty = self.proc.stdout.readline().strip()
        if not self.pty:
            raise RuntimeError("modem simulator did not start")
        wait_for(lambda: os.path.exists(self.ctl_path), what="sim control")

    def ctl(self, line, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
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
                 rules_dir=None):
        self.tmp = tmp
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
                      "command_timeout": "3000"},
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
                                     stdout=self.logf, stderr=self.logf)
        if wait:
            wait_for(lambda: self.alive_socket(), what="simpuld socket")
        return self

    def alive_socket(self):
        if self.proc.poll() is not None:
            raise AssertionError("simpuld exited:\n" + self.read_log())
        if not os.path.exists(self.sock):
            return False
        r = subprocess.run([SIMPULCTL, "-c", self.conf, "status"],
                           capture_output=True, text=True)
        return r.returncode == 0

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, check=True):
        r = subprocess.run([SIMPULCTL, "-c", self.conf, *args],
                           capture_output=True, text=True, timeout=60)
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
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill(self):
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
                          "timestamp": str(ts or int(time.time())),
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
        self.proc.wait()


class Case(unittest.TestCase):
    """Gives each test a temporary directory, stopped processes after."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simpul-test-")
        self.procs = []

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
    failed = len(res.failures) + len(res.errors)
    passed = res.testsRun - failed - len(res.skipped)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
