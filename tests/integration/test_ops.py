"""Operations: simpulctl doctor against the modem simulator (healthy, SIM
PIN, no registration, low credit, wrong clock, daemon down), simpulctl
backup while messages keep arriving, media retention, /metrics and
/healthz."""
import base64
import calendar
import hashlib
import http.client
import json
import os
import socket
import sqlite3
import stat
import threading
import time

import harness
from harness import Case, post_webhook, wa_text, wait_for

PIN = "1234"


class UnixHTTP(http.client.HTTPConnection):
    """HTTP over simpuld's unix socket (what simpulctl uses)."""

    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def local(d, method, path, body=None):
    c = UnixHTTP(d.sock)
    c.request(method, path, body=json.dumps(body) if body is not None
              else None, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def doctor_lines(d):
    r = d.ctl("doctor", check=False)
    lines = {}
    for line in r.stdout.splitlines():
        word, rest = line.split(None, 1)
        name = rest.split(":", 1)[0]
        lines[name] = (word, line)
    return r.returncode, lines


def wait_doctor(d, name, word, contains="", timeout=40):
    """Runs doctor until check name reads word (and contains text)."""
    last = {}

    def ok():
        rc, lines = doctor_lines(d)
        last["rc"], last["lines"] = rc, lines
        got = lines.get(name)
        return got and got[0] == word and contains in got[1]
    try:
        wait_for(ok, timeout=timeout, interval=0.5,
                 what=f"doctor {name} {word}")
    except AssertionError:
        raise AssertionError("doctor said:\n" + "\n".join(
            v[1] for v in last.get("lines", {}).values()))
    return last["rc"], last["lines"]


class DoctorTest(Case):
    def start(self, sim_args=(), modem=None, clock=None):
        """clock: seconds the daemon's clock is ahead of the network's."""
        dclock = None
        if clock is not None:
            dclock = self.dclock = os.path.join(self.tmp, "daemon-clock")
            with open(self.clock) as f:
                net = int(f.read())
            with open(dclock, "w") as f:
                f.write(str(net + clock))
        self.s = self.sim(args=sim_args)
        extra = {"modem": {"ussd_balance": "\"*888#\"",
                           "balance_interval": "60",
                           "low_credit": "5000", **(modem or {})}}
        self.d = self.daemon(modem_device=self.s.link, extra=extra,
                             clock=dclock).start()

    def test_healthy_modem_passes_every_check(self):
        self.start()
        # credit is asked 10 s after the modem is ready (simulator: 12.500)
        rc, lines = wait_doctor(self.d, "credit", "OK", "Rp12500")
        self.assertEqual(rc, 0, lines)
        for name in ("config", "modem_port", "modem_state", "sim", "signal",
                     "registration", "clock", "disk", "database",
                     "whatsapp"):
            self.assertEqual(lines[name][0], "OK", lines[name][1])
        self.assertIn("[registered on the network]",
                      lines["registration"][1])

    def test_sim_pin_without_configured_pin_fails(self):
        self.start(sim_args=("--pin", PIN))
        rc, lines = wait_doctor(self.d, "sim", "GAGAL", "SIM meminta PIN")
        self.assertEqual(rc, 1)
        self.assertIn("[modem] pin", lines["sim"][1])
        self.assertEqual(lines["modem_state"][0], "GAGAL")

    def test_sim_pin_configured_is_fine(self):
        self.start(sim_args=("--pin", PIN), modem={"pin": PIN})
        rc, lines = wait_doctor(self.d, "sim", "OK")
        self.assertNotEqual(lines["modem_state"][0], "GAGAL")

    def test_lost_registration_fails(self):
        self.start()
        wait_doctor(self.d, "registration", "OK")
        self.s.ctl("fault noreg 600")
        rc, lines = wait_doctor(self.d, "registration", "GAGAL",
                                "Tidak terdaftar")
        self.assertEqual(rc, 1)
        self.assertIn("not registered", lines["registration"][1])

    def test_low_credit_fails(self):
        self.start()
        self.s.ctl("credit 1.000")
        rc, lines = wait_doctor(self.d, "credit", "GAGAL", "Rp1000")
        self.assertEqual(rc, 1)
        self.assertIn("Pulsa rendah", lines["credit"][1])
        self.assertIn("batas Rp5000", lines["credit"][1])

    def test_clock_two_days_ahead_of_network_warns(self):
        self.start(clock=2 * 86400)
        rc, lines = wait_doctor(self.d, "clock", "PERINGATAN", "2880 menit")
        self.assertIn("timedatectl", lines["clock"][1])
        # a warning alone does not make doctor fail
        wait_doctor(self.d, "credit", "OK")
        rc, lines = doctor_lines(self.d)
        self.assertEqual(rc, 0, lines)
        # a Pi without RTC or NTP boots in 1970: that is a failure
        with open(self.dclock, "w") as f:
            f.write(str(-int(time.time()) + 86400))
        rc, lines = wait_doctor(self.d, "clock", "GAGAL", "sebelum 2024")
        self.assertEqual(rc, 1)

    def start_office(self, at, tz):
        """simpuld without a modem, believing it is at (a UTC time tuple),
        on a system whose time zone is tz. The shipped rules keep WITA
        (Asia/Makassar) and list holidays up to 25 December 2028."""
        self.clock = os.path.join(self.tmp, "clock")
        with open(self.clock, "w") as f:
            f.write(str(calendar.timegm(at) - int(time.time())))
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        old = os.environ.get("TZ")
        os.environ["TZ"] = tz
        self.addCleanup(lambda: os.environ.__setitem__("TZ", old)
                        if old is not None else os.environ.pop("TZ", None))
        self.d = self.daemon().start()

    def test_holidays_running_out_warns(self):
        # 1 November 2028: the list ends in 54 days
        self.start_office((2028, 11, 1, 2, 0, 0), "Asia/Makassar")
        rc, lines = doctor_lines(self.d)
        self.assertEqual(lines["holidays"][0], "PERINGATAN", lines)
        self.assertIn("hanya sampai 25/12/2028 (54 hari lagi)",
                      lines["holidays"][1])
        self.assertIn("holidays.ini", lines["holidays"][1])
        self.assertEqual(rc, 0, lines)  # a warning does not fail doctor
        # two months earlier there is still time: no warning
        with open(self.clock, "w") as f:
            f.write(str(calendar.timegm((2028, 9, 1, 2, 0, 0))
                        - int(time.time())))
        rc, lines = doctor_lines(self.d)
        self.assertEqual(lines["holidays"][0], "OK", lines["holidays"][1])
        self.assertIn("sampai 25/12/2028", lines["holidays"][1])

    def test_office_zone_other_than_system_zone_warns(self):
        # a Pi set to WIB in an office whose rules say WITA
        self.start_office((2026, 11, 24, 2, 0, 0), "Asia/Jakarta")
        rc, lines = doctor_lines(self.d)
        self.assertEqual(lines["timezone"][0], "PERINGATAN", lines)
        self.assertIn("Asia/Makassar (UTC+8)", lines["timezone"][1])
        self.assertIn("(UTC+7)", lines["timezone"][1])
        self.assertIn("timedatectl set-timezone Asia/Makassar",
                      lines["timezone"][1])
        self.assertEqual(lines["holidays"][0], "OK", lines["holidays"][1])

    def test_office_zone_same_as_system_zone_is_fine(self):
        self.start_office((2026, 11, 24, 2, 0, 0), "Asia/Makassar")
        rc, lines = doctor_lines(self.d)
        self.assertEqual(lines["timezone"][0], "OK", lines["timezone"][1])

    def test_daemon_down_still_checks_config(self):
        d = self.daemon()
        r = d.ctl("doctor", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("simpuld tidak bisa dihubungi", r.stdout)
        self.assertRegex(r.stdout, r"OK +config:")
        # a broken rules directory shows up in the offline check too
        rules = os.path.join(self.tmp, "rules.d")
        os.mkdir(rules)
        with open(os.path.join(rules, "bad.ini"), "w") as f:
            f.write("[rule halo]\nnot a key line\n")
        d.sections["rules"]["dir"] = rules
        d.write_config(d.sections)
        r = d.ctl("doctor", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"GAGAL +config:")


class BackupTest(Case):
    def setUp(self):
        super().setUp()
        self.g = self.graph()
        self.s = self.sim()
        self.d = self.daemon(modem_device=self.s.link,
                             graph_url=self.g.url).start()

    def ingest(self, stop, counts):
        # Runs in a thread: any error is kept and reported by the test,
        # not lost with the thread.
        n = 0
        try:
            while not stop.is_set():
                n += 1
                st, body = post_webhook(self.d, wa_text(
                    f"wamid.bk{n}", f"62812{n % 50:07d}", f"pesan {n}"))
                if st != 200:
                    raise AssertionError(f"webhook {n}: {st} {body!r}")
                counts["wa"] += 1
                if n % 5 == 0:
                    self.s.sms(f"+62813{n % 30:07d}", f"sms {n}")
                    counts["sms"] += 1
        except Exception as e:  # noqa: BLE001 - handed to the test
            counts["error"] = repr(e)

    def check_copy(self, path):
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertFalse(os.path.exists(path + ".tmp"))
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone(),
                             ("ok",))
            n = db.execute("SELECT count(*) FROM messages").fetchone()[0]
            orphans = db.execute(
                "SELECT count(*) FROM messages m"
                " LEFT JOIN conversations c ON c.id = m.conversation_id"
                " LEFT JOIN contacts k ON k.id = m.contact_id"
                " WHERE c.id IS NULL OR k.id IS NULL").fetchone()[0]
            conv_orphans = db.execute(
                "SELECT count(*) FROM conversations c"
                " LEFT JOIN contacts k ON k.id = c.contact_id"
                " WHERE k.id IS NULL").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(orphans, 0)
        self.assertEqual(conv_orphans, 0)
        return n

    def test_backup_while_ingesting_is_consistent(self):
        stop = threading.Event()
        counts = {"wa": 0, "sms": 0}
        t = threading.Thread(target=self.ingest, args=(stop, counts))
        t.start()
        try:
            wait_for(lambda: counts["wa"] >= 20, what="ingest running")
            sizes = []
            for i in range(3):
                path = os.path.join(self.tmp, f"cadangan-{i}.db")
                before = len(self.d.inbox())
                r = self.d.ctl("backup", path)
                after = len(self.d.inbox())
                self.assertIn(path, r.stdout)
                n = self.check_copy(path)
                # a snapshot: everything stored before the backup began,
                # nothing the daemon had not stored when it ended
                self.assertGreaterEqual(n, before)
                self.assertLessEqual(n, after)
                sizes.append(n)
            self.assertGreater(sizes[0], 0)
            self.assertGreaterEqual(sizes[-1], sizes[0])
        finally:
            stop.set()
            t.join()
        self.assertNotIn("error", counts)
        # a relative name lands in simpulctl's directory, absolute
        r = self.d.ctl("backup", "relative.db", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(os.path.join(os.getcwd(), "relative.db"), r.stdout)
        os.unlink(os.path.join(os.getcwd(), "relative.db"))

    def test_backup_refused_over_tcp_and_bad_paths(self):
        st, _ = harness.http("POST", self.d.url("/api/v1/backup"),
                             json.dumps({"path": "/tmp/x.db"}).encode(),
                             {"Content-Type": "application/json"})
        self.assertIn(st, (401, 403))
        st, body = local(self.d, "POST", "/api/v1/backup", {"path": "x.db"})
        self.assertEqual(st, 400)
        st, body = local(self.d, "POST", "/api/v1/backup",
                         {"path": os.path.join(self.tmp, "no", "dir.db")})
        self.assertEqual(st, 500)
        self.assertIn(b"cannot create", body)


class RetentionTest(Case):
    def test_old_media_deleted_and_marked(self):
        g = self.graph()
        d = self.daemon(graph_url=g.url,
                        extra={"store": {"media_retention_days": "30"}})
        d.start()
        data = b"\xff\xd8\xff\xe0" + os.urandom(3000)
        harness.http("POST", g.url + "/_control/media", json.dumps({
            "id": "MEDIA501", "data_b64": base64.b64encode(data).decode(),
            "mime_type": "image/jpeg"}).encode(),
            {"Content-Type": "application/json"})
        p = wa_text("wamid.RET1", "6281234500001", "")
        msg = p["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "image"
        del msg["text"]
        msg["image"] = {"id": "MEDIA501", "mime_type": "image/jpeg",
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "caption": "foto KTP"}
        self.assertEqual(post_webhook(d, p)[0], 200)

        def media():
            m = [m for m in d.inbox() if m["direction"] == "in"]
            return json.loads(m[0]["media"]) if m and m[0].get("media") \
                else {}
        path = wait_for(lambda: media().get("file"), what="media stored")
        self.assertTrue(path.startswith(os.path.join(self.tmp, "media")))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

        # a sweep inside the retention period keeps it
        st, body = local(d, "POST", "/api/v1/retention/run", {})
        self.assertEqual(st, 200, body)
        self.assertTrue(os.path.exists(path))
        self.assertEqual(media().get("file"), path)

        self.pin(harness.now() + 31 * 86400)
        st, body = local(d, "POST", "/api/v1/retention/run", {})
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body)["files_deleted"], 1)
        self.assertFalse(os.path.exists(path))
        m = media()
        self.assertNotIn("file", m)
        self.assertEqual(m["deleted"], "dihapus setelah 30 hari")
        self.assertEqual(m["id"], "MEDIA501")
        # the message itself stays, caption and all
        self.assertIn("foto KTP", [x["body"] for x in d.inbox()])
        metrics = local(d, "GET", "/metrics")[1].decode()
        self.assertIn("simpul_media_deleted_total 1", metrics)


class MetricsTest(Case):
    def test_metrics_count_messages_and_errors(self):
        g = self.graph()
        d = self.daemon(graph_url=g.url,
                        extra={"http": {"metrics_allow": "127.0.0.1"}}).start()
        for i in range(3):
            self.assertEqual(post_webhook(d, wa_text(
                f"wamid.M{i}", f"6281234500{i:03d}", "halo"))[0], 200)
        self.assertEqual(post_webhook(d, wa_text("wamid.X", "628123", "x"),
                                      signature="sha256=00")[0], 401)
        self.assertEqual(post_webhook(d, b"{not json")[0], 400)
        st, body = harness.http("GET", d.url("/metrics"))
        self.assertEqual(st, 200)
        text = body.decode()
        self.assertIn(
            'simpul_messages_total{channel="whatsapp",direction="in"} 3',
            text)
        self.assertIn('simpul_webhook_errors_total{reason="signature"} 1',
                      text)
        self.assertIn('simpul_webhook_errors_total{reason="payload"} 1',
                      text)
        self.assertIn('simpul_modem_state{state="disabled"} 1', text)
        self.assertIn("simpul_rule_suppressions_total", text)
        self.assertRegex(text, r"simpul_uptime_seconds \d+")
        # through a reverse proxy on the Pi it is someone else asking
        st, _ = harness.http("GET", d.url("/metrics"),
                             headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(st, 403)
        # same over the socket
        st, body = local(d, "GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertIn(b"simpul_up 1", body)

    def test_metrics_over_tcp_only_to_listed_addresses(self):
        # Empty [http] metrics_allow (the default): not even loopback.
        d = self.daemon().start()
        self.assertEqual(harness.http("GET", d.url("/metrics"))[0], 403)
        self.assertEqual(local(d, "GET", "/metrics")[0], 200)

    def test_healthz(self):
        d = self.daemon().start()
        self.assertEqual(harness.http("GET", d.url("/healthz")),
                         (200, b"ok\n"))

    def test_doctor_only_over_the_socket(self):
        d = self.daemon().start()
        st, _ = harness.http("GET", d.url("/api/v1/doctor"))
        self.assertIn(st, (401, 403))
        st, body = local(d, "GET", "/api/v1/doctor")
        self.assertEqual(st, 200)
        j = json.loads(body)
        self.assertTrue(j["ok"])
        for c in j["checks"]:
            self.assertEqual(set(c), {"name", "ok", "level", "message_id",
                                      "text_id", "text_en", "fix",
                                      "fix_en"})


if __name__ == "__main__":
    harness.main()
