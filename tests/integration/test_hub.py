"""The city hub end to end (issue 20): a real mosquitto and a real
PostgreSQL on loopback, the real simpul-hub, and 20 simulated offices
(simpul-evsim: the office's real event log and MQTT publisher in the real
poll loop). The broker is stopped and restarted twice while the offices
publish, one office is offline for the first half, one office is killed
and restarted; afterwards PostgreSQL holds every event exactly once and
in order per office, no phone number left any office, and the dashboard
shows the numbers a count made directly in SQL gives."""
import csv
import glob
import io
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import BUILD, free_port, wait_for

HUB = os.path.join(BUILD, "hub", "simpul-hub")
EVSIM = os.path.join(BUILD, "tests", "hub", "simpul-evsim")
PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
PG_BIN = PG_BINS[-1] if PG_BINS else None
OFFICES = 20
EVENTS = 1000


class Postgres:
    """initdb + pg_ctl in a temporary directory, as a non-root user (the
    server refuses to run as root; CI runs as root, so use nobody)."""

    def __init__(self, tmp, fsync=False):
        self.dir = os.path.join(tmp, "pg")
        self.port = free_port()
        os.mkdir(self.dir, 0o700)
        self.prefix = []
        if os.getuid() == 0:
            os.chmod(tmp, 0o755)
            os.chown(self.dir, pwd.getpwnam("nobody").pw_uid, -1)
            self.prefix = ["runuser", "-u", "nobody", "--"]
        self.run("initdb", "-D", self.dir, "-U", "hub", "-A", "trust",
                 "--no-sync")
        self.run("pg_ctl", "-D", self.dir, "-w", "-l",
                 os.path.join(self.dir, "log"), "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                 + ("" if fsync else " -c fsync=off"), "start")
        self.sql("CREATE DATABASE hub", db="postgres")
        self.conninfo = (f"host=127.0.0.1 port={self.port} user=hub"
                         " dbname=hub")

    def run(self, prog, *args):
        subprocess.run(self.prefix + [os.path.join(PG_BIN, prog), *args],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def sql(self, q, db="hub"):
        r = subprocess.run(
            [os.path.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p",
             str(self.port), "-U", "hub", "-d", db, "-AtF,", "-v",
             "ON_ERROR_STOP=1", "-c", q],
            check=True, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        return [line.split(",") for line in r.stdout.splitlines() if line]

    def count(self):
        try:
            return int(self.sql("SELECT count(*) FROM events")[0][0])
        except subprocess.CalledProcessError:
            return 0  # the hub has not created the schema yet

    def stop(self):
        self.run("pg_ctl", "-D", self.dir, "-w", "-m", "fast", "stop")


class Broker:
    """mosquitto with its own config; persistence on, so what it took
    from an office survives a stop for the hub's persistent session."""

    def __init__(self, tmp):
        self.port = free_port()
        self.dir = os.path.join(tmp, "mosq")
        os.mkdir(self.dir)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as fh:
            fh.write(f"listener {self.port} 127.0.0.1\n"
                     "allow_anonymous true\npersistence true\n"
                     f"persistence_location {self.dir}/\n"
                     "max_queued_messages 0\n"
                     f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
                     f"log_dest file {self.dir}/log\n")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(self.listening, what="mosquitto listening")

    def listening(self):
        import socket
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", self.port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        # SIGTERM: mosquitto writes its persistence file before it exits.
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class Office:
    def __init__(self, tmp, n, port):
        self.name = f"kel-{n:02d}"
        self.db = os.path.join(tmp, f"{self.name}.db")
        self.port = port
        self.proc = None
        self.log = open(os.path.join(tmp, f"{self.name}.log"), "a")

    def argv(self, *extra):
        return [EVSIM, "--db", self.db, "--office", self.name, "--port",
                str(self.port), "--events", str(EVENTS), *extra]

    def start(self, gate):
        self.proc = subprocess.Popen(self.argv("--every-ms", "2", "--gate",
                                               gate),
                                     stdout=self.log, stderr=self.log)

    def append_offline(self, n):
        subprocess.run([EVSIM, "--db", self.db, "--office", self.name,
                        "--port", str(self.port), "--events", str(n),
                        "--offline"], check=True)

    def appended(self):
        if not os.path.exists(self.db):
            return 0
        c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            r = c.execute("SELECT seq FROM sqlite_sequence"
                          " WHERE name = 'evlog'").fetchone()
            return r[0] if r else 0
        except sqlite3.OperationalError:
            return 0
        finally:
            c.close()


@unittest.skipUnless(PG_BIN and shutil.which("mosquitto")
                     and os.path.exists(HUB) and os.path.exists(EVSIM),
                     "mosquitto, PostgreSQL or simpul-hub not built")
class HubFixture(unittest.TestCase):
    """PostgreSQL, mosquitto and simpul-hub, each in the test's directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="simpul-hub-")
        self.pg = Postgres(self.tmp)
        self.broker = Broker(self.tmp)
        self.http = free_port()
        conf = os.path.join(self.tmp, "hub.conf")
        with open(conf, "w") as fh:
            fh.write(f"[postgres]\nconninfo = {self.pg.conninfo}\n"
                     f"[mqtt]\nhost = 127.0.0.1\nport = {self.broker.port}\n"
                     f"client_id = hub-test\n[http]\nport = {self.http}\n")
        subprocess.run([HUB, "--config", conf, "--add-user", "camat"],
                       input="rahasia-kota\n", text=True, check=True)
        self.hub = subprocess.Popen(
            [HUB, "--config", conf],
            stderr=open(os.path.join(self.tmp, "hub.log"), "w"))
        # Up means subscribed: from then on the broker keeps the events.
        wait_for(self.hub_up, what="hub subscribed")
        self.offices = [Office(self.tmp, i, self.broker.port)
                        for i in range(OFFICES)]
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
        for o in getattr(self, "offices", []):
            if o.proc and o.proc.poll() is None:
                o.proc.kill()
                o.proc.wait()
        if self.hub.poll() is None:
            self.hub.terminate()
            self.hub.wait(timeout=30)
        if self.broker.proc.poll() is None:
            self.broker.stop()
        if os.environ.get("SIMPUL_KEEP"):
            print(self.tmp, self.pg.sql("SELECT office, count(*), max(seq)"
                                        " FROM events GROUP BY office"))
        self.pg.stop()
        if not os.environ.get("SIMPUL_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def hub_up(self):
        try:
            return urllib.request.urlopen(
                f"http://127.0.0.1:{self.http}/healthz").read() == b"ok\n"
        except OSError:
            return False

    def set_gate(self, n):
        """The offices log events up to n (they poll this file)."""
        tmp = self.gate + ".new"
        with open(tmp, "w") as fh:
            fh.write(f"{n}\n")
        os.replace(tmp, self.gate)

    def outage(self, offices, gate, restart=None):
        """Lets the offices log up to gate and stops the broker at once,
        so it goes down mid-stream; restarts it once every office has
        logged up to gate (restart() runs while it is down)."""
        self.set_gate(gate)
        self.broker.stop()
        for o in offices:
            wait_for(lambda: o.appended() >= gate, timeout=120,
                     what=f"{o.name} logging while the broker is down")
        if restart:
            restart()
        self.broker.start()

    def login(self):
        jar = urllib.request.HTTPCookieProcessor()
        opener = urllib.request.build_opener(jar)
        body = urllib.parse.urlencode({"name": "camat",
                                       "password": "rahasia-kota"})
        opener.open(f"http://127.0.0.1:{self.http}/login",
                    data=body.encode()).read()
        return opener



class HubTest(HubFixture):
    def test_twenty_offices_through_two_outages(self):
        self.gate = os.path.join(self.tmp, "gate")
        late, first = self.offices[-1], self.offices[:-1]
        late.append_offline(EVENTS // 2)  # offline for the first half
        self.set_gate(300)
        for o in first:
            o.start(self.gate)
        wait_for(lambda: self.pg.count() >= 19 * 300, timeout=120,
                 what="the first 300 events of each office")
        self.outage(first, 500)
        wait_for(lambda: self.pg.count() >= 19 * 300 + 1000, timeout=120,
                 what="the backlog flowing after the first outage")

        def restart_office0():
            # Office 0 dies hard and comes back: it resends only what the
            # broker has not acknowledged.
            self.offices[0].proc.kill()
            self.offices[0].proc.wait()
            self.offices[0].start(self.gate)

        self.outage(first, 800, restart_office0)
        late.start(self.gate)  # the offline office comes online
        self.set_gate(EVENTS)
        for o in self.offices:
            wait_for(lambda: o.proc.poll() is not None, timeout=120,
                     what=f"{o.name} acknowledged")
            self.assertEqual(o.proc.returncode, 0, o.name)
        total = OFFICES * EVENTS
        wait_for(lambda: self.pg.count() >= total, timeout=30,
                 what="every event in PostgreSQL")

        # Exactly once, 1..1000 with no gap, per office.
        rows = self.pg.sql("SELECT office, count(*), count(DISTINCT seq),"
                           " min(seq), max(seq) FROM events"
                           " GROUP BY office ORDER BY office")
        self.assertEqual(len(rows), OFFICES)
        for office, n, distinct, lo, hi in rows:
            self.assertEqual((int(n), int(distinct), int(lo), int(hi)),
                             (EVENTS, EVENTS, 1, EVENTS), office)
        # In order: in arrival order each event follows its predecessor.
        self.assertEqual(self.pg.sql(
            "SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY"
            " office ORDER BY id) AS prev FROM events) x"
            " WHERE prev IS NOT NULL AND seq <> prev + 1"), [["0"]])
        self.assertEqual(self.pg.sql(
            "SELECT sum(out_of_order), sum(events) FROM offices"),
            [["0", str(total)]])
        # Personal data stays on the Pi: no phone number, no detail.
        self.assertEqual(self.pg.sql(
            "SELECT count(*) FROM events WHERE detail IS NOT NULL OR"
            " channel || category || ticket LIKE '%+62%'"), [["0"]])

        self.check_dashboard()

    def check_dashboard(self):
        base = f"http://127.0.0.1:{self.http}"
        # Without a session there is only the login page.
        anon = urllib.request.urlopen(base + "/export.csv")
        self.assertTrue(anon.geturl().endswith("/login"))
        web = self.login()
        page = web.open(base + "/").read().decode()
        self.assertIn(f"simpul kota: {OFFICES} kelurahan", page)
        self.assertEqual(page.count("<svg"), 2)
        got = list(csv.DictReader(io.StringIO(
            web.open(base + "/export.csv").read().decode())))
        # The same numbers, counted directly in SQL.
        want = self.pg.sql(
            "SELECT office,"
            " count(*) FILTER (WHERE kind = 'msg_in'),"
            " count(*) FILTER (WHERE kind = 'msg_out'),"
            " count(*) FILTER (WHERE kind = 'ticket_open') -"
            "  count(*) FILTER (WHERE kind = 'ticket_close'),"
            " count(*) FILTER (WHERE kind = 'ticket_open' AND due < now()"
            "  AND ticket NOT IN (SELECT ticket FROM events c WHERE"
            "  c.office = e.office AND c.kind = 'ticket_close')),"
            " count(*) FILTER (WHERE kind = 'ticket_close'),"
            " count(*) FILTER (WHERE kind = 'ticket_close' AND at <= due),"
            " count(*) FILTER (WHERE kind = 'rt_request'),"
            " count(*) FILTER (WHERE kind = 'rt_answer'),"
            " round(avg(value) FILTER (WHERE kind = 'rt_answer')),"
            " count(*) FILTER (WHERE kind = 'sla_breach'), count(*)"
            " FROM events e GROUP BY office ORDER BY office")
        self.assertEqual(len(got), OFFICES)
        cols = ["office", "msg_in", "msg_out", "open", "overdue", "closed",
                "closed_in_time", "rt_requests", "rt_answers", "rt_avg_s",
                "sla_breaches", "events"]
        for row, sql_row in zip(got, want):
            self.assertEqual([row[c] for c in cols], sql_row)
            self.assertEqual(int(row["sla_pct"]),
                             int(sql_row[6]) * 100 // int(sql_row[5]))
        # Page and CSV show what the offices sent, not zeros.
        self.assertEqual(sum(int(r["events"]) for r in got),
                         OFFICES * EVENTS)
        self.assertTrue(all(int(r["overdue"]) > 0 for r in got))


class SimpuldToHub(HubFixture):
    """simpuld itself with [events] on: an SMS from the modem simulator and
    its auto-reply reach the city's PostgreSQL, without the number or the
    text; a restart of simpuld stores nothing twice."""

    def count(self, where):
        return int(self.pg.sql("SELECT count(*) FROM events WHERE"
                               " office = 'kel-wenang' AND " + where)[0][0])

    def acked_metric(self, d):
        # on the socket: over TCP /metrics is only for [http] metrics_allow
        body = harness.unix_request(d.sock, "GET", "/metrics")[1].decode()
        for line in body.splitlines():
            if line.startswith('simpul_events_total{name="events_acked"}'):
                return int(line.split()[-1])
        return 0

    def test_sms_reaches_the_city_without_personal_data(self):
        sim = harness.Sim(self.tmp)
        d = harness.Daemon(self.tmp, modem_device=sim.link, extra={
            "events": {"enabled": "yes", "office": "kel-wenang",
                       "broker": "127.0.0.1", "port": str(self.broker.port),
                       "interval_ms": "100"}})
        self.procs = [sim, d]
        d.start()
        sim.sms("+6281234567890", "Selamat pagi, mau tanya syarat KK")
        wait_for(lambda: self.count("kind = 'msg_in' AND channel = 'sms'")
                 == 1 and self.count("kind = 'msg_out'") >= 1, timeout=60,
                 what="the SMS and its reply in PostgreSQL")
        self.assertGreaterEqual(self.count("kind = 'modem'"), 1)
        # /metrics counts what the broker acknowledged: all that arrived.
        wait_for(lambda: self.acked_metric(d) == self.count("true"),
                 what="events_acked on /metrics")
        self.assertEqual(self.count(
            "(detail IS NOT NULL OR concat_ws(' ', channel, category, ticket)"
            " ~ '(628|Selamat|syarat)')"), 0)
        d.stop()
        self.broker.stop()  # the restart's events wait in the store
        d.start()
        sim.sms("+6281234567891", "Mau tanya syarat KTP")
        self.broker.start()
        wait_for(lambda: self.count("kind = 'msg_in'") == 2, timeout=60,
                 what="the second SMS after the restart")
        n, distinct, top = self.pg.sql(
            "SELECT count(*), count(DISTINCT seq), max(seq) FROM events"
            " WHERE office = 'kel-wenang'")[0]
        self.assertEqual(n, distinct)
        self.assertEqual(n, top)  # 1..n, no gap
        self.assertEqual(self.pg.sql(
            "SELECT out_of_order FROM offices WHERE office = 'kel-wenang'"),
            [["0"]])


if __name__ == "__main__":
    harness.main()
